// Network records: the JSON round trip, strict validation of names (a damaged record must
// never make reconcile touch a non-fleetbox interface), and the file operations in a
// directory (atomic write, list only fbx-<hex>.json, remove, a record for another bridge).
#include "net/network_record.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox {
namespace {

NetworkRecord sample() {
    NetworkRecord r;
    r.bridge = "fbx-1a2b3c4d";
    r.subnet = "192.168.3.0/24";
    r.cluster = "web";
    r.owner = {4242, 123456};
    r.taps = {{"fbt-0badcafe", {4300, 123999}}, {"fbt-00000001", {}}};
    r.uplink = "eth0";
    r.uplink_forwarding_orig = 0;
    return r;
}

TEST(NetworkRecord, RoundTripsThroughIndentedJson) {
    const NetworkRecord r = sample();
    const std::string text = encode_record(r);
    EXPECT_NE(text.find("\n  \"bridge\": \"fbx-1a2b3c4d\""), std::string::npos) << text;
    const auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["owner"]["pid"], 4242);
    EXPECT_EQ(j["owner"]["start_time"], 123456);
    EXPECT_EQ(j["taps"][0]["qemu_pid"], 4300);
    EXPECT_EQ(j["taps"][1]["qemu_start_time"], 0);
    EXPECT_EQ(j["uplink_forwarding_orig"], 0);
    auto back = decode_record(text, "x");
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, r);
}

TEST(NetworkRecord, UplinkOriginalIsOmittedWhenUnchanged) {
    NetworkRecord r = sample();
    r.uplink_forwarding_orig.reset();
    const auto j = nlohmann::json::parse(encode_record(r));
    EXPECT_FALSE(j.contains("uplink_forwarding_orig"));
    EXPECT_EQ(*decode_record(encode_record(r), "x"), r);
}

TEST(NetworkRecord, RejectsForeignNamesAndBadJson) {
    auto with = [](auto change) {
        auto j = nlohmann::json::parse(encode_record(sample()));
        change(j);
        return decode_record(j.dump(), "networks/fbx-1a2b3c4d.json");
    };
    auto eth = with([](auto& j) { j["bridge"] = "eth0"; });
    ASSERT_FALSE(eth);
    EXPECT_EQ(eth.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(eth.error().message().find("'eth0' is not a fleetbox bridge name"), std::string::npos)
        << eth.error().message();
    EXPECT_FALSE(with([](auto& j) { j["taps"][0]["name"] = "lo"; }));
    EXPECT_FALSE(with([](auto& j) { j["subnet"] = "192.168.3.7/24"; }));
    EXPECT_FALSE(with([](auto& j) { j.erase("owner"); }));
    EXPECT_FALSE(with([](auto& j) { j["owner"]["pid"] = -3; }));
    EXPECT_FALSE(with([](auto& j) { j["uplink"] = "../all"; }));
    EXPECT_FALSE(decode_record("{not json", "x"));
    EXPECT_FALSE(decode_record("[]", "x"));
}

TEST(NetworkRecord, FilesAreWrittenListedReadAndRemoved) {
    test::ScratchDir dir;
    const NetworkRecord r = sample();
    ASSERT_TRUE(write_record(dir.path(), r));
    test::write_text(dir.file("fwd-eth0.orig"), "0\n");
    test::write_text(dir.file("notes.json"), "{}");
    test::write_text(dir.file(".fbx-00000000.json.tmp-abc"), "{");
    auto listed = list_records(dir.path());
    ASSERT_TRUE(listed) << listed.error().message();
    EXPECT_EQ(*listed, std::vector<std::string>{dir.file("fbx-1a2b3c4d.json")});
    auto read = read_record(listed->front());
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(*read, r);

    ASSERT_TRUE(remove_record(dir.path(), r.bridge));
    EXPECT_FALSE(path_exists(dir.file("fbx-1a2b3c4d.json")));
    EXPECT_TRUE(remove_record(dir.path(), r.bridge)) << "a missing record is fine";
    EXPECT_TRUE(list_records(dir.path())->empty());
    EXPECT_TRUE(list_records(dir.file("missing"))->empty());
}

TEST(NetworkRecord, AFileNamedForAnotherBridgeIsCorrupt) {
    test::ScratchDir dir;
    test::write_text(dir.file("fbx-00000000.json"), encode_record(sample()));
    auto read = read_record(dir.file("fbx-00000000.json"));
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().kind, ErrorKind::Corrupt);
    NetworkRecord bad = sample();
    bad.bridge = "../../etc/x";
    EXPECT_FALSE(write_record(dir.path(), bad));
}

} // namespace
} // namespace fleetbox

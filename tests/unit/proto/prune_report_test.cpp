// PruneReport: the reconcile mode's JSON is encoded once and decoded strictly (every field
// required, names and pids checked, text printable) so client::prune can trust what it prints.
#include "proto/prune_report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::proto {
namespace {

PruneReport sample() {
    PruneReport r;
    r.dry_run = false;
    PrunedNetwork n;
    n.bridge = "fbx-1a2b3c4d";
    n.subnet = "192.168.0.0/24";
    n.cluster = "web";
    n.owner_pid = 4242;
    n.taps = {"fbt-0badcafe"};
    n.killed_qemu_pids = {4300};
    n.removed = true;
    r.reclaimed.push_back(n);
    r.live.push_back({"fbx-00000001", "192.168.1.0/24", "db", 77});
    r.forwarding_restored.push_back({"eth0", 0});
    return r;
}

TEST(PruneReport, RoundTripsAsOneLine) {
    const std::string line = encode_prune_report(sample());
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto back = decode_prune_report(line + "\n");
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(encode_prune_report(*back), line);
    EXPECT_EQ(back->reclaimed.at(0).killed_qemu_pids, std::vector<int>{4300});
    EXPECT_EQ(back->forwarding_restored.at(0).interface, "eth0");
}

TEST(PruneReport, EmptyReportIsValid) {
    auto r = decode_prune_report(
        R"({"dry_run":true,"reclaimed":[],"live":[],"forwarding_restored":[],"errors":[]})");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->dry_run);
}

TEST(PruneReport, RejectsAnythingButAValidReport) {
    auto with = [](auto change) {
        auto j = nlohmann::json::parse(encode_prune_report(sample()));
        change(j);
        return decode_prune_report(j.dump());
    };
    EXPECT_FALSE(with([](auto& j) { j.erase("errors"); })) << "every field is required";
    EXPECT_FALSE(with([](auto& j) { j["reclaimed"][0]["bridge"] = "eth0"; }));
    EXPECT_FALSE(with([](auto& j) { j["reclaimed"][0]["taps"][0] = "lo"; }));
    EXPECT_FALSE(with([](auto& j) { j["reclaimed"][0]["killed_qemu_pids"][0] = 0; }));
    EXPECT_FALSE(with([](auto& j) { j["reclaimed"][0]["errors"] = {"a\x1b[2Jb"}; }));
    EXPECT_FALSE(with([](auto& j) { j["live"][0]["owner_pid"] = -1; }));
    EXPECT_FALSE(with([](auto& j) { j["forwarding_restored"][0]["interface"] = "../all"; }));
    EXPECT_FALSE(with([](auto& j) { j["forwarding_restored"][0]["value"] = 7; }));
    EXPECT_FALSE(with([](auto& j) { j["dry_run"] = "no"; }));
    auto two = decode_prune_report(encode_prune_report(sample()) + "\n{}");
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().kind, ErrorKind::Corrupt);
    EXPECT_FALSE(decode_prune_report("[]"));
    EXPECT_FALSE(decode_prune_report(""));
}

} // namespace
} // namespace fleetbox::proto

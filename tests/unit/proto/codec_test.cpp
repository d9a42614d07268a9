// Control-protocol codec: every message survives a round trip (including the boot spec's
// optional kernel command line words), and malformed input is rejected with a Corrupt error
// rather than half-decoded.
#include "proto/codec.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::proto {
namespace {

Request round_trip(const Request& r) {
    auto decoded = decode_request(encode(r));
    EXPECT_TRUE(decoded) << (decoded ? "" : decoded.error().message());
    return decoded ? *decoded : Request{};
}

Reply round_trip(const Reply& r) {
    auto decoded = decode_reply(encode(r));
    EXPECT_TRUE(decoded) << (decoded ? "" : decoded.error().message());
    return decoded ? *decoded : Reply{};
}

TEST(Codec, EncodesOneLineWithCommandTag) {
    auto line = encode(Request{Reserve{"web-1", "192.168.5.9"}});
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_NE(line.find("\"cmd\":\"reserve\""), std::string::npos);
}

TEST(Codec, RequestsRoundTrip) {
    auto hello = std::get<Hello>(round_trip(Hello{kProtocolVersion, 42, {"x"}}));
    EXPECT_EQ(hello.version, kProtocolVersion);
    EXPECT_EQ(hello.client_pid, 42);
    EXPECT_EQ(hello.capabilities, std::vector<std::string>{"x"});
    EXPECT_TRUE(std::holds_alternative<Bind>(round_trip(Bind{})));
    EXPECT_TRUE(std::holds_alternative<CreateNetwork>(round_trip(CreateNetwork{})));
    auto reserve = std::get<Reserve>(round_trip(Reserve{"web-1", "192.168.5.9"}));
    EXPECT_EQ(reserve.name, "web-1");
    EXPECT_EQ(reserve.ip_hint, "192.168.5.9");

    BootSpec spec{"web-1",
                  "/s/clusters/web/web-1",
                  "/s/d.qcow2",
                  "/s/seed.iso",
                  "/i/vmlinuz",
                  "/i/initrd.img",
                  "02:11:22:33:44:55",
                  4,
                  3072,
                  900,
                  "fleetbox.seed=/dev/vdb",
                  "/i/disk.qcow2",
                  {},
                  "",
                  false,
                  ""};
    auto boot = std::get<BootMember>(round_trip(BootMember{spec}));
    EXPECT_EQ(boot.spec.base_image_path, "/i/disk.qcow2");
    EXPECT_EQ(boot.spec.name, "web-1");
    EXPECT_EQ(boot.spec.member_dir, spec.member_dir);
    EXPECT_EQ(boot.spec.disk_path, spec.disk_path);
    EXPECT_EQ(boot.spec.seed_path, spec.seed_path);
    EXPECT_EQ(boot.spec.kernel_path, spec.kernel_path);
    EXPECT_EQ(boot.spec.initrd_path, spec.initrd_path);
    EXPECT_EQ(boot.spec.mac, spec.mac);
    EXPECT_EQ(boot.spec.cpus, 4);
    EXPECT_EQ(boot.spec.memory_mb, 3072u);
    EXPECT_EQ(boot.spec.boot_timeout_s, 900);
    EXPECT_EQ(boot.spec.kernel_cmdline_extra, "fleetbox.seed=/dev/vdb");
    EXPECT_TRUE(boot.spec.fixture_paths.empty());
    spec.fixture_paths = {"/s/clusters/web/web-1/fixture-0.img",
                          "/s/clusters/web/web-1/fixture-1.img"};
    EXPECT_EQ(std::get<BootMember>(round_trip(BootMember{spec})).spec.fixture_paths,
              spec.fixture_paths);
    EXPECT_EQ(std::get<StatusRequest>(round_trip(StatusRequest{"a"})).name, "a");
    EXPECT_EQ(std::get<Stop>(round_trip(Stop{"b"})).name, "b");
}

TEST(Codec, RepliesRoundTrip) {
    auto hello = std::get<HelloReply>(
        round_trip(HelloReply{kProtocolVersion, 7, helper_capabilities(), "detached"}));
    EXPECT_EQ(hello.helper_pid, 7);
    EXPECT_EQ(hello.capabilities, helper_capabilities());
    EXPECT_EQ(hello.mode, "detached");
    EXPECT_TRUE(std::holds_alternative<Ok>(round_trip(Ok{})));
    auto err =
        std::get<ErrorReply>(round_trip(ErrorReply{"busy", "member x is already running", "h"}));
    EXPECT_EQ(err.kind, "busy");
    EXPECT_EQ(err.message, "member x is already running");
    EXPECT_EQ(err.hint, "h");
    auto net = std::get<NetworkInfo>(
        round_trip(NetworkInfo{"fbx-0a1b2c3d", "192.168.3.0/24", "192.168.3.1", 24}));
    EXPECT_EQ(net.bridge, "fbx-0a1b2c3d");
    EXPECT_EQ(net.subnet, "192.168.3.0/24");
    EXPECT_EQ(net.gateway, "192.168.3.1");
    auto res = std::get<Reservation>(round_trip(Reservation{"192.168.3.2", "02:00:00:00:00:01"}));
    EXPECT_EQ(res.ip, "192.168.3.2");
    Booted booted{"192.168.3.2", 1234, 2, {{"qemu start", 0.25}, {"port 22 open", 17.5}}};
    auto b = std::get<Booted>(round_trip(booted));
    EXPECT_EQ(b.qemu_pid, 1234);
    EXPECT_EQ(b.boot_attempts, 2);
    ASSERT_EQ(b.timings.size(), 2u);
    EXPECT_EQ(b.timings[1].phase, "port 22 open");
    EXPECT_DOUBLE_EQ(b.timings[1].seconds, 17.5);
    auto st = std::get<StatusInfo>(
        round_trip(StatusInfo{"web", MemberState::Running, "192.168.3.2", 10, 11, ""}));
    EXPECT_EQ(st.state, MemberState::Running);
    EXPECT_EQ(st.qemu_pid, 11);
}

TEST(Codec, RejectsMalformedInput) {
    for (const char* bad :
         {"", "not json", "[1,2]", "{\"cmd\":\"launch-missiles\"}", "{}", "{\"cmd\":\"reserve\"}",
          "{\"cmd\":\"reserve\",\"name\":5}", "{\"cmd\":\"boot-member\"}",
          "{\"cmd\":\"boot-member\",\"spec\":{\"name\":\"x\"}}"}) {
        auto r = decode_request(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::Corrupt) << bad;
    }
    EXPECT_FALSE(decode_reply("{\"reply\":\"status\"}")); // state is required
}

BootSpec boot_spec(std::string extra) {
    BootSpec spec;
    spec.name = "web-1";
    spec.member_dir = "/s/clusters/web/web-1";
    spec.disk_path = "/s/d.qcow2";
    spec.seed_path = "/s/seed.tar";
    spec.kernel_path = "/i/vmlinuz";
    spec.initrd_path = "/i/initrd.img";
    spec.mac = "02:11:22:33:44:55";
    spec.kernel_cmdline_extra = std::move(extra);
    return spec;
}

// The encoded boot-member line with the spec's kernel_cmdline_extra value replaced (as JSON).
std::string with_cmdline_extra(const std::string& json_value) {
    std::string line = encode(Request{BootMember{boot_spec("PLACEHOLDER")}});
    const std::string placeholder = "\"PLACEHOLDER\"";
    auto at = line.find(placeholder);
    EXPECT_NE(at, std::string::npos) << line;
    if (at != std::string::npos)
        line.replace(at, placeholder.size(), json_value);
    return line;
}

TEST(Codec, KernelCmdlineExtraRoundTrips) {
    const std::string words =
        "fleetbox.seed=/dev/vdb cloud-init=disabled net.ifnames=0 systemd.mask=networking.service";
    auto boot = std::get<BootMember>(round_trip(BootMember{boot_spec(words)}));
    EXPECT_EQ(boot.spec.kernel_cmdline_extra, words);
    boot = std::get<BootMember>(round_trip(BootMember{boot_spec("")}));
    EXPECT_EQ(boot.spec.kernel_cmdline_extra, "");
    const std::string longest(kMaxCmdlineExtra, 'x');
    boot = std::get<BootMember>(round_trip(BootMember{boot_spec(longest)}));
    EXPECT_EQ(boot.spec.kernel_cmdline_extra, longest);
}

TEST(Codec, KernelCmdlineExtraIsOptionalOnTheWire) {
    // A client from before the field: the spec has no "kernel_cmdline_extra" key at all.
    std::string line = with_cmdline_extra("null");
    auto key = line.find(",\"kernel_cmdline_extra\":null");
    ASSERT_NE(key, std::string::npos) << line;
    line.erase(key, std::string(",\"kernel_cmdline_extra\":null").size());
    ASSERT_EQ(line.find("kernel_cmdline_extra"), std::string::npos) << line;
    auto r = decode_request(line);
    ASSERT_TRUE(r) << r.error().message() << "\n" << line;
    auto boot = std::get<BootMember>(*r);
    EXPECT_EQ(boot.spec.name, "web-1");
    EXPECT_EQ(boot.spec.kernel_cmdline_extra, "");
    // null reads as absent.
    auto n = decode_request(with_cmdline_extra("null"));
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(std::get<BootMember>(*n).spec.kernel_cmdline_extra, "");
}

TEST(Codec, KernelCmdlineExtraMustBeOnePrintableLine) {
    for (const std::string& bad :
         {std::string("\"a\\nb\""), std::string("\"a\\rb\""), std::string("\"a\\tb\""),
          std::string("\"a\\u0000b\""), std::string("\"a\\u001bb\""), std::string("\"a\\u007fb\""),
          std::string("\"caf\\u00e9\""), "\"" + std::string(kMaxCmdlineExtra + 1, 'x') + "\"",
          std::string("5"), std::string("[\"a\"]")}) {
        auto r = decode_request(with_cmdline_extra(bad));
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::Corrupt) << bad;
    }
    // The encoder does not check: a helper must never trust the client's line.
    auto r = decode_request(encode(Request{BootMember{boot_spec("quiet\nroot=/dev/evil")}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(r.error().message().find("kernel_cmdline_extra"), std::string::npos)
        << r.error().message();
}

TEST(Codec, FixturePathsAreOptionalBoundedAndNeverEmpty) {
    // Absent (a client from before boot-fixtures) reads as none.
    std::string line = encode(Request{BootMember{boot_spec("")}});
    const std::string key = ",\"fixture_paths\":[]";
    ASSERT_NE(line.find(key), std::string::npos) << line;
    line.erase(line.find(key), key.size());
    auto r = decode_request(line);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(std::get<BootMember>(*r).spec.fixture_paths.empty());
    auto spec = boot_spec("");
    spec.fixture_paths.assign(kMaxFixturePaths, "/s/clusters/web/web-1/fixture-0.img");
    EXPECT_TRUE(decode_request(encode(Request{BootMember{spec}})));
    for (const auto& bad : {std::vector<std::string>(kMaxFixturePaths + 1, "/x.img"),
                            std::vector<std::string>{"/x.img", ""}}) {
        spec.fixture_paths = bad;
        auto refused = decode_request(encode(Request{BootMember{spec}}));
        ASSERT_FALSE(refused) << bad.size();
        EXPECT_EQ(refused.error().kind, ErrorKind::Corrupt);
        EXPECT_NE(refused.error().message().find("fixture_paths"), std::string::npos)
            << refused.error().message();
    }
}

// The boot method of a stock image (boot-stock-images): optional on the wire, so a spec from
// an older client reads as the fleetbox image's microvm boot with root=/dev/vda.
TEST(Codec, BootMethodIsOptionalOnTheWireAndRoundTrips) {
    std::string line = encode(Request{BootMember{boot_spec("")}});
    for (const std::string& key : std::vector<std::string>{
             ",\"machine\":\"\"", ",\"firmware_boot\":false", ",\"kernel_root\":\"\""}) {
        ASSERT_NE(line.find(key), std::string::npos) << line;
        line.erase(line.find(key), key.size());
    }
    auto r = decode_request(line);
    ASSERT_TRUE(r) << r.error().message() << "\n" << line;
    const auto& old = std::get<BootMember>(*r).spec;
    EXPECT_EQ(old.machine, "");
    EXPECT_FALSE(old.firmware_boot);
    EXPECT_EQ(old.kernel_root, "");
    EXPECT_FALSE(uses_stock_boot(old));

    auto spec = boot_spec("");
    spec.machine = "q35";
    spec.kernel_root = "UUID=0b4c2a8e-3f1d-4c55-9d0e-6a7b8c9d0e1f";
    auto back = std::get<BootMember>(round_trip(BootMember{spec})).spec;
    EXPECT_EQ(back.machine, "q35");
    EXPECT_EQ(back.kernel_root, spec.kernel_root);
    EXPECT_FALSE(back.firmware_boot);
    EXPECT_TRUE(uses_stock_boot(back));

    auto firmware = boot_spec("");
    firmware.machine = "q35";
    firmware.firmware_boot = true;
    firmware.kernel_path.clear();
    firmware.initrd_path.clear();
    auto fw = std::get<BootMember>(round_trip(BootMember{firmware})).spec;
    EXPECT_TRUE(fw.firmware_boot);
    EXPECT_TRUE(fw.kernel_path.empty());
    EXPECT_TRUE(uses_stock_boot(fw));
}

// Only what an older helper would boot the same way needs no capability.
TEST(Codec, StockBootIsAnythingBeyondTheDefaults) {
    auto spec = boot_spec("");
    spec.machine = "microvm";
    spec.kernel_root = "/dev/vda";
    EXPECT_FALSE(uses_stock_boot(spec));
    spec.kernel_root = "/dev/vda1";
    EXPECT_TRUE(uses_stock_boot(spec));
    spec.kernel_root.clear();
    spec.machine = "q35";
    EXPECT_TRUE(uses_stock_boot(spec));
    EXPECT_THAT(helper_capabilities(), ::testing::Contains(std::string(kCapBootStockImages)));
}

TEST(Codec, BootMethodIsValidatedByTheReceiver) {
    auto refused = [](const BootSpec& spec) {
        auto r = decode_request(encode(Request{BootMember{spec}})); // the encoder trusts
        EXPECT_FALSE(r);
        if (r)
            return std::string();
        EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
        return r.error().message();
    };
    auto spec = boot_spec("");
    spec.machine = "pc";
    EXPECT_THAT(refused(spec), ::testing::HasSubstr("unknown machine \"pc\""));
    spec.machine = "microvm";
    spec.firmware_boot = true; // qboot cannot boot a disk
    spec.kernel_path.clear();
    spec.initrd_path.clear();
    EXPECT_THAT(refused(spec), ::testing::HasSubstr("firmware_boot needs machine \"q35\""));
    spec.machine = "q35";
    spec.kernel_path = "/i/vmlinuz"; // would be ignored: refused instead
    EXPECT_THAT(refused(spec), ::testing::HasSubstr("firmware_boot takes no kernel_path"));
    spec.kernel_path.clear();
    spec.kernel_root = "UUID=x";
    EXPECT_THAT(refused(spec), ::testing::HasSubstr("firmware_boot takes no"));
    spec.kernel_root.clear();
    spec.kernel_cmdline_extra = "ds=nocloud";
    EXPECT_THAT(refused(spec), ::testing::HasSubstr("firmware_boot takes no"));
    spec.kernel_cmdline_extra.clear();
    EXPECT_TRUE(decode_request(encode(Request{BootMember{spec}})));
    // Direct kernel boot still needs its kernel and initrd.
    auto no_kernel = boot_spec("");
    no_kernel.machine = "q35";
    no_kernel.kernel_path.clear();
    EXPECT_THAT(refused(no_kernel), ::testing::HasSubstr("kernel_path"));

    auto root = boot_spec("");
    root.machine = "q35";
    for (const std::string& good : std::vector<std::string>{
             "/dev/vda1", "UUID=0b4c2a8e-3f1d-4c55-9d0e-6a7b8c9d0e1f", "PARTUUID=1234abcd-01",
             "LABEL=cloudimg-rootfs", std::string(kMaxKernelRoot, 'x')}) {
        root.kernel_root = good;
        EXPECT_TRUE(decode_request(encode(Request{BootMember{root}}))) << good;
    }
    for (const std::string& bad : std::vector<std::string>{
             "/dev/vda1 init=/bin/sh", "UUID=\"x\"", "LABEL=a\tb", "/dev/vda\n",
             std::string("UUID=\xc3\xa9"), std::string(kMaxKernelRoot + 1, 'x')}) {
        root.kernel_root = bad;
        EXPECT_THAT(refused(root), ::testing::HasSubstr("kernel_root")) << bad;
    }
}

TEST(Codec, ErrorsKeepKindMessageAndHint) {
    Error e{ErrorKind::Busy, 0, "boot web", "member web is already running",
            "run fleetbox down web"};
    auto back = to_error(to_reply(e));
    EXPECT_EQ(back.kind, ErrorKind::Busy);
    EXPECT_EQ(back.message(), "boot web: member web is already running");
    EXPECT_EQ(back.hint, "run fleetbox down web");
}

TEST(Codec, CommandNames) {
    EXPECT_EQ(command_name(BootMember{}), "boot-member");
    EXPECT_EQ(command_name(CreateNetwork{}), "createnetwork");
}

// Capabilities are optional on the wire: a hello (reply) without them, as a helper from
// before protocol 2 would send, reads as none; this build's helper announces the fast path's.
TEST(Codec, HelloWithoutCapabilitiesReadsAsNone) {
    auto reply = decode_reply(R"({"reply":"hello","version":2,"helper_pid":5})");
    ASSERT_TRUE(reply) << reply.error().message();
    EXPECT_TRUE(std::get<HelloReply>(*reply).capabilities.empty());
    EXPECT_THAT(helper_capabilities(), ::testing::Contains(std::string(kCapBootKernelCmdline)));
    EXPECT_EQ(kProtocolVersion, 2);
}

// A member's state is one of four words on the wire; any other word (or a missing state) is a
// malformed reply, never silently read as some default.
TEST(Codec, MemberStateIsOneOfFourWords) {
    for (auto state :
         {MemberState::Stopped, MemberState::Starting, MemberState::Running, MemberState::Error}) {
        EXPECT_EQ(parse_member_state(to_string(state)), state);
        EXPECT_EQ(std::get<StatusInfo>(round_trip(StatusInfo{"a", state, "", 1, 0, ""})).state,
                  state);
    }
    EXPECT_EQ(to_string(MemberState::Starting), "starting");
    EXPECT_FALSE(parse_member_state("paused"));
    EXPECT_FALSE(decode_reply(R"({"reply":"status","name":"a","state":"paused"})"));
    EXPECT_FALSE(decode_reply(R"({"reply":"status","name":"a","state":3})"));
    EXPECT_TRUE(is_active(MemberState::Starting));
    EXPECT_TRUE(is_active(MemberState::Running));
    EXPECT_FALSE(is_active(MemberState::Stopped));
    EXPECT_FALSE(is_active(MemberState::Error));
}

TEST(Codec, ReleaseListAndMemberListRoundTrip) {
    EXPECT_EQ(std::get<Release>(round_trip(Release{"web-2"})).name, "web-2");
    EXPECT_TRUE(std::holds_alternative<ListRequest>(round_trip(ListRequest{})));
    EXPECT_FALSE(decode_request(R"({"cmd":"release"})")) << "release needs a name";
    MemberList list;
    list.network = NetworkInfo{"fbx-1", "10.0.0.0/24", "10.0.0.1", 24};
    list.members.push_back(StatusInfo{"a", MemberState::Running, "10.0.0.2", 1, 2, ""});
    list.members.push_back(StatusInfo{"b", MemberState::Error, "", 1, 0, "QEMU exited"});
    auto back = std::get<MemberList>(round_trip(list));
    EXPECT_EQ(back.network.subnet, "10.0.0.0/24");
    ASSERT_EQ(back.members.size(), 2u);
    EXPECT_EQ(back.members[1].state, MemberState::Error);
    EXPECT_EQ(back.members[1].error, "QEMU exited");
    EXPECT_EQ(command_name(Request(ListRequest{})), "list");
}

} // namespace
TEST(Codec, DetachRoundTripsAndIsACapability) {
    EXPECT_TRUE(std::holds_alternative<Detach>(round_trip(Detach{})));
    EXPECT_EQ(encode(Request(Detach{})), R"({"cmd":"detach"})");
    EXPECT_EQ(command_name(Request(Detach{})), "detach");
    auto caps = helper_capabilities();
    EXPECT_NE(std::find(caps.begin(), caps.end(), std::string(kCapDetach)), caps.end());
}

} // namespace fleetbox::proto

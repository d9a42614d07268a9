// Unit tests for the NoCloud documents: the right fields, JSON that YAML loads to the same
// data (cloud-init uses yaml.safe_load), determinism, /etc/hosts written from the shared
// renderer (always, with the cluster block), and validation of every input.
#include "seed/cloud_config.hpp"
#include "seed/hosts_file.hpp"
#include "seed_spec_fixture.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::seed {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::valid_spec;

ChildSpec command(std::vector<std::string> argv, Stream out, Stream err) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = out;
    spec.err = err;
    return spec;
}

json parse_user_data(const std::string& text) {
    EXPECT_THAT(text, StartsWith("#cloud-config\n"));
    return json::parse(text.substr(text.find('\n') + 1));
}

TEST(MetaData, HasInstanceIdAndLocalHostname) {
    auto text = render_meta_data(valid_spec("db-2"));
    ASSERT_TRUE(text) << text.error().message();
    auto doc = json::parse(*text);
    EXPECT_EQ(doc, json({{"instance-id", "db-2"}, {"local-hostname", "db-2"}}));
}

TEST(UserData, CreatesTheFleetboxUserWithTheLoginKey) {
    auto spec = valid_spec();
    auto text = render_user_data(spec);
    ASSERT_TRUE(text) << text.error().message();
    auto doc = parse_user_data(*text);
    ASSERT_EQ(doc["users"].size(), 1u);
    const auto& user = doc["users"][0];
    EXPECT_EQ(user["name"], "fleetbox");
    EXPECT_EQ(user["sudo"], "ALL=(ALL) NOPASSWD:ALL");
    EXPECT_EQ(user["shell"], "/bin/bash");
    EXPECT_EQ(user["lock_passwd"], true);
    EXPECT_EQ(user["ssh_authorized_keys"], json::array({spec.user_public_key}));
    EXPECT_EQ(doc["disable_root"], true);
}

TEST(UserData, SuppliesTheHostKeyAndSuppressesKeyGeneration) {
    auto spec = valid_spec();
    auto doc = parse_user_data(*render_user_data(spec));
    EXPECT_EQ(doc["ssh_keys"]["ed25519_private"], spec.host_key.private_openssh);
    EXPECT_EQ(doc["ssh_keys"]["ed25519_public"], spec.host_key.public_line);
    // Not needed with ssh_keys (cc_ssh then generates nothing) and schema-invalid when empty.
    EXPECT_FALSE(doc.contains("ssh_genkeytypes"));
    EXPECT_EQ(doc["ssh_deletekeys"], true);
}

TEST(UserData, SetsHostnameEtcHostsAndResize) {
    auto doc = parse_user_data(*render_user_data(valid_spec("api-7")));
    EXPECT_EQ(doc["hostname"], "api-7");
    EXPECT_EQ(doc["preserve_hostname"], false);
    EXPECT_EQ(doc["manage_etc_hosts"], false); // write_files writes it (see below)
    EXPECT_EQ(doc["resize_rootfs"], true);
    EXPECT_FALSE(doc.contains("mounts"));
    EXPECT_FALSE(doc.contains("cloud_init_modules")); // module lists are left alone
}

TEST(UserData, HostEntriesWriteEtcHostsInsteadOfManagingIt) {
    auto spec = valid_spec("web-1");
    spec.hosts = {{"192.168.50.11", "web-2"}, {"fd00::3", "web-3"}};
    auto doc = parse_user_data(*render_user_data(spec));
    // cloud-init's template would drop the entries at every boot.
    EXPECT_EQ(doc["manage_etc_hosts"], false);
    ASSERT_TRUE(doc.contains("write_files"));
    ASSERT_EQ(doc["write_files"].size(), 1u);
    const auto& file = doc["write_files"][0];
    EXPECT_EQ(file["path"], "/etc/hosts");
    EXPECT_EQ(file["permissions"], "0644");
    auto expected = render_hosts_file("web-1", spec.hosts);
    ASSERT_TRUE(expected) << expected.error().message();
    EXPECT_EQ(file["content"], *expected); // the same file the fast path writes
    EXPECT_THAT(file["content"].get<std::string>(), ::testing::HasSubstr("127.0.1.1\tweb-1\n"));
}

TEST(UserData, NoHostEntriesStillWritesEtcHostsWithAnEmptyClusterBlock) {
    // cloud-init's manage_etc_hosts would re-render the file at every boot and drop the
    // cluster block the host pushes later (ADR 0014): the file is always fleetbox's.
    auto spec = valid_spec();
    ASSERT_TRUE(spec.hosts.empty());
    auto doc = parse_user_data(*render_user_data(spec));
    EXPECT_EQ(doc["manage_etc_hosts"], false);
    ASSERT_TRUE(doc.contains("write_files"));
    ASSERT_EQ(doc["write_files"].size(), 1u);
    EXPECT_EQ(doc["write_files"][0]["path"], "/etc/hosts");
    EXPECT_EQ(doc["write_files"][0]["content"], *render_hosts_file(spec.name, {}));
}

TEST(UserData, IsByteIdenticalForIdenticalInput) {
    auto spec = valid_spec();
    EXPECT_EQ(*render_user_data(spec), *render_user_data(spec));
    EXPECT_EQ(*render_network_config(spec), *render_network_config(spec));
}

TEST(UserData, FixturesBecomeReadOnlyMountsByLabel) {
    auto spec = valid_spec();
    spec.mounts = {{"FBFIX0", "/srv/data"}, {"FBFIX1", "/opt/x"}};
    auto doc = parse_user_data(*render_user_data(spec));
    EXPECT_EQ(doc["mounts"],
              json::parse(R"([["LABEL=FBFIX0","/srv/data","ext4","ro,nofail","0","0"],
                                             ["LABEL=FBFIX1","/opt/x","ext4","ro,nofail","0","0"]])"));
}

TEST(NetworkConfig, StaticAddressMatchedByLowercaseMac) {
    auto text = render_network_config(valid_spec());
    ASSERT_TRUE(text) << text.error().message();
    auto expected = json::parse(R"({
      "version": 2,
      "ethernets": {"eth0": {
        "match": {"macaddress": "52:54:00:ab:cd:01"},
        "set-name": "eth0",
        "dhcp4": false,
        "addresses": ["192.168.50.10/24"],
        "gateway4": "192.168.50.1",
        "nameservers": {"addresses": ["1.1.1.1", "8.8.8.8"]}}}})");
    EXPECT_EQ(json::parse(*text), expected);
}

TEST(NetworkConfig, NoNameserversKeyWhenNoneGiven) {
    auto spec = valid_spec();
    spec.nameservers.clear();
    auto doc = json::parse(*render_network_config(spec));
    EXPECT_FALSE(doc["ethernets"]["eth0"].contains("nameservers"));
}

// cloud-init reads every document with PyYAML's safe_load: the JSON must load to the same
// data, including values YAML would otherwise retype ("123" as a number). Debian's python3
// (the interpreter cloud-init runs on) is preferred over whatever python3 is first on PATH.
TEST(Documents, LoadIdenticallyThroughPyYaml) {
    const std::string python = path_exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    auto have_yaml =
        run_command(command({python, "-c", "import yaml"}, Stream::Null, Stream::Null));
    if (!have_yaml || !have_yaml->status.ok())
        GTEST_SKIP() << "python3-yaml not installed";
    test::ScratchDir dir;
    auto spec = valid_spec("123");
    spec.mounts = {{"FBFIX0", "/srv/data"}};
    const std::string user_data = *render_user_data(spec);
    test::write_text(dir.file("meta-data"), *render_meta_data(spec));
    test::write_text(dir.file("user-data"), user_data);
    test::write_text(dir.file("network-config"), *render_network_config(spec));
    auto out = run_command(
        command({python, "-c",
                 "import sys, json, yaml\n"
                 "print(json.dumps([yaml.safe_load(open(f)) for f in sys.argv[1:]]))",
                 dir.file("meta-data"), dir.file("user-data"), dir.file("network-config")},
                Stream::Capture, Stream::Capture));
    ASSERT_TRUE(out && out->status.ok()) << (out ? out->err : out.error().message());
    auto loaded = json::parse(out->out);
    ASSERT_EQ(loaded.size(), 3u);
    EXPECT_EQ(loaded[0], json::parse(*render_meta_data(spec)));
    EXPECT_EQ(loaded[0]["instance-id"], "123"); // a string, not the number 123
    EXPECT_EQ(loaded[1], parse_user_data(user_data));
    EXPECT_EQ(loaded[2], json::parse(*render_network_config(spec)));
}

struct BadField {
    const char* what;
    void (*spoil)(SeedSpec&);
    const char* field_in_message;
};

class Validation : public ::testing::TestWithParam<BadField> {};

TEST_P(Validation, RejectsBadFieldNamingIt) {
    auto spec = valid_spec();
    GetParam().spoil(spec);
    for (auto result :
         {render_meta_data(spec), render_user_data(spec), render_network_config(spec)}) {
        ASSERT_FALSE(result) << GetParam().what;
        EXPECT_EQ(result.error().kind, ErrorKind::InvalidArgument) << GetParam().what;
        EXPECT_THAT(result.error().message(), HasSubstr(GetParam().field_in_message));
    }
}

INSTANTIATE_TEST_SUITE_P(
    Seed, Validation,
    ::testing::Values(
        BadField{"empty name", [](SeedSpec& s) { s.name = ""; }, "name"},
        BadField{"name with space", [](SeedSpec& s) { s.name = "a b"; }, "name"},
        BadField{"name too long", [](SeedSpec& s) { s.name = std::string(64, 'a'); }, "name"},
        BadField{"short mac", [](SeedSpec& s) { s.mac = "52:54:00:12:34"; }, "MAC"},
        BadField{"non-hex mac", [](SeedSpec& s) { s.mac = "52:54:00:12:34:zz"; }, "MAC"},
        BadField{"no prefix", [](SeedSpec& s) { s.ip_cidr = "192.168.50.10"; }, "address"},
        BadField{"prefix 33", [](SeedSpec& s) { s.ip_cidr = "192.168.50.10/33"; }, "address"},
        BadField{"bad address", [](SeedSpec& s) { s.ip_cidr = "192.168.500.10/24"; }, "address"},
        BadField{"bad gateway", [](SeedSpec& s) { s.gateway = "gw"; }, "gateway"},
        BadField{"bad nameserver", [](SeedSpec& s) { s.nameservers = {"1.1.1"}; }, "nameserver"},
        BadField{"bad user key", [](SeedSpec& s) { s.user_public_key = "ssh-ed25519 !!"; },
                 "user public key"},
        BadField{"empty user key", [](SeedSpec& s) { s.user_public_key = ""; }, "user public key"},
        BadField{"mismatched host key",
                 [](SeedSpec& s) { s.host_key.public_line = s.user_public_key; }, "host key"},
        BadField{"relative mount",
                 [](SeedSpec& s) {
                     s.mounts = {{"FBFIX0", "srv"}};
                 },
                 "fixture guest path"},
        BadField{"long label",
                 [](SeedSpec& s) {
                     s.mounts = {{"FBFIX0123456789AB", "/srv"}};
                 },
                 "fixture label"},
        BadField{"host entry name",
                 [](SeedSpec& s) {
                     s.hosts = {{"10.0.0.2", "db #1"}};
                 },
                 "host entry"},
        BadField{"host entry address",
                 [](SeedSpec& s) {
                     s.hosts = {{"10.0.0.300", "db"}};
                 },
                 "host entry"}),
    [](const auto& param_info) {
        std::string n = param_info.param.what;
        for (char& c : n)
            c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        return n;
    });

} // namespace
} // namespace fleetbox::seed

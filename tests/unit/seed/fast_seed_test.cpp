// Unit tests for the fast seed: the entries the guest's fleetbox-seed script reads (format
// line, hostname, /etc/hosts, key=value network lines, login and host keys with their modes,
// mounts only for fixtures), the written tar, and that an invalid spec writes no file.
#include "seed/fast_seed.hpp"
#include "seed/hosts_file.hpp"
#include "seed_spec_fixture.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "tar_reader.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox::seed {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::valid_spec;

const TarEntry* find(const std::vector<TarEntry>& entries, const std::string& name) {
    for (const auto& e : entries)
        if (e.name == name)
            return &e;
    return nullptr;
}

std::vector<std::string> names(const std::vector<TarEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries)
        out.push_back(e.name);
    return out;
}

TEST(FastSeed, HasTheDocumentedEntries) {
    auto entries = render_fast_seed(valid_spec());
    ASSERT_TRUE(entries) << entries.error().message();
    EXPECT_THAT(names(*entries),
                ElementsAre("format", "hostname", "hosts", "network", "authorized_keys",
                            "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"));
}

TEST(FastSeed, FormatLineIsVersionOne) {
    auto entries = *render_fast_seed(valid_spec());
    EXPECT_EQ(find(entries, "format")->content, "fleetbox-seed 1\n");
    EXPECT_EQ(std::string(kFastSeedFormat), "fleetbox-seed 1");
}

TEST(FastSeed, HostnameAndHosts) {
    auto spec = valid_spec("api-7");
    spec.hosts = {{"192.168.50.11", "api-8"}};
    auto entries = *render_fast_seed(spec);
    EXPECT_EQ(find(entries, "hostname")->content, "api-7\n");
    const std::string& hosts = find(entries, "hosts")->content;
    EXPECT_THAT(hosts, HasSubstr("127.0.1.1\tapi-7\n"));
    EXPECT_THAT(hosts, HasSubstr("192.168.50.11\tapi-8\n"));
    EXPECT_EQ(hosts, *render_hosts_file("api-7", spec.hosts)); // one renderer for both paths
}

TEST(FastSeed, NetworkIsKeyValueLinesWithLowercaseMac) {
    auto entries = *render_fast_seed(valid_spec()); // mac 52:54:00:AB:cd:01
    EXPECT_EQ(find(entries, "network")->content, "mac=52:54:00:ab:cd:01\n"
                                                 "address=192.168.50.10/24\n"
                                                 "gateway=192.168.50.1\n"
                                                 "dns=1.1.1.1\n"
                                                 "dns=8.8.8.8\n");
}

TEST(FastSeed, NoDnsLinesWithoutNameservers) {
    auto spec = valid_spec();
    spec.nameservers.clear();
    auto entries = *render_fast_seed(spec);
    const std::string& network = find(entries, "network")->content;
    EXPECT_THAT(network, ::testing::Not(HasSubstr("dns=")));
    EXPECT_THAT(network, HasSubstr("gateway=192.168.50.1\n"));
}

TEST(FastSeed, KeysAndTheirModes) {
    auto spec = valid_spec();
    auto entries = render_fast_seed(spec);
    ASSERT_TRUE(entries) << entries.error().message();
    const TarEntry* login = find(*entries, "authorized_keys");
    ASSERT_NE(login, nullptr);
    EXPECT_EQ(login->content, spec.user_public_key + "\n");
    EXPECT_EQ(std::count(login->content.begin(), login->content.end(), '\n'), 1); // one line
    EXPECT_EQ(login->mode, 0644u);
    const TarEntry* priv = find(*entries, "ssh_host_ed25519_key");
    ASSERT_NE(priv, nullptr);
    EXPECT_EQ(priv->content, spec.host_key.private_openssh);
    EXPECT_EQ(priv->mode, 0600u);
    const TarEntry* pub = find(*entries, "ssh_host_ed25519_key.pub");
    ASSERT_NE(pub, nullptr);
    EXPECT_EQ(pub->content, spec.host_key.public_line + "\n");
    EXPECT_EQ(pub->mode, 0644u);
}

TEST(FastSeed, MountsOnlyWithFixtures) {
    auto spec = valid_spec();
    EXPECT_EQ(find(*render_fast_seed(spec), "mounts"), nullptr);
    spec.mounts = {{"FBFIX0", "/srv/data"}, {"FBFIX1", "/opt/x"}};
    auto entries = *render_fast_seed(spec);
    const TarEntry* mounts = find(entries, "mounts");
    ASSERT_NE(mounts, nullptr);
    EXPECT_EQ(mounts->content, "LABEL=FBFIX0 /srv/data\nLABEL=FBFIX1 /opt/x\n");
    EXPECT_EQ(entries.back().name, "mounts");
}

TEST(FastSeed, WritesAPrivateTarOfTheEntries) {
    test::ScratchDir dir;
    const std::string path = dir.file("seed.tar");
    auto spec = valid_spec("web-9");
    spec.mounts = {{"FBFIX0", "/srv/data"}};
    auto written = write_fast_seed(spec, path);
    ASSERT_TRUE(written) << written.error().message();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_size % 512, 0);

    auto expected = *render_fast_seed(spec);
    auto back = testing::read_tar(path);
    ASSERT_EQ(back.size(), expected.size());
    for (size_t i = 0; i < back.size(); ++i) {
        SCOPED_TRACE(expected[i].name);
        EXPECT_EQ(back[i].name, expected[i].name);
        EXPECT_EQ(back[i].content, expected[i].content);
        EXPECT_EQ(back[i].perm, expected[i].mode);
        EXPECT_EQ(back[i].uid, 0);
    }
}

struct BadSpec {
    const char* what;
    void (*spoil)(SeedSpec&);
};

class FastSeedValidation : public ::testing::TestWithParam<BadSpec> {};

TEST_P(FastSeedValidation, IsRejectedAndWritesNoFile) {
    auto spec = valid_spec();
    GetParam().spoil(spec);
    auto entries = render_fast_seed(spec);
    ASSERT_FALSE(entries) << GetParam().what;
    EXPECT_EQ(entries.error().kind, ErrorKind::InvalidArgument) << entries.error().message();

    test::ScratchDir dir;
    auto written = write_fast_seed(spec, dir.file("seed.tar"));
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(written.error().message(), HasSubstr(dir.file("seed.tar")));
    EXPECT_TRUE(list_dir(dir.path())->empty());
}

TEST_P(FastSeedValidation, KeepsAnOldSeed) {
    auto spec = valid_spec();
    GetParam().spoil(spec);
    test::ScratchDir dir;
    test::write_text(dir.file("seed.tar"), "old");
    ASSERT_FALSE(write_fast_seed(spec, dir.file("seed.tar")));
    EXPECT_EQ(test::read_text(dir.file("seed.tar")), "old");
    EXPECT_THAT(*list_dir(dir.path()), ElementsAre("seed.tar"));
}

INSTANTIATE_TEST_SUITE_P(
    FastSeed, FastSeedValidation,
    ::testing::Values(BadSpec{"bad_mac", [](SeedSpec& s) { s.mac = "52:54:00:12:34:zz"; }},
                      BadSpec{"short_mac", [](SeedSpec& s) { s.mac = "52:54:00:12:34"; }},
                      BadSpec{"bad_cidr", [](SeedSpec& s) { s.ip_cidr = "192.168.50.10/33"; }},
                      BadSpec{"no_prefix", [](SeedSpec& s) { s.ip_cidr = "192.168.50.10"; }},
                      BadSpec{"name_with_newline", [](SeedSpec& s) { s.name = "web-1\nevil"; }},
                      BadSpec{"bad_gateway", [](SeedSpec& s) { s.gateway = "gw"; }},
                      BadSpec{"bad_nameserver",
                              [](SeedSpec& s) { s.nameservers = {"1.1.1.1\ndns=6.6.6.6"}; }},
                      BadSpec{"bad_host_entry",
                              [](SeedSpec& s) {
                                  s.hosts = {{"10.0.0.2", "a b"}};
                              }},
                      BadSpec{"bad_host_ip",
                              [](SeedSpec& s) {
                                  s.hosts = {{"10.0.0", "db"}};
                              }},
                      BadSpec{"relative_mount",
                              [](SeedSpec& s) {
                                  s.mounts = {{"FBFIX0", "srv"}};
                              }}),
    [](const auto& param_info) { return std::string(param_info.param.what); });

} // namespace
} // namespace fleetbox::seed

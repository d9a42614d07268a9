// Unit tests for /etc/hosts rendering: the VM's own name on 127.0.1.1, further entries in
// order (IPv4 and IPv6) inside the cluster block, and refusal of any name or address that could add
// a line, a comment or an alias to the file.
#include "seed/cluster_block.hpp"
#include "seed/hosts_file.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::seed {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The non-empty lines of a text.
std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    for (auto& l : split(text, '\n'))
        if (!l.empty())
            out.push_back(l);
    return out;
}

TEST(HostsFile, MapsTheOwnNameTo127011AfterLocalhost) {
    auto text = render_hosts_file("web-1", {});
    ASSERT_TRUE(text) << text.error().message();
    EXPECT_EQ(text->back(), '\n');
    auto ls = lines(*text);
    EXPECT_THAT(ls, ::testing::Contains("127.0.0.1\tlocalhost"));
    EXPECT_THAT(ls, ::testing::Contains("::1\t\tlocalhost ip6-localhost ip6-loopback"));
    // The own name follows the localhost lines; an empty cluster block closes the file.
    ASSERT_GE(ls.size(), 3u);
    EXPECT_EQ(ls[ls.size() - 3], "127.0.1.1\tweb-1");
    EXPECT_THAT(ls[ls.size() - 2], ::testing::StartsWith("# fleetbox cluster begin"));
    EXPECT_EQ(ls.back(), "# fleetbox cluster end");
    // Exactly one line names the VM.
    EXPECT_EQ(
        std::count_if(ls.begin(), ls.end(),
                      [](const std::string& l) { return l.find("web-1") != std::string::npos; }),
        1);
}

TEST(HostsFile, ExtraEntriesFollowInTheOrderGivenInsideTheClusterBlock) {
    auto text = render_hosts_file("web-1", {{"192.168.50.12", "web-3"},
                                            {"192.168.50.11", "web-2"},
                                            {"fd00::5", "db.internal"},
                                            {"2001:db8::1", "v6_only"}});
    ASSERT_TRUE(text) << text.error().message();
    auto ls = lines(*text);
    ASSERT_GE(ls.size(), 7u);
    EXPECT_THAT(std::vector<std::string>(ls.end() - 7, ls.end()),
                ElementsAre("127.0.1.1\tweb-1", ::testing::StartsWith("# fleetbox cluster begin"),
                            "192.168.50.12\tweb-3", "192.168.50.11\tweb-2", "fd00::5\tdb.internal",
                            "2001:db8::1\tv6_only", "# fleetbox cluster end"));
}

TEST(HostsFile, EndsWithTheClusterBlockTheHostPushesLater) {
    std::vector<HostEntry> entries = {{"10.0.0.2", "web-2"}, {"10.0.0.3", "web-3"}};
    auto text = render_hosts_file("web-1", entries);
    auto block = render_cluster_block(entries);
    ASSERT_TRUE(text && block);
    ASSERT_GT(text->size(), block->size());
    EXPECT_EQ(text->substr(text->size() - block->size()), *block);
    // So a push of the same list onto the seed's file changes nothing.
    EXPECT_EQ(splice_cluster_block(*text, *block), *text);
}

TEST(HostsFile, IsDeterministic) {
    std::vector<HostEntry> entries = {{"10.0.0.2", "b"}, {"10.0.0.3", "c"}};
    EXPECT_EQ(*render_hosts_file("a", entries), *render_hosts_file("a", entries));
}

TEST(HostsFile, RejectsAnOwnNameThatIsNotAHostname) {
    for (const std::string& bad :
         std::vector<std::string>{"", "a b", "a\nb", "a#b", "#a", "web-1\n10.0.0.1 evil", "-x",
                                  ".x", "a\tb", std::string(254, 'a')}) {
        auto text = render_hosts_file(bad, {});
        ASSERT_FALSE(text) << '"' << bad << '"';
        EXPECT_EQ(text.error().kind, ErrorKind::InvalidArgument) << bad;
    }
}

TEST(HostsFile, RejectsAnEntryWithABadName) {
    for (const std::string& bad :
         std::vector<std::string>{"", "a b", "a\nb", "db#1", "a\tb", "x\r"}) {
        auto text = render_hosts_file("web-1", {{"10.0.0.2", bad}});
        ASSERT_FALSE(text) << '"' << bad << '"';
        EXPECT_EQ(text.error().kind, ErrorKind::InvalidArgument);
        auto ok = validate_host_entries({{"10.0.0.2", bad}});
        ASSERT_FALSE(ok) << '"' << bad << '"';
        EXPECT_EQ(ok.error().kind, ErrorKind::InvalidArgument);
        EXPECT_THAT(ok.error().message(), HasSubstr("hostname"));
    }
}

TEST(HostsFile, RejectsAnEntryWithABadAddress) {
    for (const std::string& bad :
         std::vector<std::string>{"", "10.0.0", "10.0.0.256", "example.com", "10.0.0.1/24",
                                  "10.0.0.1 ", "10.0.0.1\nx", "fd00:::1", "::g"}) {
        auto ok = validate_host_entries({{bad, "db"}});
        ASSERT_FALSE(ok) << '"' << bad << '"';
        EXPECT_EQ(ok.error().kind, ErrorKind::InvalidArgument);
        EXPECT_THAT(ok.error().message(), HasSubstr("IP address"));
        EXPECT_FALSE(render_hosts_file("web-1", {{bad, "db"}})) << bad;
    }
}

TEST(HostsFile, ValidateAcceptsGoodEntriesAndTheEmptyList) {
    EXPECT_TRUE(validate_host_entries({}));
    EXPECT_TRUE(
        validate_host_entries({{"10.0.0.2", "db-1"}, {"::1", "lo6"}, {"192.168.1.1", "a.b_c"}}));
}

TEST(HostsFile, ValidateStopsAtTheFirstBadEntryAndNamesIt) {
    auto ok =
        validate_host_entries({{"10.0.0.2", "good"}, {"10.0.0.3", "bad name"}, {"nope", "x"}});
    ASSERT_FALSE(ok);
    EXPECT_THAT(ok.error().message(), HasSubstr("bad name"));
}

} // namespace
} // namespace fleetbox::seed

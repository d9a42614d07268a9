// Host mirror discovery: both apt source formats, the suite-family filter, the fallback to
// the host's Debian archive for another release, and the clear error when there is none.
#include "image/apt_sources.hpp"
#include "support/test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kDeb822 = R"(Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates bookworm-backports
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no
)";

TEST(AptSources, ParsesDeb822Paragraphs) {
    auto s = parse_apt_sources(kDeb822, "/etc/apt/sources.list.d/debian.sources");
    ASSERT_EQ(s.size(), 2u); // the disabled one is skipped
    EXPECT_THAT(s[0].uris, ElementsAre("http://mirror.example/debian"));
    EXPECT_THAT(s[0].suites, ElementsAre("bookworm", "bookworm-updates", "bookworm-backports"));
    EXPECT_THAT(s[0].components, ElementsAre("main", "contrib"));
    EXPECT_THAT(s[1].types, ElementsAre("deb", "deb-src"));
    EXPECT_EQ(s[1].file, "/etc/apt/sources.list.d/debian.sources");
}

TEST(AptSources, ParsesOneLineFormat) {
    auto s = parse_apt_sources(
        "# comment\n"
        "deb [ arch=amd64 signed-by=/k.gpg ] http://m.example/debian bookworm main # x\n"
        "deb-src http://m.example/debian bookworm main\n"
        "garbage line\n",
        "/etc/apt/sources.list");
    ASSERT_EQ(s.size(), 2u);
    EXPECT_THAT(s[0].types, ElementsAre("deb"));
    EXPECT_THAT(s[0].uris, ElementsAre("http://m.example/debian"));
    EXPECT_THAT(s[0].suites, ElementsAre("bookworm"));
    EXPECT_THAT(s[0].components, ElementsAre("main"));
    EXPECT_THAT(s[1].types, ElementsAre("deb-src"));
}

TEST(AptSources, SelectsTheSuiteFamilyOnly) {
    auto sources = parse_apt_sources(kDeb822, "/etc/apt/sources.list.d/debian.sources");
    auto other = parse_apt_sources("deb https://deb.nodesource.com/node_20.x nodistro main\n",
                                   "/x/node.list");
    sources.insert(sources.end(), other.begin(), other.end());
    auto m = select_mirrors(sources, "bookworm", {"main"});
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_THAT(m->lines,
                ElementsAre("deb http://mirror.example/debian bookworm main",
                            "deb http://mirror.example/debian bookworm-updates main",
                            "deb http://mirror.example/debian-security bookworm-security main"));
    EXPECT_THAT(m->uris, ElementsAre("http://mirror.example/debian",
                                     "http://mirror.example/debian-security"));
    EXPECT_THAT(m->files, ElementsAre("/etc/apt/sources.list.d/debian.sources"));
}

TEST(AptSources, OtherReleaseHostLendsItsDebianArchive) {
    auto sources =
        parse_apt_sources("deb http://local.mirror/debian/ trixie main\n"
                          "deb http://local.mirror/debian-security trixie-security main\n",
                          "/etc/apt/sources.list");
    auto m = select_mirrors(sources, "bookworm", {"main"});
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_THAT(m->lines,
                ElementsAre("deb http://local.mirror/debian/ bookworm main",
                            "deb http://local.mirror/debian-security bookworm-security main"));
}

// The host of this project: a bookworm host building debian-11 and debian-13 gets each
// release's updates and security suites from the same archives, and nothing else.
TEST(AptSources, EachSuiteTakesTheSameRoleInTheWantedRelease) {
    auto sources = parse_apt_sources(kDeb822, "/etc/apt/sources.list.d/debian.sources");
    auto other =
        parse_apt_sources("deb https://deb.nodesource.com/node_20.x nodistro main\n"
                          "deb http://mirror.example/debian bookworm/updates main\n"
                          "deb http://mirror.example/debian bookworm-proposed-updates main\n",
                          "/x/other.list");
    sources.insert(sources.end(), other.begin(), other.end());
    for (const char* suite : {"bullseye", "trixie"}) {
        SCOPED_TRACE(suite);
        std::string s = suite;
        auto m = select_mirrors(sources, s, {"main"});
        ASSERT_TRUE(m) << m.error().message();
        EXPECT_THAT(m->lines, ElementsAre("deb http://mirror.example/debian " + s + " main",
                                          "deb http://mirror.example/debian " + s + "-updates main",
                                          "deb http://mirror.example/debian-security " + s +
                                              "-security main"));
        EXPECT_THAT(m->files, ElementsAre("/etc/apt/sources.list.d/debian.sources"));
    }
}

TEST(AptSources, NoDebianArchiveIsAClearError) {
    auto sources =
        parse_apt_sources("deb https://deb.nodesource.com/node_20.x nodistro main\n", "/x.list");
    auto m = select_mirrors(sources, "bookworm", {"main"});
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(m.error().message(), HasSubstr("no Debian archive"));
    EXPECT_FALSE(m.error().hint.empty());
}

TEST(AptSources, ReadsListAndSourcesFilesButNotOthers) {
    test::ScratchDir apt;
    test::write_text(apt.file("sources.list"), "deb http://a.example/debian bookworm main\n");
    test::write_text(
        apt.file("sources.list.d/debian.sources"),
        "Types: deb\nURIs: http://b.example/debian\nSuites: bookworm-updates\nComponents: main\n");
    test::write_text(apt.file("sources.list.d/x.list.disabled-by-farm"),
                     "deb http://c.example/debian bookworm main\n");
    auto m = discover_mirrors("bookworm", {"main"}, apt.path());
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_THAT(m->lines, ElementsAre("deb http://a.example/debian bookworm main",
                                      "deb http://b.example/debian bookworm-updates main"));
    EXPECT_THAT(m->files,
                ElementsAre(apt.file("sources.list"), apt.file("sources.list.d/debian.sources")));
}

} // namespace
} // namespace fleetbox::image

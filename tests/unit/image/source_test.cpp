// Image sources: what `--image TEXT` means (built alias, stock alias, URL with or without a
// pin, file path, cached name), the cache names URLs and files get, the refusals (bad
// scheme, bad pin, bad name), URLs in messages without credentials, and the embedded stock
// catalog (every alias pinned, none shadowing a built image).
#include "image/catalog.hpp"
#include "image/cloud_catalog.hpp"
#include "image/source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const std::string kHex64(64, 'a');

TEST(ImageSource, BuiltAliasIsBuilt) {
    auto s = parse_image_source("debian-12");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->kind, SourceKind::Built);
    EXPECT_EQ(s->name, "debian-12");
    EXPECT_FALSE(s->pulled());
}

TEST(ImageSource, StockAliasCarriesTheCatalogUrlAndPin) {
    auto s = parse_image_source("ubuntu-24.04");
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->kind, SourceKind::Cloud);
    EXPECT_EQ(s->name, "ubuntu-24.04");
    EXPECT_THAT(s->url, HasSubstr("https://cloud-images.ubuntu.com/"));
    ASSERT_TRUE(s->digest);
    EXPECT_EQ(s->digest->algo, "sha256");
    EXPECT_EQ(s->digest->hex.size(), 64U);
    ASSERT_NE(s->cloud, nullptr);
    EXPECT_EQ(s->cloud->codename, "noble");
}

TEST(ImageSource, PinnedUrl) {
    auto s = parse_image_source("https://example.test/img/Debian-12.qcow2#sha256=" +
                                std::string(64, 'A'));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->kind, SourceKind::Url);
    EXPECT_EQ(s->url, "https://example.test/img/Debian-12.qcow2");
    ASSERT_TRUE(s->digest);
    EXPECT_EQ(s->digest->to_string(), "sha256:" + kHex64); // lowercased
    EXPECT_THAT(s->name, MatchesRegex("Debian-12-[0-9a-f]{8}"));
}

TEST(ImageSource, UnpinnedUrlAndSha512Pin) {
    auto plain = parse_image_source("http://127.0.0.1:8080/x.raw");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->digest);
    EXPECT_THAT(plain->name, MatchesRegex("x-[0-9a-f]{8}"));
    auto pinned = parse_image_source("https://h/x.img#sha512=" + std::string(128, '0'));
    ASSERT_TRUE(pinned) << pinned.error().message();
    EXPECT_EQ(pinned->digest->algo, "sha512");
}

TEST(ImageSource, DistinctUrlsGetDistinctNamesAndThePinDoesNotChangeIt) {
    auto a = parse_image_source("https://a.test/disk.qcow2");
    auto b = parse_image_source("https://b.test/disk.qcow2");
    auto a_pinned = parse_image_source("https://a.test/disk.qcow2#sha256=" + kHex64);
    ASSERT_TRUE(a && b && a_pinned);
    EXPECT_NE(a->name, b->name);
    EXPECT_EQ(a->name, a_pinned->name);
}

TEST(ImageSource, BadUrlsAreOneClearLine) {
    auto ftp = parse_image_source("ftp://h/x.qcow2");
    ASSERT_FALSE(ftp);
    EXPECT_EQ(ftp.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(ftp.error().message(), HasSubstr("not ftp"));

    auto short_pin = parse_image_source("https://h/x.qcow2#sha256=abc");
    ASSERT_FALSE(short_pin);
    EXPECT_THAT(short_pin.error().message(), HasSubstr("64 hex digits"));

    auto not_hex = parse_image_source("https://h/x.qcow2#sha256=" + std::string(64, 'g'));
    ASSERT_FALSE(not_hex);
    EXPECT_THAT(not_hex.error().message(), HasSubstr("hexadecimal"));

    auto md5 = parse_image_source("https://h/x.qcow2#md5=abc");
    ASSERT_FALSE(md5);
    EXPECT_THAT(md5.error().message(), HasSubstr("#sha256=HEX"));

    auto no_host = parse_image_source("https:///x.qcow2");
    ASSERT_FALSE(no_host);
    EXPECT_THAT(no_host.error().message(), HasSubstr("names no host"));

    auto space = parse_image_source("https://h/a b.qcow2");
    ASSERT_FALSE(space);
}

TEST(ImageSource, PathsAreFilesMadeAbsolute) {
    auto rel = parse_image_source("./images/../my.qcow2", "/home/u/work");
    ASSERT_TRUE(rel) << rel.error().message();
    EXPECT_EQ(rel->kind, SourceKind::File);
    EXPECT_EQ(rel->path, "/home/u/work/my.qcow2");
    EXPECT_THAT(rel->name, MatchesRegex("my-[0-9a-f]{8}"));
    auto abs = parse_image_source("/srv/images/x.raw", "/elsewhere");
    ASSERT_TRUE(abs);
    EXPECT_EQ(abs->path, "/srv/images/x.raw");
    auto nested = parse_image_source("images/x.img", "/w");
    ASSERT_TRUE(nested);
    EXPECT_EQ(nested->kind, SourceKind::File);
    EXPECT_EQ(nested->path, "/w/images/x.img");
}

TEST(ImageSource, OtherNamesAreCachedNamesOrRefused) {
    auto cached = parse_image_source("my-import-1a2b3c4d");
    ASSERT_TRUE(cached);
    EXPECT_EQ(cached->kind, SourceKind::Cached);
    auto bad = parse_image_source("bad name!");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(bad.error().message(), HasSubstr("known images are debian-"));
    EXPECT_THAT(bad.error().message(), HasSubstr("ubuntu-24.04"));
    EXPECT_FALSE(parse_image_source(""));
}

TEST(ImageSource, DerivedNamesAreSafeAndBounded) {
    EXPECT_THAT(derived_name("..evil name;rm -rf.qcow2", "k"),
                MatchesRegex("evil-name-rm--rf-[0-9a-f]{8}"));
    EXPECT_THAT(derived_name("", "k"), MatchesRegex("image-[0-9a-f]{8}"));
    EXPECT_LE(derived_name(std::string(300, 'x'), "k").size(), 48U + 9U);
    EXPECT_THAT(derived_name("A.RAW", "k"), MatchesRegex("A-[0-9a-f]{8}"));
}

TEST(ImageSource, UrlsAreCheckedByTheDownloadLayersRule) {
    // The same rule as fetch::check_url: credentials never reach the cache name's message.
    auto creds = parse_image_source("https://user:secret@h.test/x.qcow2");
    ASSERT_TRUE(creds) << creds.error().message();
    auto bad = parse_image_source("https://user:secret@/x.qcow2");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message().find("secret"), std::string::npos) << bad.error().message();
}

TEST(CloudCatalog, EmbeddedCatalogPinsEveryAliasAndShadowsNoBuiltImage) {
    const auto& c = cloud_catalog();
    EXPECT_THAT(c.checked, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}"));
    std::vector<std::string> aliases;
    for (const auto& image : c.images) {
        aliases.push_back(image.alias);
        EXPECT_FALSE(find_alias(image.alias)) << image.alias;
        auto amd64 = image.for_arch("amd64");
        ASSERT_TRUE(amd64) << image.alias;
        EXPECT_THAT((*amd64)->url, HasSubstr("https://"));
        EXPECT_FALSE((*amd64)->digest.hex.empty());
    }
    EXPECT_THAT(aliases, ::testing::IsSupersetOf({"debian-12-cloud", "debian-13-cloud",
                                                  "ubuntu-22.04", "ubuntu-24.04", "ubuntu-26.04"}));
}

TEST(CloudCatalog, RejectsEntriesWithoutExactlyOnePin) {
    auto none = parse_cloud_catalog(R"({"checked":"2026-01-01","images":{"x":{"distro":"d",
        "release":"1","arch":{"amd64":{"url":"https://h/x"}}}}})");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().kind, ErrorKind::Corrupt);
    auto http = parse_cloud_catalog(R"({"checked":"2026-01-01","images":{"x":{"distro":"d",
        "release":"1","arch":{"amd64":{"url":"http://h/x","sha256":")" +
                                    kHex64 + R"("}}}}})");
    ASSERT_FALSE(http);
    EXPECT_THAT(http.error().message(), HasSubstr("https"));
}

TEST(CloudCatalog, MissingArchitectureNamesTheOnesThereAre) {
    auto s = cloud_catalog().images.front().for_arch("riscv64");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(s.error().message(), HasSubstr("amd64"));
}

} // namespace
} // namespace fleetbox::image

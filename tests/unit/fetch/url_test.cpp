// URL handling of the download layer: what a message may show of a URL, and which URLs may
// be fetched at all (http/https only; file:// would read host files as root).
#include "fetch/fetch.hpp"
#include "fetch/url.hpp"

#include <gtest/gtest.h>

namespace fleetbox::fetch {
namespace {

TEST(RedactUrl, StripsCredentialsQueryAndFragment) {
    EXPECT_EQ(redact_url("https://user:secret@example.org/a/b.qcow2?X-Sig=abc#sha256=00"),
              "https://example.org/a/b.qcow2");
    EXPECT_EQ(redact_url("http://token@host:8080/x"), "http://host:8080/x");
    EXPECT_EQ(redact_url("https://host/x?y"), "https://host/x");
}

TEST(RedactUrl, KeepsAPlainUrl) {
    EXPECT_EQ(redact_url("https://cloud.example/images/debian-12.qcow2"),
              "https://cloud.example/images/debian-12.qcow2");
}

TEST(RedactUrl, AnAtSignInThePathIsNotACredential) {
    EXPECT_EQ(redact_url("https://host/users/@me/x.img"), "https://host/users/@me/x.img");
}

TEST(RedactUrl, CutsSecretsOfTextThatIsNoUrl) {
    EXPECT_EQ(redact_url("user:pw@host/x?token=1"), "host/x");
}

TEST(CheckUrl, AcceptsHttpAndHttps) {
    EXPECT_TRUE(check_url("http://127.0.0.1:8080/x"));
    EXPECT_TRUE(check_url("https://example.org/x.qcow2"));
    EXPECT_TRUE(check_url("HTTPS://example.org/x.qcow2"));
    EXPECT_TRUE(check_url("https://u:p@example.org/x"));
}

TEST(CheckUrl, RejectsOtherSchemesNamingThem) {
    for (const char* url : {"file:///etc/shadow", "ftp://host/x", "scp://host/x", "gopher://h/"}) {
        auto st = check_url(url);
        ASSERT_FALSE(st) << url;
        EXPECT_EQ(st.error().kind, ErrorKind::InvalidArgument);
        EXPECT_NE(st.error().message().find("only http:// and https://"), std::string::npos);
        EXPECT_FALSE(st.error().hint.empty());
    }
}

TEST(CheckUrl, RejectsNoSchemeNoHostAndSpaces) {
    EXPECT_FALSE(check_url("example.org/x.qcow2"));
    EXPECT_FALSE(check_url("https:///x.qcow2"));
    EXPECT_FALSE(check_url("https://:80/x"));
    EXPECT_FALSE(check_url("https://host/a b.qcow2"));
}

TEST(CheckUrl, MessagesNeverShowCredentials) {
    auto st = check_url("ftp://alice:hunter2@host/x?key=s3cr3t");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message().find("hunter2"), std::string::npos);
    EXPECT_EQ(st.error().message().find("s3cr3t"), std::string::npos);
    EXPECT_NE(st.error().message().find("ftp://host/x"), std::string::npos);
}

TEST(FetchUrl, RefusesANonHttpUrlBeforeTouchingDest) {
    auto r = fetch_url("file:///etc/passwd", "/nonexistent-dir/x.img", FetchOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
}

TEST(FetchUrl, RefusesAMalformedPinBeforeDownloading) {
    FetchOptions options;
    for (const auto& pin :
         {Pin{HashAlgo::Sha256, std::string(63, 'a')}, Pin{HashAlgo::Sha256, std::string(64, 'g')},
          Pin{HashAlgo::Sha512, std::string(64, 'a')}}) {
        options.pin = pin;
        // Port 9 on 127.0.0.1 is never contacted: the pin is checked first.
        auto r = fetch_url("http://127.0.0.1:9/x.img", "/nonexistent-dir/x.img", options);
        ASSERT_FALSE(r) << pin.hex;
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument) << r.error().message();
        EXPECT_NE(r.error().message().find("hex digits"), std::string::npos);
    }
}

} // namespace
} // namespace fleetbox::fetch

// fetch_url against an HTTP server the test runs on 127.0.0.1 (support/http_server.hpp): the
// full download, resume after a cut connection, the server faults the issue lists (404, a
// refused connection, a stall, a wrong hash, Range ignored, a changed file), progress lines,
// cancellation, two downloads of one file, and a full disk (root only: a small tmpfs in a
// private mount namespace). No other address is ever contacted.
#include "fetch/fetch.hpp"
#include "support/http_server.hpp"
#include "support/loopback_port.hpp"
#include "support/test_support.hpp"
#include "sys/interrupt.hpp"
#include "sys/sha256.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <random>
#include <thread>

namespace fleetbox::fetch {
namespace {

namespace fs = std::filesystem;
using test::HttpBehaviour;
using test::HttpServer;
using namespace std::chrono_literals;

std::string random_bytes(std::size_t n, unsigned seed = 1) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen() & 0xff);
    return s;
}

// Waits (bounded) until the .part holds `bytes`.
bool wait_for_part(const std::string& part, std::uintmax_t bytes) {
    for (int i = 0; i < 3000; ++i) {
        std::error_code ec;
        if (fs::file_size(part, ec) >= bytes && !ec)
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

class FetchTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(server.port(), 0);
        dest = dir.file("image.qcow2");
    }
    test::ScopedEnv no_proxy{"no_proxy", "*"}; // a proxy from the environment never sees it
    HttpServer server;
    test::ScratchDir dir;
    std::string dest;
    FetchOptions options;
    const std::string data = random_bytes(3u << 20);
};

TEST_F(FetchTest, DownloadsAndChecksThePin) {
    server.serve("/img", data);
    options.pin = Pin{HashAlgo::Sha256, sha256_hex(data)};
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->size, data.size());
    EXPECT_EQ(r->sha256, sha256_hex(data));
    EXPECT_FALSE(r->resumed);
    EXPECT_EQ(test::read_text(dest), data);
    EXPECT_FALSE(fs::exists(dest + ".part"));
    EXPECT_FALSE(fs::exists(dest + ".part.validator"));
    EXPECT_EQ(server.requests("/img"), 1);
}

TEST_F(FetchTest, AcceptsAnUppercaseSha512Pin) {
    server.serve("/img", data);
    // sha512 of the data, computed by a second, independent path: coreutils.
    test::write_text(dir.file("data"), data);
    std::string cmd = "sha512sum " + dir.file("data") + " > " + dir.file("sum");
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::string hex = test::read_text(dir.file("sum")).substr(0, 128);
    for (auto& c : hex)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    options.pin = Pin{HashAlgo::Sha512, hex};
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->sha256, sha256_hex(data));
}

TEST_F(FetchTest, ResumesAfterACutConnection) {
    HttpBehaviour cut;
    cut.cut_after = 1u << 20;
    server.serve("/img", data, cut);
    auto first = fetch_url(server.url("/img"), dest, options);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().kind, ErrorKind::Network) << first.error().message();
    EXPECT_NE(first.error().hint.find("resume"), std::string::npos) << first.error().hint;
    EXPECT_FALSE(fs::exists(dest));
    ASSERT_EQ(fs::file_size(dest + ".part"), 1u << 20);

    server.set_behaviour("/img", {});
    options.pin = Pin{HashAlgo::Sha256, sha256_hex(data)};
    auto second = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_TRUE(second->resumed);
    EXPECT_EQ(second->sha256, sha256_hex(data));
    EXPECT_EQ(second->size, data.size());
    EXPECT_EQ(test::read_text(dest), data);
    auto ranges = server.ranges("/img");
    ASSERT_EQ(ranges.size(), 2U);
    EXPECT_EQ(ranges[0], "");
    EXPECT_EQ(ranges[1], "bytes=1048576-");
    EXPECT_FALSE(server.if_ranges("/img")[1].empty()) << "the resume must name the validator";
    EXPECT_FALSE(fs::exists(dest + ".part"));
}

TEST_F(FetchTest, RestartsFromZeroWhenTheServerIgnoresRange) {
    HttpBehaviour cut;
    cut.cut_after = 1u << 20;
    server.serve("/img", data, cut);
    ASSERT_FALSE(fetch_url(server.url("/img"), dest, options));
    HttpBehaviour no_range;
    no_range.ignore_range = true;
    server.set_behaviour("/img", no_range);
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->resumed);
    EXPECT_EQ(r->sha256, sha256_hex(data));
    EXPECT_EQ(test::read_text(dest), data);
    EXPECT_EQ(server.ranges("/img")[1], "bytes=1048576-");
}

TEST_F(FetchTest, RestartsFromZeroWhenTheFileChanged) {
    HttpBehaviour cut;
    cut.cut_after = 1u << 20;
    server.serve("/img", data, cut);
    ASSERT_FALSE(fetch_url(server.url("/img"), dest, options));
    const std::string changed = random_bytes(2u << 20, 2);
    server.serve("/img", changed); // a new ETag: If-Range no longer matches
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->resumed);
    EXPECT_EQ(r->sha256, sha256_hex(changed));
    EXPECT_EQ(test::read_text(dest), changed);
}

TEST_F(FetchTest, NeverSplicesWhenTheServerIgnoresIfRange) {
    HttpBehaviour cut;
    cut.cut_after = 1u << 20;
    server.serve("/img", data, cut);
    ASSERT_FALSE(fetch_url(server.url("/img"), dest, options));
    const std::string changed = random_bytes(2u << 20, 4);
    HttpBehaviour sloppy;
    sloppy.ignore_if_range = true; // answers 206 from the new file, with its new ETag
    server.serve("/img", changed, sloppy);
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->resumed);
    EXPECT_EQ(r->sha256, sha256_hex(changed));
    EXPECT_EQ(test::read_text(dest), changed);
    auto ranges = server.ranges("/img");
    ASSERT_EQ(ranges.size(), 3U);
    EXPECT_EQ(ranges[1], "bytes=1048576-");
    EXPECT_EQ(ranges[2], "") << "the restart asks for the whole file";
}

TEST_F(FetchTest, RestartsWhenThePartHasNoValidator) {
    HttpBehaviour plain;
    plain.validators = false;
    plain.cut_after = 1u << 20;
    server.serve("/img", data, plain);
    ASSERT_FALSE(fetch_url(server.url("/img"), dest, options));
    ASSERT_TRUE(fs::exists(dest + ".part"));
    plain.cut_after.reset();
    server.set_behaviour("/img", plain);
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->resumed);
    EXPECT_EQ(server.ranges("/img")[1], "") << "no validator: never splice";
    EXPECT_EQ(test::read_text(dest), data);
}

TEST_F(FetchTest, ACompletePartIsCommittedWithoutDownloadingAgain) {
    // An earlier run got every byte but stopped before the rename.
    server.serve("/img", data);
    ASSERT_TRUE(fetch_url(server.url("/img"), dest, options));
    fs::rename(dest, dest + ".part");
    test::write_text(dest + ".part.validator", server.etag("/img") + "\n");
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->sha256, sha256_hex(data));
    EXPECT_EQ(server.ranges("/img")[1], "bytes=3145728-");
    EXPECT_EQ(test::read_text(dest), data);
}

TEST_F(FetchTest, NotFoundIsOneClearLineAndLeavesNothing) {
    auto r = fetch_url(server.url("/missing.qcow2"), dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
    std::string msg = r.error().message();
    EXPECT_NE(msg.find(server.url("/missing.qcow2")), std::string::npos) << msg;
    EXPECT_NE(msg.find("HTTP 404"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
    EXPECT_FALSE(r.error().hint.empty());
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_FALSE(fs::exists(dest + ".part"));
}

TEST_F(FetchTest, OtherHttpErrorsAreNetworkErrorsNamingTheStatus) {
    HttpBehaviour down;
    down.status = 503;
    server.serve("/img", data, down);
    auto r = fetch_url(server.url("/img?token=s3cr3t"), dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Network);
    EXPECT_NE(r.error().message().find("HTTP 503 Service Unavailable"), std::string::npos);
    EXPECT_EQ(r.error().message().find("s3cr3t"), std::string::npos) << r.error().message();
    EXPECT_FALSE(fs::exists(dest + ".part"));
}

TEST_F(FetchTest, MessagesNeverShowCredentials) {
    auto r = fetch_url("http://alice:hunter2@127.0.0.1:" + std::to_string(server.port()) + "/nope",
                       dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message().find("hunter2"), std::string::npos) << r.error().message();
}

TEST_F(FetchTest, ARefusedConnectionIsANetworkError) {
    test::LoopbackPort nobody(test::LoopbackPort::Mode::Refusing);
    ASSERT_NE(nobody.port(), 0);
    auto r = fetch_url("http://127.0.0.1:" + std::to_string(nobody.port()) + "/img", dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Network) << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_FALSE(fs::exists(dest + ".part"));
}

TEST_F(FetchTest, AServerThatNeverAnswersTimesOut) {
    // The kernel accepts the connection into the backlog; nobody ever reads or answers.
    test::LoopbackPort silent(test::LoopbackPort::Mode::Listening);
    ASSERT_NE(silent.port(), 0);
    options.stall_timeout = 1s;
    auto r = fetch_url("http://127.0.0.1:" + std::to_string(silent.port()) + "/img", dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout) << r.error().message();
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_FALSE(fs::exists(dest + ".part")) << "an empty .part is not kept";
}

TEST_F(FetchTest, TheInterruptFlagStopsADownload) {
    HttpBehaviour stall;
    stall.stall_after = 256u << 10;
    server.serve("/img", data, stall);
    options.stall_timeout = 120s;
    install_interrupt_handlers();
    std::jthread interrupter([&] {
        wait_for_part(dest + ".part", 256u << 10);
        ::raise(SIGINT);
    });
    auto r = fetch_url(server.url("/img"), dest, options);
    interrupter.join();
    reset_interrupt();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted) << r.error().message();
    EXPECT_NE(r.error().hint.find("resume"), std::string::npos) << r.error().hint;
    EXPECT_EQ(fs::file_size(dest + ".part"), 256u << 10);
}

TEST_F(FetchTest, AStallTimesOutAndKeepsThePart) {
    HttpBehaviour stall;
    stall.stall_after = 512u << 10;
    server.serve("/img", data, stall);
    options.stall_timeout = 1s;
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Timeout) << r.error().message();
    EXPECT_NE(r.error().message().find("sent nothing for 1 s"), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().hint.find("kept"), std::string::npos) << r.error().hint;
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_EQ(fs::file_size(dest + ".part"), 512u << 10);
}

TEST_F(FetchTest, AHashMismatchRemovesEverything) {
    server.serve("/img", data);
    options.pin = Pin{HashAlgo::Sha256, std::string(64, '0')};
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
    std::string msg = r.error().message();
    EXPECT_NE(msg.find(sha256_hex(data)), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string(64, '0')), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_FALSE(fs::exists(dest + ".part"));
    EXPECT_FALSE(fs::exists(dest + ".part.validator"));
}

TEST_F(FetchTest, ARedirectIsFollowedOnlyToHttp) {
    server.serve("/img", data);
    HttpBehaviour moved;
    moved.status = 302;
    moved.location = "/img";
    server.serve("/old", "", moved);
    auto r = fetch_url(server.url("/old"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->sha256, sha256_hex(data));

    test::write_text(dir.file("secret"), "host file");
    moved.location = "file://" + dir.file("secret");
    server.serve("/evil", "", moved);
    std::string other = dir.file("other.img");
    auto evil = fetch_url(server.url("/evil"), other, options);
    ASSERT_FALSE(evil);
    EXPECT_EQ(evil.error().kind, ErrorKind::Network) << evil.error().message();
    EXPECT_FALSE(fs::exists(other));
    EXPECT_FALSE(fs::exists(other + ".part"));
}

TEST_F(FetchTest, LinesProgressPrintsTenLinesForAKnownSize) {
    const std::string big = random_bytes(8u << 20, 3);
    server.serve("/img", big);
    std::FILE* out = std::tmpfile();
    ASSERT_NE(out, nullptr);
    options.progress = ProgressStyle::Lines;
    options.progress_out = out;
    options.label = "image test";
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_TRUE(r) << r.error().message();
    std::rewind(out);
    std::vector<std::string> lines;
    char buf[512];
    while (std::fgets(buf, sizeof buf, out) != nullptr)
        lines.emplace_back(buf);
    std::fclose(out);
    ASSERT_EQ(lines.size(), 10U);
    EXPECT_EQ(lines.front().rfind("image test:  10%", 0), 0U) << lines.front();
    EXPECT_EQ(lines.back().rfind("image test: 100% 8.0 MiB of 8.0 MiB", 0), 0U) << lines.back();
}

TEST_F(FetchTest, CancellationStopsAndKeepsThePart) {
    HttpBehaviour stall;
    stall.stall_after = 256u << 10;
    server.serve("/img", data, stall);
    std::stop_source stop;
    options.cancel = stop.get_token();
    options.stall_timeout = 120s;
    std::jthread canceller([&] {
        wait_for_part(dest + ".part", 256u << 10);
        stop.request_stop();
    });
    auto r = fetch_url(server.url("/img"), dest, options);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Interrupted) << r.error().message();
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_EQ(fs::file_size(dest + ".part"), 256u << 10);
}

TEST_F(FetchTest, ASecondDownloadOfTheSameFileIsBusyNotInterleaved) {
    HttpBehaviour stall;
    stall.stall_after = 256u << 10;
    server.serve("/img", data, stall);
    std::stop_source stop;
    FetchOptions first_options;
    first_options.cancel = stop.get_token();
    Result<FetchResult> first;
    std::jthread downloader([&] { first = fetch_url(server.url("/img"), dest, first_options); });
    ASSERT_TRUE(wait_for_part(dest + ".part", 256u << 10));
    auto second = fetch_url(server.url("/img"), dest, options);
    stop.request_stop();
    downloader.join();
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::Busy) << second.error().message();
    EXPECT_EQ(server.requests("/img"), 1) << "the second call must not download";
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().kind, ErrorKind::Interrupted);
    EXPECT_EQ(fs::file_size(dest + ".part"), 256u << 10);
}

} // namespace
} // namespace fleetbox::fetch

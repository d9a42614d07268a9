// fleetbox-test-httpd, the standalone server e2e tests and bench/download.sh use: it prints
// its port, serves a directory's files (with Range and If-Range, so a download resumes
// against it), refuses paths outside the directory, and exits cleanly on SIGTERM.
#include "fetch/fetch.hpp"
#include "support/process_helpers.hpp"
#include "support/test_support.hpp"
#include "sys/sha256.hpp"

#include <csignal>
#include <ctime>
#include <filesystem>
#include <gtest/gtest.h>
#include <random>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox::fetch {
namespace {

namespace fs = std::filesystem;

class TestHttpd : public ::testing::Test {
protected:
    void SetUp() override {
        std::mt19937 gen(7);
        data.resize(2u << 20);
        for (auto& c : data)
            c = static_cast<char>(gen() & 0xff);
        fs::create_directories(dir.file("srv/sub"));
        test::write_text(dir.file("srv/sub/disk.raw"), data);
        test::write_text(dir.file("outside.txt"), "not served");

        int out[2];
        ASSERT_EQ(::pipe(out), 0);
        pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            std::string program = test::built("tests/fleetbox-test-httpd");
            std::string root = dir.file("srv");
            ::execl(program.c_str(), program.c_str(), root.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(out[1]);
        char buf[32] = {};
        ssize_t n = ::read(out[0], buf, sizeof buf - 1);
        ::close(out[0]);
        ASSERT_GT(n, 0) << "fleetbox-test-httpd printed no port";
        port = std::stoi(buf);
        ASSERT_GT(port, 0);
    }
    void TearDown() override {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }

    test::ScopedEnv no_proxy{"no_proxy", "*"}; // a proxy from the environment never sees it
    test::ScratchDir dir;
    std::string data;
    pid_t pid = -1;
    int port = 0;
};

TEST_F(TestHttpd, ServesResumesRefusesAndStops) {
    {
        SCOPED_TRACE("a whole file");
        auto r = fetch_url(url("/sub/disk.raw"), dir.file("a.raw"), FetchOptions{});
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->sha256, sha256_hex(data));
    }
    {
        SCOPED_TRACE("a resume with If-Range: Last-Modified");
        const std::string dest = dir.file("b.raw");
        test::write_text(dest + ".part", data.substr(0, 1u << 20));
        struct stat st {};
        ASSERT_EQ(::stat(dir.file("srv/sub/disk.raw").c_str(), &st), 0);
        std::tm tm{};
        ::gmtime_r(&st.st_mtime, &tm);
        char date[64];
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        test::write_text(dest + ".part.validator", std::string(date) + "\n");
        auto r = fetch_url(url("/sub/disk.raw"), dest, FetchOptions{});
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_TRUE(r->resumed);
        EXPECT_EQ(r->sha256, sha256_hex(data));
    }
    {
        SCOPED_TRACE("missing files and paths outside the directory");
        for (const char* path :
             {"/nope.raw", "/../outside.txt", "/sub/../../outside.txt", "/sub"}) {
            auto r = fetch_url(url(path), dir.file("c.raw"), FetchOptions{});
            ASSERT_FALSE(r) << path;
            EXPECT_EQ(r.error().kind, ErrorKind::NotFound) << path << ": " << r.error().message();
        }
    }
    {
        SCOPED_TRACE("SIGTERM");
        ASSERT_EQ(::kill(pid, SIGTERM), 0);
        auto status = test::reap_within(pid, std::chrono::seconds(10));
        pid = -1;
        ASSERT_TRUE(status.has_value());
        EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
    }
}

} // namespace
} // namespace fleetbox::fetch

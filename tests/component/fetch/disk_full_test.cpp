// A download that fills the disk: NoSpace, one line that says what to do, and the bytes that
// did fit kept for the resume. Needs root: the "disk" is a 1 MiB tmpfs mounted in a private
// mount namespace of a forked child (the host's mounts are never touched).
#include "fetch/fetch.hpp"
#include "support/http_server.hpp"
#include "support/test_support.hpp"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox::fetch {
namespace {

namespace fs = std::filesystem;

// Runs in the child (forked while the test process has one thread, so the child may start
// the server's threads): returns the exit code; writes what it saw to `report`.
int download_into_small_tmpfs(const std::string& disk, const std::string& report) {
    if (::unshare(CLONE_NEWNS) != 0)
        return 10;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return 11;
    if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=1m") != 0)
        return 12;
    test::HttpServer server;
    if (server.port() == 0)
        return 13;
    server.serve("/big.raw", std::string(4u << 20, 'x'));
    auto r = fetch_url(server.url("/big.raw"), disk + "/image.raw", FetchOptions{});
    std::string text;
    int code = 0;
    if (r) {
        text = "unexpected success";
        code = 20;
    } else {
        text = std::string(to_string(r.error().kind)) + "\n" + r.error().message() + "\n" +
               r.error().hint + "\n";
        std::error_code ec;
        auto part = fs::file_size(disk + "/image.raw.part", ec);
        text += "part=" + (ec ? std::string("missing") : std::to_string(part)) + "\n";
        text += std::string("dest=") + (fs::exists(disk + "/image.raw") ? "yes" : "no") + "\n";
    }
    test::write_text(report, text);
    return code;
}

TEST(FetchDiskFull, NoSpaceKeepsTheBytesThatFit) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root (a tmpfs in a private mount namespace)";
    test::ScopedEnv no_proxy{"no_proxy", "*"}; // a proxy from the environment never sees it
    test::ScratchDir dir;
    const std::string disk = dir.file("disk");
    ASSERT_TRUE(fs::create_directory(disk));
    const std::string report = dir.file("report");

    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0)
        ::_exit(download_into_small_tmpfs(disk, report));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0) << "child step failed (10-12: namespace/mount, 13: server)";
    std::string seen = test::read_text(report);
    EXPECT_EQ(seen.rfind("no-space\n", 0), 0U) << seen;
    EXPECT_NE(seen.find("download http://127.0.0.1:"), std::string::npos) << seen;
    EXPECT_NE(seen.find("/big.raw: disk full while writing " + disk + "/image.raw.part"),
              std::string::npos)
        << seen;
    EXPECT_NE(seen.find("free space and run again: the 1 MiB already downloaded are kept"),
              std::string::npos)
        << seen;
    EXPECT_EQ(seen.find("part=missing"), std::string::npos) << seen;
    EXPECT_EQ(seen.find("part=0\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("dest=no"), std::string::npos) << seen;
    // The tmpfs lived only in the child's namespace: nothing is mounted here.
    EXPECT_TRUE(fs::is_empty(disk));
}

} // namespace
} // namespace fleetbox::fetch

// Component tests for the guest program that replaces the cluster block of /etc/hosts: the
// real script run by the host's POSIX shells (dash, as Debian guests use for /bin/sh, and
// bash) on scratch files, checked against splice_cluster_block (its specification) over a
// table of files, plus what the pure function cannot show: the file is replaced by rename
// (a new inode, mode 0644, no temporary left), a block cut short is refused without touching
// the file, and nothing read from the file is ever executed.
#include "seed/cluster_block.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox::seed {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class ClusterBlockScript : public ::testing::Test {
protected:
    test::ScratchDir dir;
    std::string hosts = dir.file("hosts");

    // Runs `command` through /bin/sh (as sshd runs a command through the login shell) with
    // `block` on stdin.
    CommandOutput run(const std::string& command, const std::string& block) {
        test::write_text(dir.file("block.in"), block);
        ChildSpec spec;
        spec.argv = {"/bin/sh", "-c", command + " < " + shell_quote(dir.file("block.in"))};
        spec.out = spec.err = Stream::Capture;
        spec.cwd = dir.path(); // where a command smuggled in through the file would write
        auto r = run_command(spec, 30s);
        EXPECT_TRUE(r) << r.error().message();
        ::unlink(dir.file("block.in").c_str());
        return r.value_or(CommandOutput{});
    }
    // The program run directly by `shell` (not through /bin/sh).
    CommandOutput run_with(const std::string& shell, const std::string& block) {
        return run(shell_join({shell, "-c", cluster_block_script(), "fleetbox-hosts", hosts}),
                   block);
    }
    // Names in the scratch directory.
    std::vector<std::string> entries() {
        std::vector<std::string> names;
        if (DIR* d = ::opendir(dir.path().c_str())) {
            while (dirent* e = ::readdir(d))
                if (std::string n = e->d_name; n != "." && n != "..")
                    names.push_back(n);
            ::closedir(d);
        }
        std::sort(names.begin(), names.end());
        return names;
    }
};

std::string block_of(const std::vector<HostEntry>& entries) {
    return render_cluster_block(entries).value_or("");
}

// Existing files (nullopt: no file) the program must edit exactly as splice_cluster_block.
std::vector<std::optional<std::string>> sample_files() {
    std::string seed = "# written by fleetbox at boot\n127.0.0.1\tlocalhost\n127.0.1.1\tweb-1\n";
    std::string begin = std::string(kClusterBlockBegin) + " (kept current by the host)\n";
    std::string end = std::string(kClusterBlockEnd) + "\n";
    return {
        std::nullopt,
        std::string(),
        seed,
        seed + block_of({{"10.0.0.9", "web-9"}}),
        seed + block_of({{"10.0.0.9", "web-9"}}) + "10.7.7.7\tadded-later\n",
        begin + "1.1.1.1\ta\n" + end + "keep\n" + begin + "2.2.2.2\tb\n" + end + "keep too\n",
        seed + begin + "10.0.0.2\tno-end-marker\n",
        "  lead\t \n\n-n\n-e \\n literal\\\\backslash\n$(touch pwned) `touch pwned2`\r\n'q'\"q\"\n"
        "no final newline",
    };
}

TEST_F(ClusterBlockScript, DoesWhatTheSpliceSaysInEveryShell) {
    const auto block = block_of({{"10.0.0.2", "web-2"}, {"fd00::3", "web-3"}});
    for (const std::string shell : {"/bin/sh", "dash", "bash"}) {
        if (shell != "/bin/sh" && find_program(shell).empty())
            continue;
        for (const auto& before : sample_files()) {
            SCOPED_TRACE(shell + " on " + (before ? ::testing::PrintToString(*before) : "no file"));
            ::unlink(hosts.c_str());
            if (before)
                test::write_text(hosts, *before);
            auto r = run_with(shell, block);
            ASSERT_EQ(r.status.code, 0) << r.err;
            EXPECT_EQ(test::read_text(hosts), splice_cluster_block(before.value_or(""), block));
        }
    }
    EXPECT_FALSE(path_exists(dir.file("pwned")));
    EXPECT_FALSE(path_exists(dir.file("pwned2")));
}

TEST_F(ClusterBlockScript, TheCommandLineRunsItOnTheNamedFile) {
    test::write_text(hosts, "127.0.1.1\tweb-1\n");
    const auto block = block_of({{"10.0.0.2", "web-2"}});
    auto r = run(cluster_block_command(hosts, /*sudo=*/false), block);
    ASSERT_EQ(r.status.code, 0) << r.err;
    EXPECT_EQ(test::read_text(hosts), "127.0.1.1\tweb-1\n" + block);
    // Twice is the same file.
    r = run(cluster_block_command(hosts, false), block);
    ASSERT_EQ(r.status.code, 0) << r.err;
    EXPECT_EQ(test::read_text(hosts), "127.0.1.1\tweb-1\n" + block);
}

TEST_F(ClusterBlockScript, ReplacesTheFileByRenameWithMode0644AndLeavesNoTemporary) {
    test::write_text(hosts, "127.0.1.1\tweb-1\n", 0600);
    struct stat before {};
    ASSERT_EQ(::stat(hosts.c_str(), &before), 0);
    auto r = run(cluster_block_command(hosts, false), block_of({{"10.0.0.2", "web-2"}}));
    ASSERT_EQ(r.status.code, 0) << r.err;
    struct stat after {};
    ASSERT_EQ(::stat(hosts.c_str(), &after), 0);
    EXPECT_NE(before.st_ino, after.st_ino) << "written in place, not renamed over";
    EXPECT_EQ(after.st_mode & 07777, 0644u);
    EXPECT_EQ(entries(), std::vector<std::string>{"hosts"});
}

TEST_F(ClusterBlockScript, RefusesABlockCutShortAndLeavesTheFileAlone) {
    const std::string original = "127.0.1.1\tweb-1\n";
    test::write_text(hosts, original);
    const auto block = block_of({{"10.0.0.2", "web-2"}, {"10.0.0.3", "web-3"}});
    for (const std::string& cut :
         {block.substr(0, block.size() - 5), block.substr(0, block.find("10.0.0.3")), std::string(),
          std::string("10.6.6.6\tevil\n")}) {
        SCOPED_TRACE(cut);
        auto r = run(cluster_block_command(hosts, false), cut);
        EXPECT_EQ(r.status.code, 2);
        EXPECT_THAT(r.err, HasSubstr("refusing a malformed cluster block"));
        EXPECT_EQ(test::read_text(hosts), original);
        EXPECT_EQ(entries(), std::vector<std::string>{"hosts"});
    }
}

TEST_F(ClusterBlockScript, FailsWithAMessageWhenTheDirectoryIsMissing) {
    auto r = run(cluster_block_command(dir.file("no/such/dir/hosts"), false),
                 block_of({{"10.0.0.2", "web-2"}}));
    EXPECT_NE(r.status.code, 0);
    EXPECT_FALSE(trim(r.err).empty());
}

} // namespace
} // namespace fleetbox::seed

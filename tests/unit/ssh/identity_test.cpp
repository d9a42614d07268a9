// Unit tests for ssh::ensure_identity: lazily created, stable, strict about corruption,
// and one key even when several threads or processes ask for it first at the same time.
#include "ssh/keys.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <atomic>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fleetbox::ssh {
namespace {

using test::ScratchDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

TEST(EnsureIdentity, CreatesPrivateAndPub0600ThatOpensshReads) {
    ScratchDir dir;
    const std::string key = dir.file("id_ed25519");
    auto pair = ensure_identity(key);
    ASSERT_TRUE(pair) << pair.error().message();
    EXPECT_EQ(mode_of(key), 0600u);
    EXPECT_EQ(mode_of(key + ".pub"), 0600u);
    EXPECT_EQ(mode_of(key + ".lock"), 0600u);
    EXPECT_EQ(test::read_text(key), pair->private_openssh);
    EXPECT_EQ(test::read_text(key + ".pub"), pair->public_line + "\n");
    EXPECT_THAT(pair->private_openssh, StartsWith("-----BEGIN OPENSSH PRIVATE KEY-----"));

    ChildSpec spec;
    spec.argv = {"ssh-keygen", "-y", "-f", key};
    spec.out = Stream::Capture;
    auto out = run_command(spec);
    ASSERT_TRUE(out && out->status.ok());
    auto derived = split(std::string(trim(out->out)), ' ');
    auto ours = split(pair->public_line, ' ');
    ASSERT_GE(derived.size(), 2u);
    EXPECT_EQ(derived[1], ours[1]);
}

TEST(EnsureIdentity, SecondCallReturnsTheSameKey) {
    ScratchDir dir;
    auto first = ensure_identity(dir.file("id"));
    auto second = ensure_identity(dir.file("id"));
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->private_openssh, second->private_openssh);
    EXPECT_EQ(first->public_line, second->public_line);
}

TEST(EnsureIdentity, CorruptPrivateKeyIsAnErrorNamingTheFile) {
    ScratchDir dir;
    const std::string key = dir.file("id");
    ASSERT_TRUE(ensure_identity(key));
    test::write_text(key, "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n", 0600);
    auto again = ensure_identity(key);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, ErrorKind::Corrupt);
    EXPECT_THAT(again.error().message(), HasSubstr(key));
    EXPECT_THAT(again.error().hint, HasSubstr("delete " + key));
    EXPECT_THAT(test::read_text(key), HasSubstr("garbage")); // never silently replaced
}

TEST(EnsureIdentity, PubOfAnotherKeyIsAnErrorNamingThePub) {
    ScratchDir dir;
    const std::string key = dir.file("id");
    ASSERT_TRUE(ensure_identity(key));
    auto other = generate_ed25519("other");
    ASSERT_TRUE(other);
    test::write_text(key + ".pub", other->public_line + "\n");
    auto again = ensure_identity(key);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, ErrorKind::Corrupt);
    EXPECT_THAT(again.error().message(), HasSubstr(key + ".pub"));
}

TEST(EnsureIdentity, MissingPubIsRewrittenFromThePrivateKey) {
    ScratchDir dir;
    const std::string key = dir.file("id");
    auto first = ensure_identity(key);
    ASSERT_TRUE(first);
    ASSERT_EQ(::unlink((key + ".pub").c_str()), 0);
    auto again = ensure_identity(key);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->private_openssh, first->private_openssh);
    EXPECT_EQ(again->public_line, first->public_line);
    EXPECT_EQ(test::read_text(key + ".pub"), first->public_line + "\n");
}

TEST(EnsureIdentity, LoosePrivateKeyModeIsTightened) {
    ScratchDir dir;
    const std::string key = dir.file("id");
    ASSERT_TRUE(ensure_identity(key));
    ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
    ASSERT_EQ(::chmod((key + ".pub").c_str(), 0644), 0);
    ASSERT_TRUE(ensure_identity(key));
    EXPECT_EQ(mode_of(key), 0600u);
    EXPECT_EQ(mode_of(key + ".pub"), 0600u) << "an older store's 0644 .pub is tightened";
}

// A symlink planted as the key's lock is refused; the file it names is never created.
TEST(EnsureIdentity, APlantedLockSymlinkIsNotFollowed) {
    ScratchDir dir;
    ASSERT_EQ(::mkdir(dir.file("elsewhere").c_str(), 0700), 0);
    const std::string target = dir.file("elsewhere/made-through-link");
    ASSERT_EQ(::symlink(target.c_str(), dir.file("id.lock").c_str()), 0);
    auto pair = ensure_identity(dir.file("id"));
    ASSERT_FALSE(pair);
    EXPECT_THAT(pair.error().message(), HasSubstr("symbolic link"));
    EXPECT_FALSE(path_exists(target));
}

TEST(EnsureIdentity, MissingDirectoryIsAnError) {
    ScratchDir dir;
    auto pair = ensure_identity(dir.file("absent/id"));
    ASSERT_FALSE(pair);
    EXPECT_EQ(pair.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(pair.error().message(), HasSubstr(dir.file("absent/id")));
}

TEST(EnsureIdentity, ConcurrentThreadsAgreeOnOneKey) {
    ScratchDir dir;
    const std::string key = dir.file("id");
    constexpr int kThreads = 8;
    std::vector<std::string> lines(kThreads);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            while (!go.load())
                std::this_thread::yield();
            auto pair = ensure_identity(key);
            lines[i] = pair ? pair->public_line : "error: " + pair.error().message();
        });
    }
    go = true;
    for (auto& t : threads)
        t.join();
    for (const auto& line : lines)
        EXPECT_EQ(line, lines[0]);
    EXPECT_EQ(test::read_text(key + ".pub"), lines[0] + "\n");
}

TEST(EnsureIdentity, ConcurrentProcessesAgreeOnOneKey) {
    ScratchDir dir;
    const std::string key = dir.file("id");
    constexpr int kProcs = 4;
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<pid_t> pids;
    for (int i = 0; i < kProcs; ++i) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(gate[1]);
            char c;
            while (::read(gate[0], &c, 1) > 0) {
            } // EOF when the parent closes the gate: all start together
            auto pair = ensure_identity(key);
            std::string out = pair ? pair->public_line : "error";
            test::write_text(dir.file("out" + std::to_string(i)), out);
            ::_exit(pair ? 0 : 1);
        }
        pids.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]);
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const std::string first = test::read_text(dir.file("out0"));
    EXPECT_THAT(first, StartsWith("ssh-ed25519 "));
    for (int i = 1; i < kProcs; ++i)
        EXPECT_EQ(test::read_text(dir.file("out" + std::to_string(i))), first);
    EXPECT_EQ(test::read_text(key + ".pub"), first + "\n");
}

} // namespace
} // namespace fleetbox::ssh

// Store layout, paths, create/load/exists/list (reference §5).
#include "store/mac.hpp"
#include "store_fixture.hpp"
#include "sys/fs.hpp"

#include <atomic>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fleetbox {
namespace {

using test::mode_of;
using test::ScopedEnv;
using test::ScratchDir;
using test::StoreTest;
using test::tree;

TEST_F(StoreTest, OpenCreatesTheLayout) {
    EXPECT_EQ(store().root(), root());
    EXPECT_EQ(mode_of(root()), 0700U);
    EXPECT_EQ(mode_of(root() + "/clusters"), 0700U);
    EXPECT_EQ(mode_of(root() + "/images"), 0700U);
    EXPECT_EQ(mode_of(root() + "/run"), 0700U);
    EXPECT_FALSE(path_exists(root() + "/networks")) << "networks/ is made on first use";
    auto net = store().networks_dir();
    ASSERT_TRUE(net);
    EXPECT_EQ(*net, root() + "/networks");
    EXPECT_EQ(mode_of(*net), 0700U);
    EXPECT_EQ(store().key_path(), root() + "/id_ed25519");
    EXPECT_EQ(store().public_key_path(), root() + "/id_ed25519.pub");
}

TEST(StoreOpen, ModesDoNotDependOnTheUmask) {
    ScratchDir dir;
    const mode_t old = ::umask(0);
    auto store = Store::open(dir.path() + "/a/b/fb");
    ASSERT_TRUE(store) << store.error().message();
    ASSERT_TRUE(store->create(StoreTest::config("web-1")));
    auto lock = store->lock_member("web-1");
    ::umask(old);
    ASSERT_TRUE(lock) << lock.error().message();
    for (const char* rel :
         {"/a", "/a/b", "/a/b/fb", "/a/b/fb/clusters", "/a/b/fb/images", "/a/b/fb/run",
          "/a/b/fb/clusters/web", "/a/b/fb/clusters/web/web-1", "/a/b/fb/locks"})
        EXPECT_EQ(mode_of(dir.path() + rel), 0700U) << rel;
    EXPECT_EQ(mode_of(dir.path() + "/a/b/fb/clusters/web/web-1/config.json"), 0600U);
    EXPECT_EQ(mode_of(dir.path() + "/a/b/fb/locks/web-1.lock"), 0600U);
}

TEST(StoreOpen, UsesFleetboxHome) {
    ScratchDir dir;
    ScopedEnv home("FLEETBOX_HOME", dir.path() + "/env-store");
    auto store = Store::open();
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_EQ(store->root(), dir.path() + "/env-store");
    EXPECT_TRUE(is_directory(dir.path() + "/env-store/clusters"));
}

// A store made by an older fleetbox (0755 directories, 0644 files) is tightened when opened;
// symlinks in it are left alone and their targets untouched.
TEST(StoreOpen, ReopenTightensAnOlderStore) {
    ScratchDir dir;
    const std::string fb = dir.path() + "/fb";
    {
        auto store = Store::open(fb);
        ASSERT_TRUE(store) << store.error().message();
        ASSERT_TRUE(store->create(StoreTest::config("web-1")));
        ASSERT_TRUE(store->networks_dir());
    }
    const std::string member = fb + "/clusters/web/web-1";
    test::write_text(member + "/disk.qcow2", "disk", 0644);
    test::write_text(member + "/seed.iso", "seed", 0644);
    test::write_text(fb + "/id_ed25519.pub", "key", 0644);
    test::write_text(fb + "/networks/fbx0.json", "{}", 0644);
    ASSERT_EQ(::mkdir((fb + "/images/debian-12").c_str(), 0755), 0);
    test::write_text(fb + "/images/debian-12/disk.qcow2", "base", 0644);
    test::write_text(dir.path() + "/outside", "x", 0644);
    ASSERT_EQ(::symlink((dir.path() + "/outside").c_str(), (member + "/link").c_str()), 0);
    for (const char* rel : {"", "/clusters", "/images", "/networks", "/clusters/web",
                            "/clusters/web/web-1", "/images/debian-12"})
        ASSERT_EQ(::chmod((fb + rel).c_str(), 0755), 0) << rel;
    ASSERT_EQ(::chmod((member + "/config.json").c_str(), 0644), 0);

    auto store = Store::open(fb);
    ASSERT_TRUE(store) << store.error().message();
    for (const char* rel : {"", "/clusters", "/images", "/run", "/networks", "/clusters/web",
                            "/clusters/web/web-1", "/images/debian-12"})
        EXPECT_EQ(mode_of(fb + rel), 0700U) << rel;
    for (const char* rel : {"/clusters/web/web-1/config.json", "/clusters/web/web-1/disk.qcow2",
                            "/clusters/web/web-1/seed.iso", "/id_ed25519.pub",
                            "/networks/fbx0.json", "/images/debian-12/disk.qcow2"})
        EXPECT_EQ(mode_of(fb + rel), 0600U) << rel;
    EXPECT_EQ(mode_of(dir.path() + "/outside"), 0644U) << "a symlink's target is never touched";
}

// Tightening changes only what belongs to the store's owner (or this process): a file of a
// third user that turns up in the store is left exactly as it is.
TEST(StoreOpen, TighteningLeavesAThirdUsersFileAlone) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to chown a file to a third uid";
    ScratchDir dir;
    ScopedEnv sudo("SUDO_USER", std::nullopt);
    const std::string fb = dir.path() + "/fb";
    ASSERT_TRUE(Store::open(fb));
    test::write_text(fb + "/clusters/theirs", "x", 0644);
    ASSERT_EQ(::chown((fb + "/clusters/theirs").c_str(), 12345, 12345), 0);
    test::write_text(fb + "/clusters/mine", "x", 0644);
    ASSERT_TRUE(Store::open(fb));
    EXPECT_EQ(mode_of(fb + "/clusters/theirs"), 0644U);
    EXPECT_EQ(mode_of(fb + "/clusters/mine"), 0600U);
}

// Touching a member (its lock) tightens it too, for a store opened before it was loosened.
TEST_F(StoreTest, UsingAMemberTightensIt) {
    create("web-1");
    const std::string member = root() + "/clusters/web/web-1";
    test::write_text(member + "/disk.qcow2", "disk", 0644);
    ASSERT_EQ(::chmod(member.c_str(), 0755), 0);
    ASSERT_EQ(::chmod((root() + "/clusters/web").c_str(), 0755), 0);
    auto used = store().ensure_member_dir("web-1");
    ASSERT_TRUE(used) << used.error().message();
    EXPECT_EQ(mode_of(member), 0700U);
    EXPECT_EQ(mode_of(root() + "/clusters/web"), 0700U);
    EXPECT_EQ(mode_of(member + "/disk.qcow2"), 0600U);
}

TEST(StoreOpen, RefusesAStoreOfAnotherUser) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to chown the store to another uid";
    ScratchDir dir;
    ScopedEnv sudo("SUDO_USER", std::nullopt);
    const std::string fb = dir.path() + "/fb";
    ASSERT_EQ(::mkdir(fb.c_str(), 0700), 0);
    ASSERT_EQ(::chown(fb.c_str(), 65534, 65534), 0);
    auto store = Store::open(fb);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().kind, ErrorKind::Permission);
    EXPECT_EQ(store.error().message(), "use the fleetbox store " + fb +
                                           ": it belongs to nobody (uid 65534), not to root "
                                           "(uid 0) who runs fleetbox");
    EXPECT_EQ(store.error().hint, "set FLEETBOX_HOME to a directory you own");
    EXPECT_FALSE(path_exists(fb + "/clusters")) << "nothing is created in it";
}

TEST(StoreOpen, RefusesAStoreOthersCanWrite) {
    ScratchDir dir;
    const std::string fb = dir.path() + "/fb";
    ASSERT_EQ(::mkdir(fb.c_str(), 0700), 0);
    struct Case {
        mode_t mode;
        const char* says;
    } cases[] = {{0770, "it is writable by its group (mode 0770)"},
                 {0757, "it is writable by other users (mode 0757)"},
                 {01777, "it is writable by other users (mode 1777)"}};
    for (const auto& c : cases) {
        ASSERT_EQ(::chmod(fb.c_str(), c.mode), 0);
        auto store = Store::open(fb);
        ASSERT_FALSE(store) << c.says;
        EXPECT_EQ(store.error().kind, ErrorKind::Permission);
        EXPECT_EQ(store.error().message(), "use the fleetbox store " + fb + ": " + c.says);
        EXPECT_EQ(store.error().hint, "chmod 700 " + fb);
        EXPECT_EQ(mode_of(fb), c.mode) << "a refused store is not changed";
        EXPECT_FALSE(path_exists(fb + "/clusters"));
    }
}

TEST(StoreOpen, RefusesASymlinkAsTheRoot) {
    ScratchDir dir;
    const std::string real = dir.path() + "/real";
    ASSERT_TRUE(Store::open(real));
    ASSERT_EQ(::symlink(real.c_str(), (dir.path() + "/fb").c_str()), 0);
    auto store = Store::open(dir.path() + "/fb");
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().kind, ErrorKind::Permission);
    EXPECT_NE(store.error().message().find("symbolic link"), std::string::npos)
        << store.error().message();
    // A dangling link is refused too, and its target is not created.
    ASSERT_EQ(::symlink((dir.path() + "/absent").c_str(), (dir.path() + "/dangling").c_str()), 0);
    EXPECT_FALSE(Store::open(dir.path() + "/dangling"));
    EXPECT_FALSE(path_exists(dir.path() + "/absent"));
}

TEST(StoreOpen, AFileInTheWayIsAnError) {
    ScratchDir dir;
    test::write_text(dir.path() + "/fb", "not a directory");
    auto store = Store::open(dir.path() + "/fb");
    ASSERT_FALSE(store);
    EXPECT_NE(store.error().message().find("open the fleetbox store"), std::string::npos);
}

// A root of exactly kMaxStoreRootLength characters under the scratch directory.
std::string root_of_length(const ScratchDir& dir, std::size_t length) {
    std::string root = dir.path() + "/";
    root += std::string(length - root.size(), 'r');
    return root;
}

TEST(StoreOpen, SocketPathsFitSunPathForTheLongestAllowedRoot) {
    ScratchDir dir;
    const std::string root = root_of_length(dir, kMaxStoreRootLength);
    auto store = Store::open(root);
    ASSERT_TRUE(store) << store.error().message();
    const std::string longest(63, 'z');
    for (const auto& path :
         {store->socket_path(longest).value(), store->ctl_socket_path(longest).value(),
          store->qmp_socket_path(longest).value()}) {
        EXPECT_LE(path.size(), kMaxSocketPathLength) << path;
        EXPECT_LT(path.size() + 1, 109U) << "with the NUL it fits sizeof(sun_path) = 108";
    }
    EXPECT_EQ(store->socket_path("a").value().size(), kMaxSocketPathLength);
}

TEST(StoreOpen, RefusesARootTooLongForSockets) {
    ScratchDir dir;
    const std::string root = root_of_length(dir, kMaxStoreRootLength + 1);
    auto store = Store::open(root);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().kind, ErrorKind::InvalidArgument);
    EXPECT_NE(store.error().message().find(root), std::string::npos);
    EXPECT_NE(store.error().hint.find("FLEETBOX_HOME"), std::string::npos);
    EXPECT_FALSE(path_exists(root)) << "nothing is created";
}

// A process that stays root under sudo works as root in a store of root's: it never works
// as root in a user's store, and hands nothing to SUDO_USER (the CLI drops to them instead).
TEST(StoreOpen, RootUnderSudoKeepsToItsOwnStore) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs euid 0 to act as sudo";
    ScratchDir dir;
    ScopedEnv sudo("SUDO_USER", "nobody");
    auto store = Store::open(dir.path() + "/fb");
    ASSERT_TRUE(store) << store.error().message();
    ASSERT_TRUE(store->create(StoreTest::config("web-1")));
    auto lock = store->lock_member("web-1");
    ASSERT_TRUE(lock);
    for (const char* rel :
         {"", "/clusters", "/run", "/images", "/clusters/web", "/clusters/web/web-1",
          "/clusters/web/web-1/config.json", "/locks", "/locks/web-1.lock"}) {
        struct stat st {};
        ASSERT_EQ(::lstat((dir.path() + "/fb" + rel).c_str(), &st), 0) << rel;
        EXPECT_EQ(st.st_uid, 0U) << rel << " should stay root's";
    }
    const std::string theirs = dir.path() + "/theirs";
    ASSERT_EQ(::mkdir(theirs.c_str(), 0700), 0);
    ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
    auto refused = Store::open(theirs);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::Permission);
}

TEST_F(StoreTest, MemberPaths) {
    EXPECT_EQ(store().cluster_dir("web-3").value(), root() + "/clusters/web");
    EXPECT_EQ(store().member_dir("web-3").value(), root() + "/clusters/web/web-3");
    EXPECT_EQ(store().member_dir("dev").value(), root() + "/clusters/dev/dev");
    EXPECT_EQ(store().member_dir("web-1-2").value(), root() + "/clusters/web-1/web-1-2");
    EXPECT_EQ(store().config_path("web-3").value(), root() + "/clusters/web/web-3/config.json");
    EXPECT_EQ(store().lock_path("web-3").value(), root() + "/locks/web-3.lock");
    EXPECT_EQ(store().member_file("web-3", "serial.log").value(),
              root() + "/clusters/web/web-3/serial.log");
    for (const char* bad : {"", ".", "..", "a/b", "/etc/passwd"})
        EXPECT_FALSE(store().member_file("web-3", bad)) << bad;
}

TEST_F(StoreTest, SocketPathsAreHashedAndDistinct) {
    EXPECT_EQ(store().socket_path("a").value(), root() + "/run/ca978112ca1bbdca.sock");
    EXPECT_EQ(store().ctl_socket_path("a").value(), root() + "/run/ca978112ca1bbdca.ctl");
    EXPECT_EQ(store().qmp_socket_path("a").value(), root() + "/run/ca978112ca1bbdca.qmp");
    std::set<std::string> seen;
    for (int i = 0; i < 500; ++i)
        seen.insert(store().socket_path("web-" + std::to_string(i)).value());
    EXPECT_EQ(seen.size(), 500U);
}

TEST_F(StoreTest, PathAccessorsRefuseInvalidNames) {
    for (const char* bad : {"../x", "a/b", "Web", ""}) {
        EXPECT_FALSE(store().member_dir(bad)) << bad;
        EXPECT_FALSE(store().config_path(bad)) << bad;
        EXPECT_FALSE(store().socket_path(bad)) << bad;
        EXPECT_FALSE(store().ctl_socket_path(bad)) << bad;
        EXPECT_FALSE(store().exists(bad)) << bad;
    }
}

TEST_F(StoreTest, CreateThenLoad) {
    VmConfig c = config("web-1");
    c.ip = "192.168.100.2";
    ASSERT_TRUE(store().create(c));
    EXPECT_TRUE(store().exists("web-1"));
    EXPECT_FALSE(store().exists("web-2"));
    auto back = store().load("web-1");
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, c);
    const std::string path = root() + "/clusters/web/web-1/config.json";
    EXPECT_EQ(mode_of(path), 0600U);
    EXPECT_EQ(mode_of(root() + "/clusters/web/web-1"), 0700U);
    EXPECT_EQ(mode_of(root() + "/clusters/web"), 0700U);
    EXPECT_EQ(test::read_text(path), serialize_config(c));
}

TEST_F(StoreTest, CreateLeavesNoTemporaryFiles) {
    create("web-1");
    EXPECT_EQ(tree(root() + "/clusters"),
              (std::set<std::string>{"web:d", "web/web-1:d", "web/web-1/config.json:f"}));
}

TEST_F(StoreTest, CreateRefusesAnExistingMember) {
    create("web-1");
    const std::string before = test::read_text(store().config_path("web-1").value());
    VmConfig other = config("web-1");
    other.cpus = 8;
    auto ok = store().create(other);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().kind, ErrorKind::AlreadyExists);
    EXPECT_EQ(ok.error().message(), "VM \"web-1\" already exists");
    EXPECT_EQ(test::read_text(store().config_path("web-1").value()), before);
}

TEST_F(StoreTest, CreateReusesAMemberDirectoryWithoutConfig) {
    ASSERT_TRUE(store().ensure_member_dir("web-1"));
    test::write_text(store().member_file("web-1", "serial.log").value(), "old");
    create("web-1");
    EXPECT_TRUE(store().exists("web-1"));
}

TEST_F(StoreTest, InvalidNamesWriteNothing) {
    const auto before = tree(root());
    for (const char* bad : {"../x", "a/b", "Web", "",
                            "w\xc3\xa9"
                            "b",
                            "-5", "web-", "a b", "a.b", "a_b", "../../etc", "/abs"}) {
        VmConfig c = config("ok");
        c.name = bad;
        auto created = store().create(c);
        ASSERT_FALSE(created) << bad;
        EXPECT_EQ(created.error().kind, ErrorKind::InvalidArgument) << bad;
        EXPECT_NE(created.error().message().find("invalid VM name"), std::string::npos);
        EXPECT_FALSE(store().remove(bad)) << bad;
        EXPECT_FALSE(store().lock_member(bad)) << bad;
        EXPECT_FALSE(store().ensure_member_dir(bad)) << bad;
        EXPECT_FALSE(store().load(bad)) << bad;
    }
    const std::string long_name(64, 'a');
    VmConfig c = config("ok");
    c.name = long_name;
    EXPECT_FALSE(store().create(c));
    EXPECT_EQ(tree(root()), before);
    EXPECT_FALSE(path_exists(scratch_.path() + "/x"));
}

TEST_F(StoreTest, InvalidFieldsWriteNothing) {
    const auto before = tree(root());
    VmConfig c = config("web-1");
    c.cpus = 0;
    auto ok = store().create(c);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().kind, ErrorKind::InvalidArgument);
    EXPECT_NE(ok.error().message().find("cpus"), std::string::npos);
    EXPECT_EQ(tree(root()), before);
}

TEST_F(StoreTest, FailedCreateRemovesOnlyWhatItMade) {
    // A file where the cluster directory would go: creation fails, nothing else is left.
    test::write_text(root() + "/clusters/web", "in the way");
    const auto before = tree(root());
    auto ok = store().create(config("web-1"));
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message().find("create VM \"web-1\""), std::string::npos)
        << ok.error().message();
    EXPECT_EQ(tree(root()), before);
}

TEST_F(StoreTest, ConcurrentCreatesHaveExactlyOneWinner) {
    for (int round = 0; round < 20; ++round) {
        const std::string name = "race-" + std::to_string(round);
        std::atomic<int> won{0};
        std::atomic<int> lost{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                auto ok = store().create(config(name));
                if (ok)
                    ++won;
                else if (ok.error().kind == ErrorKind::AlreadyExists)
                    ++lost;
            });
        }
        for (auto& t : threads)
            t.join();
        EXPECT_EQ(won.load(), 1) << name;
        EXPECT_EQ(lost.load(), 3) << name;
        EXPECT_EQ(list_dir(store().member_dir(name).value()).value(),
                  std::vector<std::string>{"config.json"});
    }
}

TEST_F(StoreTest, LoadMissingIsNotFound) {
    auto back = store().load("ghost");
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(back.error().message(), "VM \"ghost\" does not exist");
}

TEST_F(StoreTest, CorruptConfigNamesTheFile) {
    ASSERT_TRUE(store().ensure_member_dir("web-1"));
    const std::string path = store().config_path("web-1").value();
    test::write_text(path, "{\"name\": \"web-1\", ");
    EXPECT_TRUE(store().exists("web-1"));
    auto back = store().load("web-1");
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(back.error().message().find("read config " + path + ": invalid JSON"),
              std::string::npos)
        << back.error().message();
    EXPECT_NE(back.error().hint.find("fleetbox rm web-1"), std::string::npos);
}

TEST_F(StoreTest, ConfigForAnotherNameIsCorrupt) {
    ASSERT_TRUE(store().ensure_member_dir("web-2"));
    test::write_text(store().config_path("web-2").value(), serialize_config(config("web-1")));
    auto back = store().load("web-2");
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().kind, ErrorKind::Corrupt);
    EXPECT_NE(back.error().message().find("names VM \"web-1\" but is stored as \"web-2\""),
              std::string::npos);
}

TEST_F(StoreTest, ListUsingImageCountsUnreadableConfigs) {
    create("web-1");
    ASSERT_TRUE(store().create(new_vm_config("db", 1, 1024, 10240, "other-image")));
    ASSERT_TRUE(store().ensure_member_dir("bad"));
    test::write_text(store().config_path("bad").value(), "{");
    EXPECT_EQ(store().list_using_image("debian-12").value(),
              (std::vector<std::string>{"bad", "web-1"}));
    EXPECT_EQ(store().list_using_image("other-image").value(),
              (std::vector<std::string>{"bad", "db"}));
    ASSERT_TRUE(store().remove("bad"));
    EXPECT_TRUE(store().list_using_image("nothing").value().empty());
}

TEST_F(StoreTest, ListIsByClusterThenMember) {
    for (const char* name : {"web-2", "web-10", "api", "db-1", "web", "web-1-2"})
        create(name);
    EXPECT_EQ(store().list().value(),
              (std::vector<std::string>{"api", "db-1", "web", "web-10", "web-2", "web-1-2"}));
}

TEST_F(StoreTest, ListMembersIncludesThoseWithoutConfig) {
    create("web-1");
    ASSERT_TRUE(store().ensure_member_dir("web-2"));
    EXPECT_EQ(store().list().value(), std::vector<std::string>{"web-1"});
    EXPECT_EQ(store().list_members().value(), (std::vector<std::string>{"web-1", "web-2"}));
}

TEST_F(StoreTest, ListSkipsStrayEntries) {
    create("web-1");
    const std::string clusters = root() + "/clusters";
    ASSERT_TRUE(ensure_dir(clusters + "/web/Web-9"));    // invalid name
    ASSERT_TRUE(ensure_dir(clusters + "/web/api-1"));    // not in its own cluster
    test::write_text(clusters + "/web/web-3", "a file"); // not a directory
    test::write_text(clusters + "/stray-file", "x");     // file at cluster level
    ScratchDir outside;
    ASSERT_TRUE(ensure_dir(outside.path() + "/db/db-1"));
    test::write_text(outside.path() + "/db/db-1/config.json", serialize_config(config("db-1")));
    ASSERT_EQ(::symlink((outside.path() + "/db").c_str(), (clusters + "/db").c_str()), 0);
    EXPECT_EQ(store().list_members().value(), std::vector<std::string>{"web-1"});
    EXPECT_EQ(store().list().value(), std::vector<std::string>{"web-1"});
}

TEST_F(StoreTest, EmptyStoreListsNothing) {
    EXPECT_TRUE(store().list().value().empty());
    EXPECT_TRUE(store().list_members().value().empty());
}

} // namespace
} // namespace fleetbox

// Store::remove: deletes exactly the member directory and its stale sockets (never a live
// one), never anything a symlink points at, never a sibling; removing a missing member
// succeeds.
#include "store_fixture.hpp"
#include "sys/fs.hpp"
#include "sys/unix_socket.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using test::ScratchDir;
using test::StoreTest;
using test::tree;

TEST_F(StoreTest, RemoveDeletesTheMemberAndItsSockets) {
    create("web-1");
    const std::string dir = store().member_dir("web-1").value();
    test::write_text(dir + "/disk.qcow2", "disk");
    ASSERT_TRUE(ensure_dir(dir + "/sub/deeper"));
    test::write_text(dir + "/sub/deeper/file", "x");
    for (const auto& sock :
         {store().socket_path("web-1").value(), store().ctl_socket_path("web-1").value(),
          store().qmp_socket_path("web-1").value()})
        test::write_text(sock, "");
    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_FALSE(store().exists("web-1"));
    EXPECT_FALSE(path_exists(dir));
    EXPECT_FALSE(path_exists(root() + "/clusters/web")) << "the empty cluster directory goes too";
    EXPECT_TRUE(list_dir(root() + "/run").value().empty());
    EXPECT_TRUE(is_directory(root() + "/clusters"));
}

// A socket somebody listens on belongs to a live process (a helper that still serves the
// member, QEMU's monitor): only sockets nobody answers on are removed with the member.
TEST_F(StoreTest, RemoveNeverUnlinksALiveSocket) {
    create("web-1");
    auto live = listen_unix(store().socket_path("web-1").value());
    ASSERT_TRUE(live) << live.error().message();
    auto qmp = listen_unix(store().qmp_socket_path("web-1").value());
    ASSERT_TRUE(qmp) << qmp.error().message();
    test::write_text(store().ctl_socket_path("web-1").value(), ""); // stale: goes
    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_FALSE(store().exists("web-1"));
    EXPECT_TRUE(path_exists(store().socket_path("web-1").value()));
    EXPECT_TRUE(path_exists(store().qmp_socket_path("web-1").value()));
    EXPECT_FALSE(path_exists(store().ctl_socket_path("web-1").value()));
}

TEST_F(StoreTest, RemoveIsIdempotent) {
    ASSERT_TRUE(store().remove("never-existed"));
    create("web-1");
    ASSERT_TRUE(store().remove("web-1"));
    ASSERT_TRUE(store().remove("web-1"));
}

TEST_F(StoreTest, RemoveLeavesSiblingsAndTheirSockets) {
    create("web-1");
    create("web-2");
    create("web");
    test::write_text(store().socket_path("web-2").value(), "");
    test::write_text(store().ctl_socket_path("web-2").value(), "");
    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_EQ(store().list().value(), (std::vector<std::string>{"web", "web-2"}));
    EXPECT_TRUE(path_exists(store().socket_path("web-2").value()));
    EXPECT_TRUE(path_exists(store().ctl_socket_path("web-2").value()));
    EXPECT_TRUE(store().load("web-2")) << "the sibling's config is intact";
    ASSERT_TRUE(store().remove("web-2"));
    ASSERT_TRUE(store().remove("web"));
    EXPECT_FALSE(path_exists(root() + "/clusters/web"));
}

TEST_F(StoreTest, RemoveNeverFollowsSymlinksOut) {
    ScratchDir outside;
    test::write_text(outside.file("precious.txt"), "keep me");
    ASSERT_TRUE(ensure_dir(outside.file("dir/inner")));
    test::write_text(outside.file("dir/inner/file"), "keep me too");
    const auto outside_before = tree(outside.path());

    create("web-1");
    const std::string dir = store().member_dir("web-1").value();
    ASSERT_EQ(::symlink(outside.file("precious.txt").c_str(), (dir + "/link-to-file").c_str()), 0);
    ASSERT_EQ(::symlink(outside.file("dir").c_str(), (dir + "/link-to-dir").c_str()), 0);
    ASSERT_EQ(::symlink(outside.path().c_str(), (dir + "/link-to-root").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../..", (dir + "/relative-up").c_str()), 0);

    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_FALSE(path_exists(dir));
    EXPECT_EQ(tree(outside.path()), outside_before);
    EXPECT_EQ(test::read_text(outside.file("precious.txt")), "keep me");
    EXPECT_EQ(test::read_text(outside.file("dir/inner/file")), "keep me too");
}

TEST_F(StoreTest, SymlinkedMemberDirectoryIsUnlinkedNotEmptied) {
    ScratchDir outside;
    test::write_text(outside.file("config.json"), serialize_config(config("web-1")));
    test::write_text(outside.file("data"), "keep");
    ASSERT_TRUE(ensure_dir(root() + "/clusters/web"));
    const std::string dir = store().member_dir("web-1").value();
    ASSERT_EQ(::symlink(outside.path().c_str(), dir.c_str()), 0);
    ASSERT_TRUE(store().remove("web-1"));
    struct stat st {};
    EXPECT_NE(::lstat(dir.c_str(), &st), 0) << "the link is gone";
    EXPECT_EQ(test::read_text(outside.file("data")), "keep");
    EXPECT_TRUE(path_exists(outside.file("config.json")));
}

TEST_F(StoreTest, SymlinkedClusterDirectoryIsRefused) {
    ScratchDir outside;
    ASSERT_TRUE(ensure_dir(outside.file("web-1")));
    test::write_text(outside.file("web-1/config.json"), serialize_config(config("web-1")));
    const auto outside_before = tree(outside.path());
    ASSERT_EQ(::symlink(outside.path().c_str(), (root() + "/clusters/web").c_str()), 0);
    auto ok = store().remove("web-1");
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message().find("symlink"), std::string::npos) << ok.error().message();
    EXPECT_EQ(tree(outside.path()), outside_before);
}

TEST_F(StoreTest, RemoveOfAMemberThatIsAFileUnlinksIt) {
    ASSERT_TRUE(ensure_dir(root() + "/clusters/web"));
    test::write_text(root() + "/clusters/web/web-1", "junk");
    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_FALSE(path_exists(root() + "/clusters/web"));
}

TEST_F(StoreTest, RemoveRefusesInvalidNamesBeforeTouchingAnything) {
    create("x");
    const auto before = tree(root());
    for (const char* bad : {"../x", "..", ".", "x/..", "", "X", "clusters/../.."}) {
        auto ok = store().remove(bad);
        ASSERT_FALSE(ok) << bad;
        EXPECT_EQ(ok.error().kind, ErrorKind::InvalidArgument) << bad;
    }
    EXPECT_EQ(tree(root()), before);
}

} // namespace
} // namespace fleetbox

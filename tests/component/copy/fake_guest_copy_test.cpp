// upload/download end to end against the in-process SSH server of the guest tests
// (component/guest/fake_sshd.hpp), which runs each command with /bin/sh on this machine: the
// real guest scripts, GNU tar and the streaming channel, without a VM. The "guest" file
// system is a directory of this test.
#include "component/guest/fake_sshd.hpp"
#include "copy/copy.hpp"
#include "copy/guest_commands.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "unit/copy/tar_builder.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox::copy {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class FakeGuestCopy : public ::testing::Test {
protected:
    test::ScratchDir dir;
    test::TestKey host_key{dir.file("host_key")};
    test::TestKey client_key{dir.file("id_ed25519")};
    test::FakeSshd server{host_key, client_key, dir.path()};
    std::optional<guest::GuestShell> shell;
    std::string guest_root;

    void SetUp() override {
        test::write_text(dir.file("known_hosts"), "[127.0.0.1]:" + std::to_string(server.port()) +
                                                      " " + host_key.public_line() + "\n");
        guest::SshTarget t;
        t.vm_name = "web";
        t.host = "127.0.0.1";
        t.port = server.port();
        t.identity_path = client_key.path();
        t.known_hosts_path = dir.file("known_hosts");
        shell.emplace(t, 10s);
        guest_root = dir.file("guest");
        ASSERT_TRUE(ensure_dir(guest_root));
    }
    CopySettings settings() {
        CopySettings s;
        s.limits.timeout = 60s;
        return s;
    }
};

TEST_F(FakeGuestCopy, TreeRoundTrip) {
    std::string src = dir.file("src");
    ASSERT_TRUE(ensure_dir(src + "/sub"));
    test::write_text(src + "/run.sh", "#!/bin/sh\n");
    ASSERT_EQ(::chmod((src + "/run.sh").c_str(), 0755), 0);
    test::write_text(src + "/sub/data", std::string(3 << 20, 'd'));
    fs::create_symlink("run.sh", src + "/link");
    std::string dest = guest_root + "/a/it's b/$(app) *";
    auto up = upload(*shell, src, dest, settings());
    ASSERT_TRUE(up) << up.error().message();
    struct stat st {};
    ASSERT_EQ(::stat((dest + "/run.sh").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755U);
    EXPECT_EQ(fs::read_symlink(dest + "/link"), "run.sh");
    EXPECT_EQ(*read_file(dest + "/sub/data"), std::string(3 << 20, 'd'));
    EXPECT_EQ(*list_dir(guest_root + "/a/it's b"), std::vector<std::string>{"$(app) *"});

    auto down = download(*shell, dest, dir.file("back/app"), settings());
    ASSERT_TRUE(down) << down.error().message();
    EXPECT_EQ(fs::read_symlink(dir.file("back/app/link")), "run.sh");
    EXPECT_EQ(*read_file(dir.file("back/app/sub/data")), std::string(3 << 20, 'd'));

    // A file replaces a file; a file over a directory is refused and changes nothing.
    test::write_text(dir.file("one"), "1");
    ASSERT_TRUE(upload(*shell, dir.file("one"), guest_root + "/f", settings()));
    test::write_text(dir.file("one"), "2");
    ASSERT_TRUE(upload(*shell, dir.file("one"), guest_root + "/f", settings()));
    EXPECT_EQ(*read_file(guest_root + "/f"), "2");
    auto over_dir = upload(*shell, dir.file("one"), dest, settings());
    ASSERT_FALSE(over_dir);
    EXPECT_EQ(over_dir.error().message(),
              "guest tar: " + dest + " is a directory: name the file to create in it");
    EXPECT_TRUE(fs::is_directory(dest));
    EXPECT_EQ(*list_dir(guest_root + "/a/it's b"), std::vector<std::string>{"$(app) *"});
}

TEST_F(FakeGuestCopy, GuestErrors) {
    auto missing = download(*shell, guest_root + "/nope", dir.file("x"), settings());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(missing.error().message(), "guest tar: nope: Cannot stat: No such file or directory");
    EXPECT_FALSE(fs::exists(dir.file("x")));

    test::write_text(guest_root + "/file", "f");
    test::write_text(dir.file("one"), "1");
    auto parent_file = upload(*shell, dir.file("one"), guest_root + "/file/x/y", settings());
    ASSERT_FALSE(parent_file);
    EXPECT_EQ(parent_file.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(parent_file.error().message(),
              "guest tar: " + guest_root + "/file is not a directory");
}

// The upload script itself: a stream that ends between members without the sentinel (a host
// that gave up) must publish nothing and remove its temporary directory.
TEST_F(FakeGuestCopy, StreamWithoutSentinelPublishesNothing) {

    auto dest = *parse_guest_path(guest_root + "/app");
    std::string tar = testing::make_tar({testing::dir("app"), testing::file("app/one", "1")});
    guest::ExecIo io;
    io.input = tar;
    auto r = shell->exec(upload_command(dest, "app", false), io, 30s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->exit_code, 1);
    EXPECT_EQ(r->err, "the copy was interrupted before its end\n");
    EXPECT_TRUE(fs::is_empty(guest_root));

    std::string complete = testing::make_tar({testing::dir("app"), testing::file("app/one", "1"),
                                              testing::file(sentinel_for("app"), "")});
    io.input = complete;
    r = shell->exec(upload_command(dest, "app", false), io, 30s);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->exit_code, 0) << r->err;
    EXPECT_EQ(*list_dir(guest_root), std::vector<std::string>{"app"});
    EXPECT_EQ(*read_file(guest_root + "/app/one"), "1");
}

} // namespace
} // namespace fleetbox::copy

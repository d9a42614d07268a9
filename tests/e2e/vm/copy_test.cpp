// e2e: Vm::copy_to / copy_from and `fleetbox cp` against one real VM (every check shares the
// boot, each under its own SCOPED_TRACE): a 50 MiB random file both ways with its checksum
// compared on both sides; a tree with a symlink and a 0755 file round-trips; missing guest
// parents are created; missing sources on either side; permission denied in the guest and
// as_root; guest disk full mid-copy (nothing under the final name, no temp left); a timeout
// and a cancellation mid-stream; a hostile guest whose tar serves crafted archives (nothing
// written outside the destination); the CLI both ways.
#include "copy/host_place.hpp"
#include "e2e/vm/library_fixture.hpp"
#include "sys/sha256.hpp"
#include "unit/copy/tar_builder.hpp"

#include <filesystem>
#include <fleetbox/fleetbox.hpp>
#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <random>
#include <sys/stat.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

void write_random(const std::string& path, std::size_t mib) {
    std::ofstream out(path, std::ios::binary);
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> block(128 * 1024);
    for (std::size_t i = 0; i < mib; ++i) {
        for (auto& w : block)
            w = rng();
        out.write(reinterpret_cast<const char*>(block.data()),
                  static_cast<std::streamsize>(block.size() * sizeof(std::uint64_t)));
    }
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

// Names in `dir` starting with ".fleetbox-copy" (temporary directories of a copy).
std::vector<std::string> leftovers(const std::string& dir) {
    std::vector<std::string> found;
    for (const auto& name : list_dir(dir).value_or(std::vector<std::string>{}))
        if (name.rfind(".fleetbox-copy", 0) == 0)
            found.push_back(name);
    return found;
}

class CopyVm : public LibraryVmTest {
protected:
    std::optional<Vm> vm;
    std::string work;

    void SetUp() override {
        LibraryVmTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto started = fleetbox::start("e2e-copy", small_vm_options());
        ASSERT_TRUE(started) << started.error().message();
        vm.emplace(std::move(*started));
        work = root() + "/work";
        ASSERT_TRUE(ensure_dir(work));
    }
    void TearDown() override {
        if (vm)
            (void)vm->destroy();
        vm.reset();
        if (!work.empty())
            copy::make_tree_removable(work);
        LibraryVmTest::TearDown();
    }
    std::string guest(const std::string& command) { return guest_out(*vm, command, 120s); }
    // The guest's listing of `dir` (names only, hidden ones too).
    std::string guest_ls(const std::string& dir) { return guest("ls -A " + dir); }
};

TEST_F(CopyVm, BothWaysWithFaults) {
    const std::string big = work + "/big.bin";
    write_random(big, 50);
    const std::string sum = *sha256_file_hex(big);
    {
        SCOPED_TRACE("50 MiB host -> guest -> host");
        auto up = vm->copy_to(big, "/home/fleetbox/big.bin");
        ASSERT_TRUE(up) << up.error().message();
        EXPECT_EQ(guest("sha256sum /home/fleetbox/big.bin").substr(0, 64), sum);
        auto down = vm->copy_from("/home/fleetbox/big.bin", work + "/back.bin");
        ASSERT_TRUE(down) << down.error().message();
        EXPECT_EQ(*sha256_file_hex(work + "/back.bin"), sum);
        EXPECT_EQ(guest("ls /home/fleetbox; ls -A /home/fleetbox | grep -c fleetbox-copy || true"),
                  "big.bin\n0\n");
        EXPECT_TRUE(leftovers(work).empty());
    }
    {
        SCOPED_TRACE("tree with a symlink and a 0755 file");
        ASSERT_TRUE(ensure_dir(work + "/tree/sub"));
        write_text(work + "/tree/run.sh", "#!/bin/sh\necho ran\n", 0755);
        ASSERT_EQ(::chmod((work + "/tree/run.sh").c_str(), 0755), 0);
        write_text(work + "/tree/sub/data", "d", 0640);
        ASSERT_EQ(::chmod((work + "/tree/sub/data").c_str(), 0640), 0);
        fs::create_symlink("run.sh", work + "/tree/link");
        fs::create_symlink("../run.sh", work + "/tree/sub/up");
        auto up = vm->copy_to(work + "/tree", "/home/fleetbox/app");
        ASSERT_TRUE(up) << up.error().message();
        EXPECT_EQ(guest("stat -c '%a %N' /home/fleetbox/app/run.sh /home/fleetbox/app/link "
                        "/home/fleetbox/app/sub/data"),
                  "755 '/home/fleetbox/app/run.sh'\n"
                  "777 '/home/fleetbox/app/link' -> 'run.sh'\n"
                  "640 '/home/fleetbox/app/sub/data'\n");
        EXPECT_EQ(guest("/home/fleetbox/app/link"), "ran\n");
        auto down = vm->copy_from("/home/fleetbox/app", work + "/tree2");
        ASSERT_TRUE(down) << down.error().message();
        EXPECT_EQ(mode_of(work + "/tree2/run.sh"), 0755U);
        EXPECT_EQ(mode_of(work + "/tree2/sub/data"), 0640U);
        EXPECT_EQ(fs::read_symlink(work + "/tree2/link"), "run.sh");
        EXPECT_EQ(fs::read_symlink(work + "/tree2/sub/up"), "../run.sh");
        EXPECT_EQ(*read_file(work + "/tree2/run.sh"), "#!/bin/sh\necho ran\n");
        // Copying again replaces the directory: a file deleted at the source disappears.
        ASSERT_EQ(::unlink((work + "/tree/sub/data").c_str()), 0);
        ASSERT_TRUE(vm->copy_to(work + "/tree", "/home/fleetbox/app"));
        EXPECT_EQ(guest_ls("/home/fleetbox/app/sub"), "up\n");
    }
    {
        SCOPED_TRACE("missing guest parents are created");
        write_text(work + "/small.txt", "small\n");
        ASSERT_TRUE(vm->copy_to(work + "/small.txt", "/home/fleetbox/a/b/c/f.txt"));
        EXPECT_EQ(guest("cat /home/fleetbox/a/b/c/f.txt"), "small\n");
        ASSERT_TRUE(vm->copy_from("/home/fleetbox/a/b/c/f.txt", work + "/x/y/f.txt"));
        EXPECT_EQ(*read_file(work + "/x/y/f.txt"), "small\n");
    }
    {
        SCOPED_TRACE("missing sources and bad paths");
        auto no_host = vm->copy_to(work + "/nope", "/home/fleetbox/nope");
        ASSERT_FALSE(no_host);
        EXPECT_EQ(no_host.error().kind, ErrorKind::NotFound);
        EXPECT_EQ(no_host.error().message(),
                  "copy to e2e-copy: " + work + "/nope: No such file or directory");
        auto no_guest = vm->copy_from("/home/fleetbox/nope", work + "/nope");
        ASSERT_FALSE(no_guest);
        EXPECT_EQ(no_guest.error().kind, ErrorKind::NotFound) << no_guest.error().message();
        EXPECT_EQ(no_guest.error().message(), "copy from e2e-copy: guest tar: nope: Cannot stat: "
                                              "No such file or directory");
        EXPECT_FALSE(fs::exists(work + "/nope"));
        EXPECT_TRUE(leftovers(work).empty());
        auto relative = vm->copy_to(work + "/small.txt", "tmp/x");
        ASSERT_FALSE(relative);
        EXPECT_EQ(relative.error().message(),
                  "copy to e2e-copy: guest path \"tmp/x\" must be absolute");
        write_text(work + "/afile", "f");
        auto parent_file = vm->copy_from("/home/fleetbox/a/b/c/f.txt", work + "/afile/f.txt");
        ASSERT_FALSE(parent_file);
        EXPECT_EQ(parent_file.error().message(),
                  "copy from e2e-copy: " + work + "/afile is not a directory");
    }
    {
        SCOPED_TRACE("permission denied in the guest, then as root");
        auto denied = vm->copy_to(work + "/small.txt", "/root/x");
        ASSERT_FALSE(denied);
        EXPECT_EQ(denied.error().kind, ErrorKind::Permission) << denied.error().message();
        EXPECT_THAT(denied.error().message(), StartsWith("copy to e2e-copy: guest tar: "));
        CopyOptions root_copy;
        root_copy.as_root = true;
        auto as_root = vm->copy_to(work + "/small.txt", "/root/x", root_copy);
        ASSERT_TRUE(as_root) << as_root.error().message();
        EXPECT_EQ(guest("sudo cat /root/x; sudo stat -c %U /root/x"), "small\nroot\n");
        auto read_denied = vm->copy_from("/root/x", work + "/rootx");
        ASSERT_FALSE(read_denied);
        EXPECT_EQ(read_denied.error().kind, ErrorKind::Permission) << read_denied.error().message();
        ASSERT_TRUE(vm->copy_from("/root/x", work + "/rootx", root_copy));
        EXPECT_EQ(*read_file(work + "/rootx"), "small\n");
        EXPECT_EQ(guest("sudo ls -A /root | grep -c fleetbox-copy || true"), "0\n");
    }
    {
        SCOPED_TRACE("guest disk full mid-copy");
        guest("sudo mkdir -p /mnt/small && sudo mount -t tmpfs -o size=8m tmpfs /mnt/small && "
              "sudo chown fleetbox /mnt/small");
        auto full = vm->copy_to(big, "/mnt/small/big.bin");
        ASSERT_FALSE(full);
        EXPECT_EQ(full.error().kind, ErrorKind::NoSpace) << full.error().message();
        EXPECT_EQ(full.error().message(),
                  "copy to e2e-copy: guest tar: /mnt/small/big.bin: No space left on device");
        EXPECT_EQ(guest_ls("/mnt/small"), "") << "a partial file or the temp dir was left";
        // An existing file keeps its old content when a replacement does not fit.
        guest("echo old > /mnt/small/big.bin");
        ASSERT_FALSE(vm->copy_to(big, "/mnt/small/big.bin"));
        EXPECT_EQ(guest("cat /mnt/small/big.bin; ls -A /mnt/small"), "old\nbig.bin\n");
    }
    {
        SCOPED_TRACE("timeout and cancellation mid-stream leave nothing behind");
        CopyOptions quick;
        quick.timeout = 1ms;
        auto timed_out = vm->copy_to(big, "/home/fleetbox/t.bin", quick);
        ASSERT_FALSE(timed_out);
        EXPECT_EQ(timed_out.error().kind, ErrorKind::Timeout) << timed_out.error().message();
        std::stop_source stop;
        stop.request_stop();
        CopyOptions cancelled;
        cancelled.cancel = stop.get_token();
        auto stopped = vm->copy_from("/home/fleetbox/big.bin", work + "/c.bin", cancelled);
        ASSERT_FALSE(stopped);
        EXPECT_EQ(stopped.error().kind, ErrorKind::Interrupted) << stopped.error().message();
        EXPECT_FALSE(fs::exists(work + "/c.bin"));
        EXPECT_TRUE(leftovers(work).empty());
        // The guest removes its temporary directory once its tar sees the stream end.
        std::string left;
        for (int i = 0; i < 60; ++i) {
            left = guest("ls -A /home/fleetbox | grep -c fleetbox-copy || true");
            if (left == "0\n")
                break;
            std::this_thread::sleep_for(500ms);
        }
        EXPECT_EQ(left, "0\n");
        EXPECT_EQ(guest("test -e /home/fleetbox/t.bin && echo there || echo absent"), "absent\n");
        auto again = vm->ssh("true");
        ASSERT_TRUE(again) << "the connection must stay usable: " << again.error().message();
    }
    {
        SCOPED_TRACE("a hostile guest's tar");
        using namespace copy::testing;
        const std::string outside = work + "/outside";
        ASSERT_TRUE(ensure_dir(outside));
        write_text(work + "/evil.tar",
                   make_tar({dir("evil"), file("evil/../../outside/pwned", "pwned")}));
        write_text(work + "/evil2.tar", make_tar({dir("evil2"), link("evil2/l", outside),
                                                  file("evil2/l/pwned", "pwned")}));
        ASSERT_TRUE(vm->copy_to(work + "/evil.tar", "/home/fleetbox/evil.tar"));
        ASSERT_TRUE(vm->copy_to(work + "/evil2.tar", "/home/fleetbox/evil2.tar"));
        // A tar earlier on PATH that answers `tar -c ... NAME` with /home/fleetbox/NAME.tar.
        guest("printf '%s\\n' '#!/bin/sh' 'for a; do last=$a; done' "
              "'case $1 in -c) exec cat /home/fleetbox/$last.tar;; esac' "
              "'exec /usr/bin/tar \"$@\"' | sudo tee /usr/local/bin/tar >/dev/null && "
              "sudo chmod 755 /usr/local/bin/tar && mkdir -p /home/fleetbox/evil "
              "/home/fleetbox/evil2");
        auto dotdot = vm->copy_from("/home/fleetbox/evil", work + "/got/evil");
        ASSERT_FALSE(dotdot);
        EXPECT_EQ(dotdot.error().kind, ErrorKind::Corrupt);
        EXPECT_EQ(dotdot.error().message(), "copy from e2e-copy: unsafe tar entry "
                                            "\"evil/../../outside/pwned\": \"..\" in the path");
        auto symlink = vm->copy_from("/home/fleetbox/evil2", work + "/got/evil2");
        ASSERT_FALSE(symlink);
        EXPECT_THAT(symlink.error().message(),
                    HasSubstr("symlink to \"" + outside + "\" is absolute"));
        EXPECT_TRUE(fs::is_empty(outside)) << "something was written outside the destination";
        EXPECT_FALSE(fs::exists(work + "/got")) << "the parents made for it must go too";
        guest("sudo rm -f /usr/local/bin/tar");
    }
    {
        SCOPED_TRACE("fleetbox cp both ways");
        auto up = run_fleetbox(root(), {"cp", work + "/small.txt", "e2e-copy:/home/fleetbox/cli/"});
        ASSERT_EQ(up.code, 0) << up;
        EXPECT_EQ(guest("cat /home/fleetbox/cli/small.txt"), "small\n");
        ASSERT_TRUE(ensure_dir(work + "/cli"));
        auto down =
            run_fleetbox(root(), {"cp", "e2e-copy:/home/fleetbox/cli/small.txt", work + "/cli"});
        ASSERT_EQ(down.code, 0) << down;
        EXPECT_EQ(*read_file(work + "/cli/small.txt"), "small\n");
        auto missing = run_fleetbox(root(), {"cp", "nosuch:/x", work});
        EXPECT_EQ(the_error(missing), "error: VM \"nosuch\" does not exist");
        auto denied = run_fleetbox(root(), {"cp", work + "/small.txt", "e2e-copy:/root/cli"});
        EXPECT_THAT(the_error(denied), StartsWith("error: copy to e2e-copy: guest tar: "));
        auto as_root =
            run_fleetbox(root(), {"cp", "--root", work + "/small.txt", "e2e-copy:/root/cli"});
        EXPECT_EQ(as_root.code, 0) << as_root;
    }
}

} // namespace
} // namespace fleetbox::test

// Test doubles for the image build's external programs: a fake `mmdebstrap` that makes a
// tiny root tree (and runs the real hooks of the recipe on it, as mmdebstrap does), with
// failure, delay and bookkeeping controlled by environment variables; a scratch PATH.
#pragma once

#include "image/cache.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fleetbox::image::test_fakes {

// FAKE_MMDEBSTRAP_LOG: one line per run.  FAKE_MMDEBSTRAP_MODE: ok | network | generic.
// FAKE_MMDEBSTRAP_SLEEP: seconds to sleep first (in a child whose pid goes to
// FAKE_MMDEBSTRAP_CHILDPID).
inline constexpr const char* kFakeMmdebstrap = R"SH(#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
setup=""; customize=""; n=0; target=""
for a in "$@"; do
  case "$a" in
    --setup-hook=*) setup="${a#--setup-hook=}" ;;
    --customize-hook=*) customize="${a#--customize-hook=}" ;;
    --*) ;;
    *) n=$((n+1)); [ "$n" = 2 ] && target="$a" ;;
  esac
done
echo "run $$" >> "$FAKE_MMDEBSTRAP_LOG"
echo "I: fake mmdebstrap into $target" >&2
if [ -n "$FAKE_MMDEBSTRAP_SLEEP" ]; then
  sleep "$FAKE_MMDEBSTRAP_SLEEP" &
  echo $! > "$FAKE_MMDEBSTRAP_CHILDPID"
  wait
fi
mkdir -p "$target/etc"
case "$FAKE_MMDEBSTRAP_MODE" in
  network)
    echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Could not connect to deb.debian.org:80 (151.101.2.132), connection timed out" >&2
    echo "E: apt-get update -oAPT::Status-Fd=<\$fd> -oDpkg::Use-Pty=false failed" >&2
    exit 1 ;;
  generic)
    echo "I: installing remaining packages inside the chroot..." >&2
    echo "E: the fake failed in an unexpected way" >&2
    echo "W: some trailing warning" >&2
    exit 2 ;;
esac
mkdir -p "$target/boot" "$target/etc/ssh" "$target/etc/cloud/cloud.cfg.d" "$target/etc/systemd/system" \
         "$target/usr/bin" "$target/var/lib/apt/lists" "$target/var/log/apt"
sh -c "$setup" exec "$target" || exit 3
for v in 6.1.0-9 6.1.0-10; do
  echo "kernel $v" > "$target/boot/vmlinuz-$v-cloud-amd64"
  echo "initrd $v" > "$target/boot/initrd.img-$v-cloud-amd64"
done
echo "kernel without initrd" > "$target/boot/vmlinuz-6.1.0-11-cloud-amd64"
echo "nameserver 10.255.255.53" > "$target/etc/resolv.conf"
echo buildhost > "$target/etc/hostname"
echo "secret" > "$target/etc/ssh/ssh_host_ed25519_key"
echo "ssh-ed25519 AAAA build" > "$target/etc/ssh/ssh_host_ed25519_key.pub"
echo "# sshd config" > "$target/etc/ssh/sshd_config"
printf 'passwd: files\nhosts: files dns\n' > "$target/etc/nsswitch.conf"
echo "Package: x" > "$target/var/lib/apt/lists/x_Packages"
echo '#!/bin/sh' > "$target/usr/bin/hello"; chmod 0755 "$target/usr/bin/hello"
# The hooks `chroot "$1" CMD` (useradd): no real system in the tiny tree, so a stand-in that
# accepts and does nothing, outside the tree (the tree becomes the image).
fakebin="$(dirname "$target")/fakebin"
mkdir -p "$fakebin" && printf '#!/bin/sh\nexit 0\n' > "$fakebin/chroot" && chmod 0755 "$fakebin/chroot"
PATH="$fakebin:$PATH" sh -c "$customize" exec "$target" || exit 4
echo "I: success in 0.1 seconds" >&2
)SH";

// A fake tool that fails the way mke2fs does on a full disk.
inline constexpr const char* kFullDiskMkfs = R"SH(#!/bin/sh
echo "mkfs.ext4: No space left on device while writing out and closing file system" >&2
exit 1
)SH";

// Scratch layout: bin/ (fakes, first on PATH), images/, fake.log.
class FakeEnv {
public:
    FakeEnv() {
        test::write_text(bin("mmdebstrap"), kFakeMmdebstrap, 0755);
        const char* old = std::getenv("PATH");
        path_ = std::make_unique<test::ScopedEnv>("PATH",
                                                  bin_dir() + ":" + (old ? old : "/usr/bin:/bin"));
        log_ = std::make_unique<test::ScopedEnv>("FAKE_MMDEBSTRAP_LOG", scratch_.file("fake.log"));
        pid_ = std::make_unique<test::ScopedEnv>("FAKE_MMDEBSTRAP_CHILDPID",
                                                 scratch_.file("child.pid"));
        mode_ = std::make_unique<test::ScopedEnv>("FAKE_MMDEBSTRAP_MODE", "ok");
        sleep_ = std::make_unique<test::ScopedEnv>("FAKE_MMDEBSTRAP_SLEEP", std::nullopt);
    }

    [[nodiscard]] std::string bin_dir() const { return scratch_.file("bin"); }
    [[nodiscard]] std::string bin(const std::string& name) const {
        return scratch_.file("bin/" + name);
    }
    [[nodiscard]] std::string images() const { return scratch_.file("images"); }
    [[nodiscard]] std::string file(const std::string& name) const { return scratch_.file(name); }
    [[nodiscard]] std::string child_pid_file() const { return scratch_.file("child.pid"); }
    [[nodiscard]] std::string work() const { return scratch_.file("work"); } // intermediates

    // How many times the fake mmdebstrap ran.
    [[nodiscard]] int runs() const {
        std::ifstream in(scratch_.file("fake.log"));
        int n = 0;
        for (std::string line; std::getline(in, line);)
            ++n;
        return n;
    }

    // Options for a build with the fakes: quiet, no root needed, a loopback mirror,
    // intermediates in work/ (so a test can see that nothing is left there either).
    [[nodiscard]] BuildOptions options() const {
        BuildOptions o;
        o.scratch_dir = work();
        o.progress = ProgressMode::Quiet;
        o.require_root = false;
        o.min_free_bytes = 1ULL << 20;
        o.mirrors = {"deb http://127.0.0.1:9/debian bookworm main"};
        return o;
    }

    // Entries of images/ other than the lock files and the log directory, and anything in
    // work/: after a failed build this must be empty.
    [[nodiscard]] std::vector<std::string> leftovers() const {
        std::vector<std::string> out;
        for (const auto& n : list_dir(work()).value_or(std::vector<std::string>{}))
            out.push_back("work/" + n);
        for (const auto& n : list_dir(images()).value_or(std::vector<std::string>{}))
            if (n != ".logs" &&
                !(n.front() == '.' && n.size() > 5 && n.substr(n.size() - 5) == ".lock"))
                out.push_back(n);
        return out;
    }

private:
    test::ScratchDir scratch_;
    std::unique_ptr<test::ScopedEnv> path_, log_, pid_, mode_, sleep_;
};

// Run a program and return its stdout ("" on failure).
inline std::string output_of(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    auto out = run_command(spec);
    return out ? out->out : std::string();
}

// A file of the ext4 inside a qcow2 image, via a raw copy and debugfs ("" when absent).
class DiskReader {
public:
    explicit DiskReader(const std::string& qcow2) : raw_(scratch_.file("disk.raw")) {
        output_of({"qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2, raw_});
    }
    [[nodiscard]] std::string cat(const std::string& path) const {
        return output_of({"debugfs", "-R", "cat " + path, raw_});
    }
    [[nodiscard]] std::string ls(const std::string& dir) const {
        return output_of({"debugfs", "-R", "ls -l " + dir, raw_});
    }
    [[nodiscard]] std::string stat(const std::string& path) const {
        return output_of({"debugfs", "-R", "stat " + path, raw_});
    }

private:
    test::ScratchDir scratch_;
    std::string raw_;
};

} // namespace fleetbox::image::test_fakes

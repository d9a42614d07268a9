// Tiny disk images built by the tests themselves, without root: a directory tree turned into
// an ext4 image by `mkfs.ext4 -d`, a raw file partitioned by `sfdisk`, the filesystem copied
// to its partition's offset, and `qemu-img convert` for the qcow2 variant. Each image is a
// few tens of MiB, sparse, in the test's scratch directory.
#pragma once

#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fleetbox::diskimage::test_disks {

inline bool tools_present() {
    for (const char* tool : {"mkfs.ext4", "sfdisk", "qemu-img"})
        if (find_program(tool).empty())
            return false;
    return true;
}

// A failed step throws: the test stops there (gtest reports the exception and its text),
// rather than going on with a missing image.
inline void require(bool ok, const std::string& what) {
    if (!ok)
        throw std::runtime_error(what);
}

inline void run_ok(const std::vector<std::string>& argv) {
    ChildSpec spec;
    spec.argv = argv;
    spec.out = Stream::Capture;
    auto r = run_command(spec);
    require(r.has_value(), r ? "" : r.error().message());
    require(r->status.ok(), shell_join(argv) + ": " + r->err);
}

// A directory tree under `root`, described as path -> content; a content starting with
// "->" makes a symlink to the rest.
struct Entry {
    std::string path;
    std::string content;
};

inline void make_tree(const std::string& root, const std::vector<Entry>& entries) {
    std::filesystem::create_directories(root);
    for (const auto& e : entries) {
        std::string full = root + "/" + e.path;
        std::filesystem::create_directories(std::filesystem::path(full).parent_path());
        if (e.content.rfind("->", 0) == 0)
            std::filesystem::create_symlink(e.content.substr(2), full);
        else if (e.content == "<dir>")
            std::filesystem::create_directories(full);
        else
            test::write_text(full, e.content);
    }
}

// An ext4 image file of `mib` MiB holding `tree`, with the given filesystem UUID.
inline void make_ext4(const std::string& image, const std::string& tree, int mib,
                      const std::string& uuid) {
    run_ok({"mkfs.ext4", "-q", "-F", "-U", uuid, "-d", tree, image, std::to_string(mib) + "M"});
}

// Partitions `disk` (created sparse, `mib` MiB) with an sfdisk script; lines name partitions
// as "N : start=..., size=..., type=..." (N becomes the partition number).
inline void partition(const std::string& disk, int mib, const std::string& label,
                      const std::vector<std::string>& lines) {
    run_ok({"truncate", "-s", std::to_string(mib) + "M", disk});
    std::string script = "label: " + label + "\n";
    for (const auto& l : lines)
        script += disk + l + "\n";
    std::string script_file = disk + ".sfdisk";
    test::write_text(script_file, script);
    run_ok({"sh", "-c", "sfdisk -q " + shell_quote(disk) + " < " + shell_quote(script_file)});
}

// Copies the file `fs_image` into `disk` at byte `offset` (sparse: zero blocks are skipped).
inline void place(const std::string& fs_image, const std::string& disk, std::uint64_t offset) {
    int in = ::open(fs_image.c_str(), O_RDONLY | O_CLOEXEC);
    int out = ::open(disk.c_str(), O_WRONLY | O_CLOEXEC);
    require(in >= 0 && out >= 0, "open " + fs_image + " / " + disk);
    std::vector<char> buf(1 << 16);
    std::uint64_t pos = 0;
    for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        require(n >= 0, "read " + fs_image);
        if (n == 0)
            break;
        bool zero = true;
        for (ssize_t i = 0; i < n && zero; ++i)
            zero = buf[static_cast<std::size_t>(i)] == 0;
        if (!zero)
            require(::pwrite(out, buf.data(), static_cast<std::size_t>(n),
                             static_cast<off_t>(offset + pos)) == n,
                    "write " + disk);
        pos += static_cast<std::uint64_t>(n);
    }
    ::close(in);
    ::close(out);
}

// Writes `bytes` at `offset` of an existing file.
inline void poke(const std::string& file, std::uint64_t offset, const std::string& bytes) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    require(fd >= 0, "open " + file);
    require(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
                static_cast<ssize_t>(bytes.size()),
            "write " + file);
    ::close(fd);
}

inline void to_qcow2(const std::string& raw, const std::string& qcow2) {
    run_ok({"qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2});
}

// A minimal x86 bzImage setup header whose kernel_version string is `version`.
inline std::string fake_bzimage(const std::string& version) {
    std::string img(4096, '\0');
    img.replace(0x202, 4, "HdrS");
    img[0x206] = 0x0f; // boot protocol 2.15
    img[0x207] = 0x02;
    img[0x20e] = 0x00; // kernel_version at 0x200 + 0x100
    img[0x20f] = 0x01;
    std::string text = version + " (builder@test) #1 SMP";
    img.replace(0x300, text.size(), text);
    return img;
}

constexpr std::uint64_t kSector = 512;
constexpr const char* kLinuxFs = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
constexpr const char* kBiosBoot = "21686148-6449-6E6F-744E-656564454649";
constexpr const char* kEsp = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
constexpr const char* kXbootldr = "BC13C2FF-59E6-4262-A352-B275FD6F7172";

} // namespace fleetbox::diskimage::test_disks

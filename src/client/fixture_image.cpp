// Builds a fixture's read-only ext4 image from its host directory, at every boot.
//
// Why mkfs.ext4 -d then debugfs: mkfs.ext4 -d (e2fsprogs >= 1.43) packs a directory into an
// image without mounting anything, so it runs as the invoking user with no privilege. It
// copies each file's owner and mode as they are on the host, though, and only has an option
// for the root directory's owner; one debugfs -w pass over the image then makes every entry
// root-owned with the reference's modes (directories 0555, files 0444, or 0555 when the host
// file is executable: a fixture may carry a tool to run). The image is written under a
// temporary name in the member directory and renamed over fixture-<i>.img only when both
// steps succeeded (sys/atomic_file.hpp), so QEMU never attaches a half-built image.
//
// Size: what the tree needs in 4 KiB blocks, plus a tenth, plus the inode table and a few
// MiB for the superblock and group metadata; no journal (the image is never written in the
// guest). The file is sparse. If mkfs finds it too small after all, it is doubled (twice).
//
// The tree is walked first (without following symlinks): a FIFO, socket or device node is
// refused (`fixture "<path>": unsupported file type`, as the reference does), as is an
// entry the user cannot read, so the error names the file instead of a mkfs message.
#include "client/fixtures.hpp"
#include "sys/atomic_file.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::client {

namespace {

constexpr std::uint64_t kBlock = 4096;
constexpr std::uint64_t kMiB = 1024 * 1024;

struct TreeEntry {
    std::string rel; // "/a/b", relative to the fixture's root
    mode_t mode = 0; // lstat's st_mode
};

struct Tree {
    std::vector<TreeEntry> entries;
    std::uint64_t data = 0; // bytes in whole blocks
    bool has_lost_found = false;
};

std::uint64_t blocks_of(std::uint64_t bytes) {
    return (bytes + kBlock - 1) / kBlock * kBlock;
}

Error unreadable(const std::string& path, const std::string& why) {
    return Error{ErrorKind::InvalidArgument, 0, "fixture " + quote_path(path),
                 "cannot read it: " + why, "make it readable by the user running fleetbox"};
}

Result<Tree> scan(const std::string& root) {
    namespace fs = std::filesystem;
    Tree tree;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory)
            return fail(ErrorKind::NotFound,
                        fmt::format("fixture host path {} does not exist", quote_path(root)), {},
                        "it was there when the VM was created: restore it, or recreate the VM");
        return fail(unreadable(root, ec.message()));
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string path = it->path().string();
        std::string rel = path.substr(root.size());
        if (rel.find('\n') != std::string::npos)
            return fail(ErrorKind::InvalidArgument, "fixture " + quote_path(path),
                        "a file name with a newline is not supported", "rename it");
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0)
            return fail(unreadable(path, std::strerror(errno)));
        if (S_ISREG(st.st_mode)) {
            if (::access(path.c_str(), R_OK) != 0)
                return fail(unreadable(path, std::strerror(errno)));
            tree.data += blocks_of(static_cast<std::uint64_t>(st.st_size));
        } else if (S_ISDIR(st.st_mode)) {
            if (::access(path.c_str(), R_OK | X_OK) != 0)
                return fail(unreadable(path, std::strerror(errno)));
            tree.data +=
                blocks_of(std::max<std::uint64_t>(static_cast<std::uint64_t>(st.st_size), kBlock));
        } else if (S_ISLNK(st.st_mode)) {
            if (st.st_size >= 60) // shorter targets live in the inode
                tree.data += kBlock;
        } else {
            return fail(ErrorKind::InvalidArgument, "fixture " + quote_path(path),
                        "unsupported file type",
                        "fixtures hold only files, directories and symlinks");
        }
        if (rel == "/lost+found")
            tree.has_lost_found = true;
        tree.entries.push_back({std::move(rel), st.st_mode});
    }
    if (ec)
        return fail(unreadable(root, ec.message()));
    return tree;
}

// debugfs quotes like "a ""b""": a double quote inside is doubled.
std::string debugfs_quote(const std::string& path) {
    std::string out = "\"";
    for (char c : path) {
        out += c;
        if (c == '"')
            out += '"';
    }
    return out + "\"";
}

std::string debugfs_script(const Tree& tree) {
    std::string script = "sif / mode 040555\n";
    if (!tree.has_lost_found)
        script += "rmdir /lost+found\n";
    for (const auto& e : tree.entries) {
        const std::string q = debugfs_quote(e.rel);
        script += fmt::format("sif {} uid 0\nsif {} gid 0\n", q, q);
        if (S_ISDIR(e.mode))
            script += fmt::format("sif {} mode 040555\n", q);
        else if (S_ISREG(e.mode))
            script += fmt::format("sif {} mode 0100{}\n", q, (e.mode & 0111) != 0 ? "555" : "444");
    }
    return script;
}

ChildSpec tool(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    spec.err = Stream::Capture;
    spec.env_set = {"LC_ALL=C"};
    spec.missing_hint = "apt-get install e2fsprogs";
    return spec;
}

bool out_of_space(const std::string& err) {
    return err.find("Could not allocate") != std::string::npos ||
           err.find("No space left") != std::string::npos || err.find("inode") != std::string::npos;
}

Status run_mkfs(const StoredFixture& f, const Tree& tree, const AtomicFile& file,
                std::chrono::milliseconds timeout) {
    const std::uint64_t inodes = tree.entries.size() + 32;
    std::uint64_t size = tree.data + tree.data / 10 + inodes * 256 + 4 * kMiB;
    size = (size + kMiB - 1) / kMiB * kMiB;
    for (int attempt = 0;; ++attempt, size *= 2) {
        if (::ftruncate(file.fd(), 0) != 0 || ::ftruncate(file.fd(), static_cast<off_t>(size)) != 0)
            return fail_errno("size " + file.temp_path(), errno);
        auto ran = FBX_TRY(run_command(tool({"mkfs.ext4",
                                             "-q",
                                             "-F",
                                             "-b",
                                             "4096",
                                             "-I",
                                             "256",
                                             "-N",
                                             std::to_string(inodes),
                                             "-m",
                                             "0",
                                             "-O",
                                             "^has_journal,^resize_inode",
                                             "-E",
                                             "root_owner=0:0,nodiscard",
                                             "-L",
                                             f.label,
                                             "-d",
                                             f.host_path,
                                             file.temp_path()}),
                                       timeout));
        if (ran.status.ok())
            return {};
        if (attempt < 2 && out_of_space(ran.err))
            continue;
        std::string why = last_line(ran.err);
        return fail(ErrorKind::ExternalCommand, "mkfs.ext4 -d " + quote_path(f.host_path),
                    why.empty() ? ran.status.describe() : why);
    }
}

Status run_debugfs(const Tree& tree, const std::string& image, const std::string& member_dir,
                   std::chrono::milliseconds timeout) {
    auto cmds = FBX_TRY(AtomicFile::open(member_dir + "/.fixture-debugfs", 0600));
    FBX_CHECK(cmds.write(debugfs_script(tree)));
    auto ran =
        FBX_TRY(run_command(tool({"debugfs", "-w", "-f", cmds.temp_path(), image}), timeout));
    // debugfs reports a failed command on stderr but still exits 0; its banner is on stderr too.
    std::string problem;
    for (const auto& line : split(ran.err, '\n'))
        if (!line.empty() && !starts_with(line, "debugfs "))
            problem = line;
    if (!ran.status.ok() || !problem.empty())
        return fail(ErrorKind::ExternalCommand, "debugfs -w " + image,
                    problem.empty() ? ran.status.describe() : problem);
    return {};
}

Result<std::string> build_one(const StoredFixture& f, std::size_t index,
                              const std::string& member_dir, std::chrono::milliseconds timeout) {
    const std::string path = member_dir + "/" + fixture_image_name(index);
    auto built = [&]() -> Status {
        if (!is_directory(f.host_path) && path_exists(f.host_path))
            return fail(
                ErrorKind::InvalidArgument,
                fmt::format("fixture host path {} is not a directory", quote_path(f.host_path)));
        auto tree = FBX_TRY(scan(f.host_path));
        auto file = FBX_TRY(AtomicFile::open(path, 0600)); // QEMU runs as this user too
        FBX_CHECK(run_mkfs(f, tree, file, timeout));
        FBX_CHECK(run_debugfs(tree, file.temp_path(), member_dir, timeout));
        return file.commit();
    }();
    if (!built) {
        ::unlink(path.c_str()); // no stale image from an earlier boot either
        return fail(std::move(built).error().wrap(fmt::format(
            "build fixture {} ({} -> {})", index, quote_path(f.host_path), f.guest_path)));
    }
    return path;
}

} // namespace

Result<std::vector<std::string>> build_fixture_images(const std::vector<StoredFixture>& fixtures,
                                                      const std::string& member_dir,
                                                      std::chrono::milliseconds timeout) {
    std::vector<std::string> images;
    for (std::size_t i = 0; i < fixtures.size(); ++i)
        images.push_back(FBX_TRY(build_one(fixtures[i], i, member_dir, timeout)));
    return images;
}

} // namespace fleetbox::client

// Overlay creation with qemu-img (see overlay.hpp). The backing path is absolute so the
// overlay works from any directory; the backing format is given explicitly (-F qcow2),
// since QEMU refuses to probe a backing file's format for safety. The size check uses the
// manifest's virtual size, so no extra `qemu-img info` is needed.
#include "image/overlay.hpp"

#include "sys/child_process.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::image {

std::vector<std::string> overlay_argv(const std::string& base_disk, const std::string& out_path,
                                      std::uint64_t size_bytes) {
    return {"qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-F",
            "qcow2",
            "-b",
            base_disk,
            out_path,
            std::to_string(size_bytes)};
}

Status create_overlay(const ImageInfo& base, const std::string& out_path,
                      std::uint64_t size_bytes) {
    const std::string op = "create disk " + out_path;
    if (size_bytes < base.manifest.virtual_size)
        return fail(ErrorKind::InvalidArgument, op,
                    fmt::format("requested disk size {} is smaller than the image {} ({})",
                                format_bytes(size_bytes), base.alias,
                                format_bytes(base.manifest.virtual_size)),
                    fmt::format("ask for at least {}", format_bytes(base.manifest.virtual_size)));
    if (path_exists(out_path))
        return fail(ErrorKind::AlreadyExists, op, "the file already exists");
    std::error_code ec;
    std::string backing = std::filesystem::absolute(base.disk_path, ec).lexically_normal().string();
    if (ec || !path_exists(backing))
        return fail(ErrorKind::NotFound, op,
                    fmt::format("base image {} is missing", base.disk_path),
                    fmt::format("rebuild it: fleetbox image build --force {}", base.alias));

    std::string temp =
        fmt::format("{}/.{}.tmp-{}", parent_dir(out_path), base_name(out_path), ::getpid());
    ChildSpec spec;
    spec.argv = overlay_argv(backing, temp, size_bytes);
    spec.out = Stream::Capture;
    spec.missing_hint = "install it: sudo apt-get install qemu-utils";
    auto created = run_checked(spec);
    if (!created) {
        std::remove(temp.c_str());
        return fail(std::move(created).error().wrap(op));
    }
    // qemu-img creates the file under the umask; a guest disk is the store owner's alone.
    if (::chmod(temp.c_str(), 0600) != 0) {
        int e = errno;
        std::remove(temp.c_str());
        return fail_errno(op + ": chmod 0600", e);
    }
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, out_path.c_str(), RENAME_NOREPLACE) != 0) {
        int e = errno;
        std::remove(temp.c_str());
        return fail_errno(op, e);
    }
    return {};
}

} // namespace fleetbox::image

// The steps of a pull that need no cache state (see pull_steps.hpp).
#include "image/pull_steps.hpp"

#include "image/build_handover.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::image {

namespace {

// qemu-img's "No space left on device" is a full disk, not a failed command.
Error classify_qemu_img(Error e, const std::string& dir) {
    if (e.context.find("No space left") != std::string::npos ||
        e.context.find("Disk quota") != std::string::npos)
        return Error{ErrorKind::NoSpace, 0, e.operation, "disk full",
                     fmt::format("free space in {} and pull again", dir)};
    return e;
}

} // namespace

Result<FileStamp> stamp_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int e = errno;
        if (e == ENOENT)
            return fail(ErrorKind::NotFound, "image file " + path, "no such file",
                        "check the path (a relative path is taken from the current directory)");
        return fail_errno("image file " + path, e);
    }
    if (!S_ISREG(st.st_mode))
        return fail(ErrorKind::InvalidArgument, "image file " + path, "not a regular file",
                    "name the disk image file itself");
    return FileStamp{static_cast<std::uint64_t>(st.st_size),
                     static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                         st.st_mtim.tv_nsec};
}

Result<bool> still_matches(const ImageInfo& hit, const ImageSource& source) {
    const auto& origin = hit.manifest.origin;
    switch (source.kind) {
    case SourceKind::Url:
        if (!source.digest)
            return true;
        return origin.digest == source.digest->to_string() ||
               (source.digest->algo == "sha256" && origin.sha256 == source.digest->hex);
    case SourceKind::File: {
        auto stamp = FBX_TRY(stamp_of(source.path));
        return stamp.size == origin.size && stamp.mtime_ns == origin.mtime_ns;
    }
    default:
        return true; // Cloud: a changed catalog pin marks it outdated, it still serves
    }
}

Status convert_to_qcow2(const std::string& input, const std::string& out) {
    ChildSpec spec;
    spec.argv = {"qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", input, out};
    spec.out = Stream::Capture;
    spec.missing_hint = "install it: sudo apt-get install qemu-utils";
    auto done = run_checked(spec);
    if (!done)
        return fail(classify_qemu_img(
            std::move(done).error().wrap("convert " + input + " to qcow2"), parent_dir(out)));
    return {};
}

Status copy_file(const std::string& input, const std::string& dir, const std::string& name) {
    Fd in(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in)
        return fail_errno("open " + input, errno);
    auto copied = copy_into(dir, name, in.get());
    if (!copied && copied.error().err_no == ENOSPC)
        return fail(ErrorKind::NoSpace, "copy " + input, "disk full",
                    fmt::format("free space in {} and pull again", dir));
    return copied;
}

ImageOrigin origin_of(const ImageSource& source) {
    ImageOrigin o;
    o.kind = std::string(to_string(source.kind));
    o.given = source.given;
    o.url = source.url;
    o.path = source.path;
    if (source.digest)
        o.digest = source.digest->to_string();
    if (source.cloud)
        o.catalog_checked = cloud_catalog().checked;
    return o;
}

} // namespace fleetbox::image

// upload/download: the host half of each direction, joined to the guest scripts through
// GuestShell::stream. When both sides fail, the guest's reason wins over "the guest stopped
// reading" (upload) or "the stream ended early" (download): it is the cause.
#include "copy/copy.hpp"

#include "copy/guest_commands.hpp"
#include "copy/host_place.hpp"
#include "copy/paths.hpp"
#include "copy/tar_extract.hpp"
#include "copy/tar_pack.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace fleetbox::copy {

namespace {

Status check_source(const std::string& host_path) {
    struct stat st {};
    if (::lstat(host_path.c_str(), &st) != 0)
        return fail_errno(host_path, errno);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        return fail(ErrorKind::InvalidArgument, host_path,
                    "it is a device node: refusing to copy it");
    if (S_ISSOCK(st.st_mode))
        return fail(ErrorKind::InvalidArgument, host_path, "it is a socket: nothing to copy");
    return {};
}

// A stream error a guest failure explains (its exit status says more than the stream).
bool stream_broke(const Error& e) {
    return e.operation == "read the guest's tar stream";
}

} // namespace

Status upload(guest::GuestShell& shell, const std::string& host_path, const std::string& guest_path,
              const CopySettings& settings) {
    auto dest = FBX_TRY(parse_guest_path(guest_path));
    if (dest.path == "/")
        return fail(ErrorKind::InvalidArgument, "guest path \"/\" cannot be replaced", {},
                    "name the path to create, e.g. /" + host_base(host_path));
    FBX_CHECK(check_source(host_path));
    std::string command = upload_command(dest, dest.base, settings.as_root);
    return shell.stream(command, settings.limits, [&](guest::ExecChannel& channel) -> Status {
        bool guest_stopped = false;
        auto packed = pack_tree(host_path, dest.base, sentinel_for(dest.base),
                                [&](std::string_view data) -> Status {
                                    auto ok = channel.write(data);
                                    if (!ok && ok.error().kind == ErrorKind::Io)
                                        guest_stopped = true;
                                    return ok;
                                });
        if (!packed && !guest_stopped) {
            channel.abort(); // the guest sees its input end early and removes its temp dir
            return packed;
        }
        auto result = FBX_TRY(channel.finish());
        if (result.exit_code != 0)
            return tl::unexpected(guest_error(result, settings.as_root));
        return packed;
    });
}

Status download(guest::GuestShell& shell, const std::string& guest_path,
                const std::string& host_path, const CopySettings& settings) {
    auto source = FBX_TRY(parse_guest_path(guest_path));
    auto scratch = FBX_TRY(Scratch::next_to(host_path));
    std::string command = download_command(source, settings.as_root);
    return shell.stream(command, settings.limits, [&](guest::ExecChannel& channel) -> Status {
        auto extracted =
            extract_tree(scratch.fd(), "data", source.base,
                         [&](char* buf, std::size_t size) { return channel.read(buf, size); });
        if (!extracted && !stream_broke(extracted.error())) {
            channel.abort();
            return tl::unexpected(std::move(extracted).error());
        }
        auto result = FBX_TRY(channel.finish());
        if (result.exit_code != 0)
            return tl::unexpected(guest_error(result, settings.as_root));
        if (!extracted)
            return tl::unexpected(std::move(extracted).error());
        if (extracted->members == 0)
            return fail(ErrorKind::Corrupt, "read the guest's tar stream", "it holds nothing");
        return scratch.commit("data", extracted->top_is_dir);
    });
}

} // namespace fleetbox::copy

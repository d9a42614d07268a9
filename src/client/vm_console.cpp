// Vm::serial_log, Vm::ssh_command and Vm::keep: what a person (or a test framework) needs when
// a test goes wrong: the guest's console, the command to reach the VM by hand, and a way to
// leave the VM running after the process ends.
//
// Why serial_log reads files instead of asking the helper: the helper writes the console to
// <member dir>/serial.log (capped: older lines rotate to serial.log.1), and the store is the
// caller's, so reading it needs no round trip and works for a VM that already stopped. The
// files are opened O_NOFOLLOW (a symlink planted in the store is refused, never followed) and
// only their last bytes are read, so a guest that filled its console costs a bounded read.
// Why keep() goes through the helper: the VM's lifetime is the helper's (docs/protocol.md,
// Lifetimes); the `detach` request turns a bound helper into a detached one.
#include "client/member_files.hpp"
#include "client/vm_impl.hpp"
#include "sys/fd.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fleetbox/fleetbox.hpp>
#include <fmt/format.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {

namespace {

constexpr std::size_t kSerialLogMax = std::size_t{1} << 20;

// The last `max` bytes of `path` ("" when it does not exist).
Result<std::string> read_tail(const std::string& path, std::size_t max) {
    if (max == 0)
        return std::string();
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd && errno == ENOENT)
        return std::string();
    if (!fd && errno == ELOOP)
        return fail(ErrorKind::Permission, "read " + path,
                    "it is a symbolic link, which fleetbox does not follow in its store",
                    "remove " + path);
    if (!fd)
        return fail_errno("open " + path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail_errno("stat " + path, errno);
    if (!S_ISREG(st.st_mode))
        return fail(ErrorKind::Corrupt, "read " + path, "it is not a regular file");
    auto size = static_cast<std::size_t>(st.st_size);
    off_t from = static_cast<off_t>(size > max ? size - max : 0);
    std::string out;
    char buf[65536];
    while (out.size() < max) {
        ssize_t n = ::pread(fd.get(), buf, std::min(sizeof buf, max - out.size()),
                            from + static_cast<off_t>(out.size()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno("read " + path, errno);
        if (n == 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

} // namespace

Result<std::string> Vm::serial_log() const {
    auto files = FBX_TRY(client::MemberFiles::of(impl_->store_, impl_->name_));
    std::string current = FBX_TRY(read_tail(files.serial_log, kSerialLogMax));
    std::string older = FBX_TRY(read_tail(files.serial_log + ".1", kSerialLogMax - current.size()));
    return older + current;
}

std::vector<std::string> Vm::ssh_command() const {
    auto dir = impl_->store_.member_dir(impl_->name_);
    std::string known_hosts = (dir ? *dir : impl_->store_.root()) + "/known_hosts";
    return {"ssh",
            "-i",
            impl_->store_.key_path(),
            "-o",
            "UserKnownHostsFile=" + known_hosts,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
            "fleetbox@" + impl_->ip_};
}

std::string Vm::ssh_command_line() const {
    std::string line;
    for (const auto& word : ssh_command())
        line += (line.empty() ? "" : " ") + shell_quote(word);
    return line;
}

Status Vm::keep() {
    auto& impl = *impl_;
    const std::string what = "keep " + impl.name_;
    if (impl.helper_) {
        FBX_CHECK(impl.helper_->keep().map_error([&](Error e) { return std::move(e).wrap(what); }));
    } else if (impl.cluster_helper_ != nullptr) {
        FBX_CHECK(impl.cluster_helper_->keep().map_error(
            [&](Error e) { return std::move(e).wrap(what); }));
    } else if (auto* remote = impl.attached_.get()) {
        // Already running when this handle attached: kept unless a program holds it bound.
        if (remote->helper_mode() != proto::to_string(client::HelperMode::Detached))
            return fail(ErrorKind::InvalidArgument, what,
                        fmt::format("it runs in a helper bound to another program (pid {})",
                                    remote->helper_pid()),
                        "keep it from the program that started it");
    } else {
        return fail(ErrorKind::InvalidArgument, what, "it is not running (it was stopped)",
                    "start it again, then keep it");
    }
    impl.kept_ = true;
    return {};
}

} // namespace fleetbox

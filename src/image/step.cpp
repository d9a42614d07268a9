// One build step as a child process (see step.hpp). Output goes straight to the build log
// file (O_APPEND, shared by all steps of a build), so nothing is buffered in memory and a
// chatty child never blocks; on failure the step's part of the log is read back to classify
// the error. The log is opened with O_NOFOLLOW (a symlink planted in its place is refused)
// or handed over already open by the cache, and capped at kMaxBuildLogBytes.
#include "image/step.hpp"

#include "image/build_errors.hpp"
#include "image/progress.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "sys/interrupt.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace fleetbox::image {

namespace {

// Text of `fd` from `offset` to its end, at most its last `max` bytes.
std::string read_from(int fd, off_t offset, off_t max) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return {};
    if (st.st_size - offset > max)
        offset = st.st_size - max;
    std::string out;
    char buf[16384];
    while (offset < st.st_size) {
        ssize_t n = ::pread(fd, buf, sizeof buf, offset);
        if (n <= 0)
            break;
        out.append(buf, static_cast<size_t>(n));
        offset += n;
    }
    return out;
}

// mmdebstrap announces its phases as "I: downloading packages with apt..." lines.
std::string last_info_line(const std::string& text) {
    std::string found;
    for (const auto& line : split(text, '\n'))
        if (starts_with(line, "I: "))
            found = std::string(trim(line.substr(3)));
    return found;
}

void log_line(int fd, const std::string& line) {
    std::string text = line + "\n";
    (void)!::write(fd, text.data(), text.size());
}

// The log as two descriptors: one to append to, one to read back from.
Result<std::pair<Fd, Fd>> open_log(const StepSpec& spec) {
    const std::string what = "open build log " + spec.log_path;
    if (spec.log_fd >= 0) {
        Fd log(::fcntl(spec.log_fd, F_DUPFD_CLOEXEC, 3));
        Fd reader(::fcntl(spec.log_fd, F_DUPFD_CLOEXEC, 3));
        if (!log || !reader)
            return fail_errno(what, errno);
        return std::pair{std::move(log), std::move(reader)};
    }
    Fd log(
        ::open(spec.log_path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!log && errno == ELOOP)
        return fail(ErrorKind::Permission, what,
                    "it is a symbolic link, which fleetbox does not follow",
                    "remove " + spec.log_path);
    if (!log)
        return fail_errno(what, errno);
    Fd reader(::fcntl(log.get(), F_DUPFD_CLOEXEC, 3));
    if (!reader)
        return fail_errno(what, errno);
    return std::pair{std::move(log), std::move(reader)};
}

off_t log_size(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_size : 0;
}

} // namespace

Status run_step(const StepSpec& spec) {
    const std::string& program = spec.argv.at(0);
    auto [log, reader] = FBX_TRY(open_log(spec));
    log_line(log.get(), "$ " + shell_join(spec.argv));
    off_t start = ::lseek(log.get(), 0, SEEK_END);

    ChildSpec child_spec;
    child_spec.argv = spec.argv;
    child_spec.env_set = {"LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"};
    child_spec.out = Stream::File;
    child_spec.out_file = log.get();
    child_spec.err = Stream::File;
    child_spec.err_file = log.get();
    child_spec.own_process_group = true;
    child_spec.parent_death_signal = SIGKILL;
    child_spec.missing_hint = "install it: sudo apt-get install " + spec.package;
    auto child = FBX_TRY(ChildProcess::spawn(child_spec));

    auto started = std::chrono::steady_clock::now();
    ExitStatus status;
    while (true) {
        auto waited = child.wait(std::chrono::milliseconds(200));
        if (waited) {
            status = *waited;
            break;
        }
        if (waited.error().kind != ErrorKind::Timeout)
            return fail(std::move(waited).error());
        if (interrupted()) {
            child.kill();
            log_line(log.get(), fmt::format("fleetbox: {} interrupted", program));
            return fail(ErrorKind::Interrupted, fmt::format("build image {}", spec.alias),
                        fmt::format("interrupted while running {}", program));
        }
        if (log_size(log.get()) > kMaxBuildLogBytes) {
            child.kill();
            log_line(log.get(),
                     fmt::format("fleetbox: {} stopped: the build log passed {}", program,
                                 format_bytes(static_cast<unsigned long long>(kMaxBuildLogBytes))));
            return fail(
                ErrorKind::ExternalCommand, fmt::format("build image {}", spec.alias),
                fmt::format("{} wrote more than {} of output", program,
                            format_bytes(static_cast<unsigned long long>(kMaxBuildLogBytes))),
                "see " + spec.log_path);
        }
        if (spec.progress != nullptr && program == "mmdebstrap")
            spec.progress->detail(last_info_line(read_from(reader.get(), start, 4096)));
    }
    std::string output = status.ok() ? std::string() : read_from(reader.get(), start, 256 * 1024);
    log_line(log.get(), fmt::format("fleetbox: {} {} after {}", program, status.describe(),
                                    format_duration(std::chrono::duration<double>(
                                                        std::chrono::steady_clock::now() - started)
                                                        .count())));
    if (status.ok())
        return {};
    StepFailure failure{spec.alias, program, status, std::move(output), spec.log_path};
    static const MirrorSet kNoMirrors;
    return fail(classify_failure(failure, spec.mirrors ? *spec.mirrors : kNoMirrors));
}

} // namespace fleetbox::image

// `fleetbox logs NAME [-f]`: the VM's serial console (kernel, systemd and cloud-init output).
// -f follows the file as it grows, like `tail -f` (and, like `tail -F`, across the helper's
// log cap truncating it and a new boot replacing it), until Ctrl-C. For a name whose first boot
// failed (the VM was rolled back), it prints the kept serial log from the store's failed/.
#include "cli.hpp"
#include "client/member_files.hpp"
#include "store/store.hpp"
#include "sys/fd.hpp"
#include "sys/fs.hpp"
#include "sys/interrupt.hpp"

#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace fleetbox::cli {

namespace {

struct LogsArgs {
    std::string name;
    bool follow = false;
};

// -f: the helper caps serial.log by truncating it in place (the older lines go to
// serial.log.1) and a new boot replaces the file: either way, start over at its beginning.
void follow_rotation(Fd& fd, const std::string& path) {
    struct stat open_st {};
    struct stat path_st {};
    if (::fstat(fd.get(), &open_st) != 0)
        return;
    if (::stat(path.c_str(), &path_st) == 0 &&
        (path_st.st_ino != open_st.st_ino || path_st.st_dev != open_st.st_dev)) {
        fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        return;
    }
    if (open_st.st_size < ::lseek(fd.get(), 0, SEEK_CUR))
        (void)::lseek(fd.get(), 0, SEEK_SET);
}

// Copies what is readable now; returns false on a read error.
bool pump(int fd) {
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0;
        std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
    }
}

// A VM that does not exist may still have the serial log of its failed first boot.
Result<int> print_failed_boot_log(const Store& store, const std::string& name) {
    const std::string dir = FBX_TRY(store.failed_boot_dir(name));
    if (!is_directory(dir))
        return fail(ErrorKind::NotFound, fmt::format("VM \"{}\" does not exist", name), {},
                    "list VMs with `fleetbox ls`");
    const std::string log = dir + "/serial.log";
    Fd fd(::open(log.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd && errno != ENOENT)
        return fail_errno("open " + log, errno);
    if (!fd) {
        fmt::print(
            stderr,
            "note: {} does not exist; its failed first boot wrote no console output (see {})\n",
            name, dir);
        return 0;
    }
    fmt::print(stderr,
               "note: {} does not exist; this is the serial log of its failed first boot ({})\n",
               name, log);
    if (!pump(fd.get()))
        return fail_errno("read " + log, errno);
    return 0;
}

Result<int> run_logs(const LogsArgs& args) {
    auto store = FBX_TRY(Store::open());
    if (!store.exists(args.name))
        return print_failed_boot_log(store, args.name);
    auto files = FBX_TRY(client::MemberFiles::of(store, args.name));
    Fd fd(::open(files.serial_log.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT && !args.follow)
            return 0; // never booted: nothing logged yet
        if (errno != ENOENT)
            return fail_errno("open " + files.serial_log, errno);
    }
    if (fd && !pump(fd.get()))
        return fail_errno("read " + files.serial_log, errno);
    std::fflush(stdout);
    while (args.follow && !interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (!fd) {
            fd.reset(::open(files.serial_log.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd)
                continue;
        }
        follow_rotation(fd, files.serial_log);
        if (!fd)
            continue;
        if (!pump(fd.get()))
            return fail_errno("read " + files.serial_log, errno);
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

void install_logs(CLI::App& app, Globals& /*globals*/, Action& action) {
    auto args = std::make_shared<LogsArgs>();
    auto* cmd = app.add_subcommand("logs", "Print a VM's serial console log");
    cmd->add_option("name", args->name, "VM name")->required();
    cmd->add_flag("-f,--follow", args->follow, "Keep printing as the log grows (Ctrl-C to stop)");
    cmd->callback([&action, args] { action = [args] { return run_logs(*args); }; });
}

} // namespace fleetbox::cli

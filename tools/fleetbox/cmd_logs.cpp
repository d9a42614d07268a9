// `fleetbox logs NAME [-f]`: the VM's serial console (kernel, systemd and cloud-init output).
// -f follows the file as it grows, like `tail -f`, until Ctrl-C.
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fmt/core.h>
#include <thread>
#include <unistd.h>

#include "cli.hpp"
#include "client/member_files.hpp"
#include "store/store.hpp"
#include "sys/fd.hpp"
#include "sys/interrupt.hpp"

namespace fleetbox::cli {

namespace {

struct LogsArgs {
    std::string name;
    bool follow = false;
};

// Copies what is readable now; returns false on a read error.
bool pump(int fd) {
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n == 0;
        std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
    }
}

Result<int> run_logs(const LogsArgs& args) {
    auto store = FBX_TRY(Store::open());
    if (!store.exists(args.name)) return fail(ErrorKind::NotFound, fmt::format("VM \"{}\" does not exist", args.name));
    auto files = FBX_TRY(client::MemberFiles::of(store, args.name));
    Fd fd(::open(files.serial_log.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT && !args.follow) return 0; // never booted: nothing logged yet
        if (errno != ENOENT) return fail_errno("open " + files.serial_log, errno);
    }
    if (fd && !pump(fd.get())) return fail_errno("read " + files.serial_log, errno);
    std::fflush(stdout);
    while (args.follow && !interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (!fd) {
            fd.reset(::open(files.serial_log.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) continue;
        }
        if (!pump(fd.get())) return fail_errno("read " + files.serial_log, errno);
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

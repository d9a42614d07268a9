// Vm::ssh with ExecOptions and the readiness waits (wait_for_port / _file / _unit / until).
//
// Why here and not in vm.cpp: these are the "control" half of the public Vm API; each is a
// thin adapter from a public call to GuestShell (one reused SSH connection) or a TCP probe,
// and to the shared polling loop in readiness.cpp. ADR 0018 has the semantics.
#include "client/readiness.hpp"
#include "client/vm_impl.hpp"
#include "sys/tcp_connect.hpp"
#include "util/strings.hpp"

#include <fleetbox/fleetbox.hpp>
#include <fmt/format.h>

namespace fleetbox {

namespace {

using client::Observation;
using std::chrono::milliseconds;

constexpr milliseconds kPortProbe{2000};    // one TCP connect attempt
constexpr milliseconds kJournalRead{15000}; // reading a failed unit's journal
constexpr int kJournalLines = 5;

std::string summarize(const std::string& command) {
    std::string line = command.substr(0, command.find('\n'));
    if (line.size() > 60 || line.size() < command.size())
        line = line.substr(0, 60) + "...";
    return line;
}

// Runs one check command on the VM; its result goes to `judge`. A check that hit the
// deadline or could not reach the VM is "not yet"; anything else waiting cannot fix ends it.
template <typename Judge>
Observation check(guest::GuestShell& shell, const std::string& command, const guest::ExecIo& io,
                  milliseconds budget, Judge judge) {
    auto r = shell.exec(command, io, budget);
    if (!r) {
        switch (r.error().kind) {
        case ErrorKind::Timeout:
            return Observation::not_yet("the check was still running at the deadline (killed)",
                                        /*cut_short=*/true);
        case ErrorKind::Network:
            return Observation::not_yet(r.error().message());
        default:
            return Observation::failed(std::move(r).error());
        }
    }
    return judge(*r);
}

guest::ExecIo probe_io(const std::stop_token& cancel, bool as_root, bool process_group) {
    guest::ExecIo io;
    io.cancel = cancel;
    io.as_root = as_root;
    io.process_group = process_group;
    return io;
}

} // namespace

Result<ExecResult> Vm::ssh(const std::string& command, const ExecOptions& options) {
    guest::ExecIo io;
    io.input = options.input;
    io.cancel = options.cancel;
    io.as_root = options.as_root;
    io.process_group = true;
    auto r = FBX_TRY(impl_->shell_.exec(command, io, options.timeout));
    return ExecResult{r.exit_code, std::move(r.out), std::move(r.err)};
}

Status Vm::wait_for_port(int port, milliseconds timeout) {
    return wait_for_port(port, timeout, std::stop_token());
}

Status Vm::wait_for_port(int port, milliseconds timeout, std::stop_token cancel) {
    FBX_CHECK(client::validate_port(port));
    const std::string label = "VM " + impl_->name_;
    client::WaitSpec spec{
        fmt::format("TCP port {} on {} ({})", port, label, endpoint(impl_->ip_, port)), timeout,
        std::move(cancel),
        "check that the service listens on the VM's address or 0.0.0.0 "
        "(not only 127.0.0.1) and that it started"};
    return client::wait_for(spec, [&](milliseconds budget) {
        auto probe = tcp_probe(impl_->ip_, port, std::min(budget, kPortProbe), label);
        if (probe)
            return Observation::ready();
        if (probe.error().kind == ErrorKind::Network || probe.error().kind == ErrorKind::Timeout) {
            bool cut = probe.error().kind == ErrorKind::Timeout && budget < kPortProbe;
            return Observation::not_yet(client::reason(probe.error()), cut);
        }
        return Observation::failed(std::move(probe).error());
    });
}

Status Vm::wait_for_file(const std::string& guest_path, milliseconds timeout) {
    return wait_for_file(guest_path, timeout, std::stop_token());
}

Status Vm::wait_for_file(const std::string& guest_path, milliseconds timeout,
                         std::stop_token cancel) {
    FBX_CHECK(client::validate_guest_path(guest_path));
    client::WaitSpec spec{fmt::format("file {} on VM {}", guest_path, impl_->name_), timeout,
                          std::move(cancel), "check the program that should create it"};
    const auto command = client::file_exists_command(guest_path);
    const auto io = probe_io(spec.cancel, /*as_root=*/true, /*process_group=*/false);
    return client::wait_for(spec, [&](milliseconds budget) {
        return check(impl_->shell_, command, io, budget, [](const guest::ExecResult& r) {
            if (r.exit_code == 0)
                return Observation::ready();
            if (r.exit_code == 1 && trim(r.err).empty())
                return Observation::not_yet("it does not exist");
            return Observation::not_yet(client::describe_exit(r.exit_code, r.out, r.err));
        });
    });
}

Status Vm::wait_for_unit(const std::string& unit, milliseconds timeout) {
    return wait_for_unit(unit, timeout, std::stop_token());
}

Status Vm::wait_for_unit(const std::string& unit, milliseconds timeout, std::stop_token cancel) {
    FBX_CHECK(client::validate_unit_name(unit));
    const std::string what = fmt::format("unit {} on VM {} to be active", unit, impl_->name_);
    const std::string look = fmt::format("see `systemctl status {0}` and `journalctl -u {0}` in "
                                         "the guest",
                                         shell_quote(unit));
    client::WaitSpec spec{what, timeout, std::move(cancel), look};
    const auto command = client::unit_state_command(unit);
    const auto io = probe_io(spec.cancel, /*as_root=*/false, /*process_group=*/false);
    auto& shell = impl_->shell_;
    return client::wait_for(spec, [&](milliseconds budget) {
        return check(shell, command, io, budget, [&](const guest::ExecResult& r) {
            if (r.exit_code == 0)
                return Observation::ready();
            std::string state(trim(r.out));
            if (state != "failed") {
                return Observation::not_yet(state.empty()
                                                ? client::describe_exit(r.exit_code, r.out, r.err)
                                                : "state " + state);
            }
            // Failed: the unit will not become active by itself. Quote its journal's tail.
            std::string lines = "(its journal could not be read)";
            auto journal = shell.exec(client::unit_journal_command(unit, kJournalLines),
                                      probe_io({}, /*as_root=*/true, false), kJournalRead);
            if (journal && journal->exit_code == 0 && !trim(journal->out).empty()) {
                std::vector<std::string> tail;
                for (const auto& l : split(journal->out, '\n'))
                    if (!trim(l).empty())
                        tail.emplace_back(trim(l));
                lines = join(tail, " | ");
            }
            return Observation::failed(Error{ErrorKind::ExternalCommand, 0, "wait for " + what,
                                             "the unit is failed; last journal lines: " + lines,
                                             look});
        });
    });
}

Status Vm::wait_until(const std::string& command, milliseconds timeout) {
    return wait_until(command, timeout, std::stop_token());
}

Status Vm::wait_until(const std::string& command, milliseconds timeout, std::stop_token cancel) {
    if (trim(command).empty())
        return fail(ErrorKind::InvalidArgument, "wait until a command succeeds",
                    "the command is empty");
    client::WaitSpec spec{fmt::format("`{}` to succeed on VM {}", summarize(command), impl_->name_),
                          timeout, std::move(cancel),
                          "run the command with Vm::ssh to see its output"};
    // Its own process group: a check still running at the deadline is killed with its children.
    const auto io = probe_io(spec.cancel, /*as_root=*/false, /*process_group=*/true);
    return client::wait_for(spec, [&](milliseconds budget) {
        return check(impl_->shell_, command, io, budget, [](const guest::ExecResult& r) {
            if (r.exit_code == 0)
                return Observation::ready();
            return Observation::not_yet(client::describe_exit(r.exit_code, r.out, r.err));
        });
    });
}

} // namespace fleetbox

// fleetbox::testing::start / start_cluster and the registry that owns what they started.
//
// Why a TestEventListener: it is the one place GoogleTest tells us a test (or suite) ended,
// whatever way the test body left (assertion, exception, return). It is appended on the first
// start(), so a binary that never boots a VM is unaffected. GoogleTest calls the *End events
// of its listeners in reverse order, so ours runs before the default printer writes
// "[  FAILED  ]": the serial-log tails land inside the failed test's output.
// Reporting reads only public calls (Vm::serial_log, Vm::ssh_command_line, Vm::keep); a
// guest's console is untrusted, so control bytes are shown as '?' before they reach the
// terminal.
#include <cstdio>
#include <cstdlib>
#include <fleetbox/gtest.hpp>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fleetbox::testing {

namespace {

constexpr std::size_t kTailLines = 50;

enum class Scope { Test, Suite };

struct Entry {
    Scope scope = Scope::Test;
    std::unique_ptr<Vm> vm;
    std::unique_ptr<Cluster> cluster;
    std::string store_root; // "" when the store is the default one
    [[nodiscard]] std::vector<Vm*> vms() const {
        if (cluster)
            return cluster->vms();
        return {vm.get()};
    }
};

// The last `n` lines of `text`, control bytes (escape sequences) replaced by '?'.
std::vector<std::string> tail_lines(const std::string& text, std::size_t n) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        for (char& c : line)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                c = '?';
        lines.push_back(std::move(line));
    }
    if (lines.size() > n)
        lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
    return lines;
}

std::string read_link(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// The store a VM lives in, when it is not the default one: "FLEETBOX_HOME=<root> ".
std::string home_prefix(const Entry& entry) {
    std::string root = entry.store_root;
    if (root.empty())
        if (const char* env = std::getenv("FLEETBOX_HOME"); env != nullptr && *env != '\0')
            root = env;
    return root.empty() ? std::string() : "FLEETBOX_HOME=" + root + " ";
}

void report_vm(std::ostream& out, Vm& vm) {
    out << "[ fleetbox ] --- serial console of " << vm.name() << " (" << vm.ip() << "), last "
        << kTailLines << " lines ---\n";
    if (auto log = vm.serial_log()) {
        for (const auto& line : tail_lines(*log, kTailLines))
            out << "[ fleetbox ] | " << line << "\n";
    } else {
        out << "[ fleetbox ] (cannot read it: " << log.error().message() << ")\n";
    }
    out << "[ fleetbox ] --- end of serial console of " << vm.name() << " ---\n";
    out << "[ fleetbox ] ssh to " << vm.name() << ": " << vm.ssh_command_line() << "\n";
}

void report_kept(std::ostream& out, const Entry& entry, Vm& vm) {
    out << "[ fleetbox ] kept VM " << vm.name() << " (FLEETBOX_KEEP_ON_FAILURE): reach it with\n"
        << "[ fleetbox ]     " << home_prefix(entry) << "fleetbox ssh " << vm.name() << "\n"
        << "[ fleetbox ]   remove it with: " << home_prefix(entry) << "fleetbox rm -f " << vm.name()
        << "\n";
    std::string ours = read_link("/proc/self/ns/net");
    std::string hosts = read_link("/proc/1/ns/net");
    if (!ours.empty() && ours != hosts)
        out << "[ fleetbox ]   note: it lives in this test's network namespace (" << ours
            << "), not the host's: run those commands inside it, e.g. nsenter --net=/proc/"
            << "$(pgrep -o -f 'fleetbox-helper.*--member " << entry.vms().front()->name()
            << "')/ns/net ...\n";
}

class Registry : public ::testing::EmptyTestEventListener {
public:
    // The one registry, appended to GoogleTest's listeners on first use (which then owns it).
    static Registry& get() {
        static Registry* instance = [] {
            auto* created = new Registry();
            ::testing::UnitTest::GetInstance()->listeners().Append(created);
            return created;
        }();
        return *instance;
    }

    void add(Entry entry) {
        std::lock_guard lock(mutex_);
        entries_.push_back(std::move(entry));
    }

    void OnTestEnd(const ::testing::TestInfo& info) override {
        finish(Scope::Test, info.result() != nullptr && info.result()->Failed());
    }
    void OnTestSuiteEnd(const ::testing::TestSuite& suite) override {
        finish(Scope::Suite, suite.Failed());
    }
    void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
        finish(Scope::Test, unit.Failed());
        finish(Scope::Suite, unit.Failed());
    }

private:
    void finish(Scope scope, bool failed) {
        std::vector<Entry> ending;
        {
            std::lock_guard lock(mutex_);
            for (auto it = entries_.begin(); it != entries_.end();) {
                if (it->scope == scope) {
                    ending.push_back(std::move(*it));
                    it = entries_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        bool keep = failed && keep_on_failure();
        for (auto& entry : ending) {
            if (failed)
                for (auto* vm : entry.vms())
                    report_vm(std::cout, *vm);
            if (keep && keep_entry(entry)) {
                for (auto* vm : entry.vms())
                    report_kept(std::cout, entry, *vm);
                continue; // the handles go; the VMs stay
            }
            destroy_entry(entry);
        }
        std::cout.flush();
    }

    static bool keep_entry(Entry& entry) {
        Status kept = entry.cluster ? entry.cluster->keep() : entry.vm->keep();
        if (!kept)
            std::cout << "[ fleetbox ] warning: could not keep the VMs: " << kept.error().message()
                      << "; destroying them\n";
        return kept.has_value();
    }

    static void destroy_entry(Entry& entry) {
        Status gone = entry.cluster ? entry.cluster->destroy() : entry.vm->destroy();
        if (!gone)
            std::cout << "[ fleetbox ] warning: failed to destroy "
                      << (entry.cluster ? "cluster " + entry.cluster->name()
                                        : "VM " + entry.vm->name())
                      << ": " << gone.error().message() << "\n";
    }

    std::mutex mutex_;
    std::vector<Entry> entries_;
};

Scope current_scope() {
    return ::testing::UnitTest::GetInstance()->current_test_info() != nullptr ? Scope::Test
                                                                              : Scope::Suite;
}

// Skips (returns false) with the reason when the host cannot boot VMs.
bool host_ready(const std::source_location& where) {
    auto ok = can_boot_vms();
    if (ok)
        return true;
    std::string why = "host cannot boot a VM: " + ok.error().message();
    if (!ok.error().hint.empty())
        why += " (" + ok.error().hint + ")";
    GTEST_MESSAGE_AT_(where.file_name(), static_cast<int>(where.line()), why.c_str(),
                      ::testing::TestPartResult::kSkip);
    return false;
}

void report_failure(const std::source_location& where, const Error& error) {
    ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
        << error.message() << (error.hint.empty() ? "" : "\nhint: " + error.hint);
}

} // namespace

Status can_boot_vms() {
    return check_host();
}

Vm* start(const Options& options, std::source_location where) {
    if (!host_ready(where))
        return nullptr;
    auto& registry = Registry::get();
    std::string name = unique_name(current_test_name());
    auto vm = fleetbox::start(name, options);
    if (!vm) {
        report_failure(where, vm.error());
        return nullptr;
    }
    Entry entry;
    entry.scope = current_scope();
    entry.vm = std::make_unique<Vm>(std::move(*vm));
    entry.store_root = options.store_root.value_or("");
    Vm* out = entry.vm.get();
    registry.add(std::move(entry));
    return out;
}

Cluster* start_cluster(int n, const Options& options, std::source_location where) {
    if (n < 1) {
        report_failure(where,
                       Error{ErrorKind::InvalidArgument, 0, "start a test cluster",
                             "a cluster needs at least 1 member, got " + std::to_string(n), ""});
        return nullptr;
    }
    if (!host_ready(where))
        return nullptr;
    auto& registry = Registry::get();
    std::string prefix =
        unique_name(current_test_name(), 1 + std::to_string(n).size()); // room for "-<n>"
    auto cluster = fleetbox::start_cluster(prefix, n, options);
    if (!cluster) {
        report_failure(where, cluster.error());
        return nullptr;
    }
    Entry entry;
    entry.scope = current_scope();
    entry.cluster = std::make_unique<Cluster>(std::move(*cluster));
    entry.store_root = options.store_root.value_or("");
    Cluster* out = entry.cluster.get();
    registry.add(std::move(entry));
    return out;
}

} // namespace fleetbox::testing

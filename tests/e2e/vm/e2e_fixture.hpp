// Shared fixture for tests that run fleetbox for real: a private network namespace, a
// scratch store holding the cached debian-12 image, the built CLI run as a child process, and
// the leak checks (processes, links, nftables tables) that every lifecycle ends with.
//
// Why these choices:
// - Network safety: SetUp moves the test process into a brand-new network namespace
//   (unshare(CLONE_NEWNET)) and brings its `lo` up. gtest_discover_tests runs each test in its
//   own process, so every test gets a fresh namespace; the fleetbox CLI, the helper and QEMU
//   inherit it, and the kernel drops it (bridge, taps, nftables tables) once the last process
//   in it is gone. The host's namespace is never touched.
// - Images are never rebuilt per test: the shared cache ($FLEETBOX_IMAGE_CACHE, else
//   /root/.fleetbox/images) is ensured once, and its files are HARDLINKED into
//   <scratch>/images/debian-12/. Hardlinks (same filesystem) keep the helper's "paths must be
//   inside the store" check happy where symlinks would not, cost no copy, and vanish with the
//   scratch directory while the cache keeps its own links. Cached files are never written:
//   a test that must damage an image copies it (copy_cached_image).
// - The scratch root is short (/tmp/fbx-e2e-XXXXXX): the store refuses roots longer than 81
//   bytes, because its unix socket paths must fit sun_path.
// - Whatever a failed test leaves running (a detached helper, QEMU) is found by its command
//   line, which names the scratch store, and killed by pid before the directory is removed.
#pragma once

#include "image/cache.hpp"
#include "store/names.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/types.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fleetbox::test {

inline constexpr const char* kImageAlias = "debian-12";
inline constexpr const char* kImageFiles[] = {"disk.qcow2", "vmlinuz", "initrd.img",
                                              "manifest.json"};

// Runs a command in the current namespace; its stdout, or "" when it could not run.
inline std::string command_out(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    auto r = run_command(spec, std::chrono::seconds(30));
    return r ? r->out : std::string();
}

// Link names in this namespace (`ip -o link`), without "@peer" suffixes.
inline std::vector<std::string> net_links() {
    std::vector<std::string> names;
    std::istringstream in(command_out({"ip", "-o", "link", "show"}));
    std::string line;
    while (std::getline(in, line)) {
        auto a = line.find(": ");
        if (a == std::string::npos)
            continue;
        auto b = line.find(':', a + 2);
        std::string name =
            line.substr(a + 2, b == std::string::npos ? std::string::npos : b - a - 2);
        names.push_back(name.substr(0, name.find('@')));
    }
    return names;
}

// `nft list tables` lines ("table inet fbx_..."), one per table.
inline std::vector<std::string> nft_tables() {
    std::vector<std::string> tables;
    std::istringstream in(command_out({"nft", "list", "tables"}));
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            tables.push_back(line);
    return tables;
}

inline bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
    for (const auto& l : lines)
        if (l.find(needle) != std::string::npos)
            return true;
    return false;
}

// Empty on success, else why the private namespace could not be made.
inline std::string enter_private_netns() {
    if (::unshare(CLONE_NEWNET) != 0)
        return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    if (net_links() != std::vector<std::string>{"lo"})
        return "not a fresh network namespace";
    ChildSpec up;
    up.argv = {"ip", "link", "set", "lo", "up"};
    if (auto r = run_checked(up, std::chrono::seconds(30)); !r)
        return r.error().message();
    return {};
}

// QEMU and fleetbox-helper processes whose command line names `root` (zombies have none).
inline std::vector<pid_t> store_processes(const std::string& root) {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        std::string pid = entry.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto cmdline = read_file("/proc/" + pid + "/cmdline");
        if (!cmdline || cmdline->empty())
            continue;
        std::string argv0 = base_name(cmdline->substr(0, cmdline->find('\0')));
        bool ours = argv0.rfind("qemu-system", 0) == 0 || argv0.rfind("fleetbox-helper", 0) == 0;
        bool names_root = cmdline->find(root + '/') != std::string::npos ||
                          cmdline->find(root + '\0') != std::string::npos; // e.g. "--store ROOT"
        if (ours && names_root)
            pids.push_back(std::stoi(pid));
    }
    return pids;
}

// Waits (bounded) until no QEMU or helper of the store is left; true when none is.
inline bool wait_no_store_processes(const std::string& root, std::chrono::seconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!store_processes(root).empty()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return true;
}

// A scratch FLEETBOX_HOME: /tmp/fbx-e2e-XXXXXX, emptied of processes and removed at the end.
class ScratchStore {
public:
    ScratchStore() {
        std::string templ = "/tmp/fbx-e2e-XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        root_ = templ;
    }
    ~ScratchStore() {
        for (pid_t pid : store_processes(root_))
            ::kill(pid, SIGKILL); // only what names our store
        (void)wait_no_store_processes(root_, std::chrono::seconds(10));
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    ScratchStore(const ScratchStore&) = delete;
    ScratchStore& operator=(const ScratchStore&) = delete;
    [[nodiscard]] const std::string& root() const { return root_; }
    [[nodiscard]] std::string member_dir(const std::string& name) const {
        return root_ + "/clusters/" + cluster_name(name) + "/" + name;
    }

private:
    std::string root_;
};

inline std::string image_cache_dir() {
    const char* env = std::getenv("FLEETBOX_IMAGE_CACHE");
    return env != nullptr && *env != '\0' ? env : "/root/.fleetbox/images";
}

// The shared cache's image `alias` (built first when absent, or rebuilt when an older recipe
// made it, if build_if_missing), or why not.
inline Result<image::ImageInfo> cached_image(bool build_if_missing,
                                             const std::string& alias = kImageAlias) {
    image::ImageCache cache(image_cache_dir());
    if (build_if_missing) {
        image::BuildOptions options;
        options.progress = image::ProgressMode::Plain;
        options.replace_outdated = true; // these tests check this binary's image
        return cache.ensure(alias, options);
    }
    auto found = FBX_TRY(cache.lookup(alias));
    if (!found)
        return fail(ErrorKind::NotFound, "find the cached image",
                    image_cache_dir() + " has no " + alias);
    return *found;
}

// Puts the cached image into <store_root>/images/<alias> as hardlinks (or copies).
inline Status install_cached_image(const std::string& store_root, bool build_if_missing, bool copy,
                                   const std::string& alias = kImageAlias) {
    auto image = FBX_TRY(cached_image(build_if_missing, alias));
    std::string target = store_root + "/images/" + alias;
    std::error_code ec;
    std::filesystem::create_directories(target, ec);
    if (ec)
        return fail(ErrorKind::Io, "create " + target, ec.message());
    for (const char* file : kImageFiles) {
        std::string from = image.dir + "/" + file;
        std::string to = target + "/" + file;
        if (copy)
            std::filesystem::copy_file(from, to, ec);
        else
            std::filesystem::create_hard_link(from, to, ec);
        if (ec)
            return fail(ErrorKind::Io, (copy ? "copy " : "hardlink ") + from + " to " + to,
                        ec.message());
    }
    return {};
}
inline Status link_cached_image(const std::string& store_root, bool build_if_missing) {
    return install_cached_image(store_root, build_if_missing, false);
}
inline Status copy_cached_image(const std::string& store_root) {
    return install_cached_image(store_root, false, true);
}

struct CliRun {
    int code = -1; // exit code; -1 when killed by a signal or not run
    std::string out;
    std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const CliRun& r) {
    return os << "exit " << r.code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
}

struct CliOptions {
    std::vector<std::string> env_set; // extra "KEY=VALUE"
    std::vector<std::string> env_unset;
    std::optional<std::string> stdin_text; // default: /dev/null
    std::chrono::seconds timeout{900};
    std::vector<std::string> prefix; // argv before the binary, e.g. setpriv to switch user
};

// Runs the built fleetbox CLI with FLEETBOX_HOME=store_root.
inline CliRun run_fleetbox(const std::string& store_root, std::vector<std::string> args,
                           const CliOptions& options = {}) {
    ChildSpec spec;
    spec.argv = options.prefix;
    spec.argv.push_back(built("tools/fleetbox/fleetbox"));
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env_set = {"FLEETBOX_HOME=" + store_root};
    spec.env_set.insert(spec.env_set.end(), options.env_set.begin(), options.env_set.end());
    spec.env_unset = options.env_unset;
    spec.out = spec.err = Stream::Capture;
    // stdin text: the child inherits fd 0 pointed at a file holding it, for the spawn only.
    int saved_stdin = -1;
    if (options.stdin_text) {
        std::string path = store_root + "/.stdin";
        write_text(path, *options.stdin_text);
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        saved_stdin = ::dup(0);
        ::dup2(fd, 0);
        ::close(fd);
        spec.in = Stream::Inherit;
    }
    auto child = ChildProcess::spawn(spec);
    if (saved_stdin >= 0) {
        ::dup2(saved_stdin, 0);
        ::close(saved_stdin);
    }
    CliRun run;
    if (!child) {
        run.err = child.error().message();
        return run;
    }
    auto status = child->wait(options.timeout);
    if (!status) {
        child->kill();
        run.err = "(timed out: " + status.error().message() + ")\n";
    } else {
        run.code = status->code;
    }
    run.out = child->captured_stdout();
    run.err = child->captured_stderr() + run.err;
    return run;
}

// Lines of `text` that start with `prefix`.
inline std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
    std::vector<std::string> found;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(prefix, 0) == 0)
            found.push_back(line);
    return found;
}

// The one "error: ..." line of a failed run (exit 1); the test fails unless there is exactly one.
inline std::string the_error(const CliRun& run) {
    EXPECT_EQ(run.code, 1) << run;
    auto errors = lines_starting(run.err, "error: ");
    EXPECT_EQ(errors.size(), 1u) << run;
    return errors.empty() ? std::string() : errors.front();
}

// A text field of a VM's config.json ("" when the file or the field is missing).
inline std::string config_field(const ScratchStore& store, const std::string& vm,
                                const std::string& field) {
    auto doc = nlohmann::json::parse(
        read_file(store.member_dir(vm) + "/config.json").value_or("{}"), nullptr, false);
    return doc.is_object() ? doc.value(field, "") : std::string();
}

// Base for tests that boot real VMs: root, QEMU, a private netns, a scratch store with the
// image hardlinked (built into the shared cache first if it is not there yet): debian-12, or
// the image_alias_ a derived fixture sets before calling VmTest::SetUp.
class VmTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root (a private network namespace, bridges, taps)";
        if (find_program("qemu-system-x86_64").empty())
            GTEST_SKIP() << "qemu-system-x86_64 is not installed";
        auto why = enter_private_netns();
        ASSERT_TRUE(why.empty()) << why;
        store_ = std::make_unique<ScratchStore>();
        auto linked = install_cached_image(store_->root(), /*build_if_missing=*/true,
                                           /*copy=*/false, image_alias_);
        ASSERT_TRUE(linked) << linked.error().message();
        // The library, run in this process, finds the built real helper (the CLI finds the
        // one next to it: the same file; a run that wants the fake sets its own).
        helper_env_.emplace("FLEETBOX_HELPER", built("tools/fleetbox/fleetbox-helper"));
    }
    void TearDown() override { store_.reset(); }

    [[nodiscard]] const std::string& root() const { return store_->root(); }

    // After a VM is gone: no QEMU/helper of this store, no fleetbox links, no fbx_ tables.
    void expect_nothing_left(std::chrono::seconds bound = std::chrono::seconds(60)) {
        EXPECT_TRUE(wait_no_store_processes(root(), bound))
            << store_processes(root()).size() << " QEMU/helper process(es) of " << root()
            << " still running";
        EXPECT_EQ(net_links(), std::vector<std::string>{"lo"});
        EXPECT_FALSE(any_contains(nft_tables(), "fbx_")) << ::testing::PrintToString(nft_tables());
        EXPECT_TRUE(network_records().empty()) << "a network record outlived its network";
    }

    // The write-ahead records in <store>/networks (ADR 0013), parsed.
    [[nodiscard]] std::vector<nlohmann::json> network_records() const {
        std::vector<nlohmann::json> out;
        const std::string dir = root() + "/networks";
        auto names = list_dir(dir);
        for (const auto& name : names ? *names : std::vector<std::string>{}) {
            if (name.rfind("fbx-", 0) == 0 && name.size() > 5 &&
                name.compare(name.size() - 5, 5, ".json") == 0)
                out.push_back(nlohmann::json::parse(read_text(dir + "/" + name)));
        }
        return out;
    }

    std::unique_ptr<ScratchStore> store_;
    std::optional<ScopedEnv> helper_env_;
    std::string image_alias_ = kImageAlias; // the image SetUp links in (set before SetUp)
};

} // namespace fleetbox::test

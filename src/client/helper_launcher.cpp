// HelperLauncher: locate the fleetbox-helper binary, start it with ChildProcess, and connect.
//
// Startup is a retry loop rather than a readiness pipe: the helper is ready exactly when its
// socket accepts, so the launcher dials until then, giving up when the child exits (its
// helper.log says why) or the startup timeout passes. Only a connection whose SO_PEERCRED pid
// is the child we started counts: an older helper still answering on the same path (our child
// refuses to start next to it and exits) is never mistaken for the new one.
// The helper needs root (CAP_NET_ADMIN) while a CLI run through sudo has dropped to the
// invoking user: the child regains root before exec (ChildSpec::regain_root). Its helper.log
// is opened here, as the client (the store's owner), with O_NOFOLLOW and mode 0600: a symlink
// planted as helper.log is refused, never followed.
#include "client/helper_launcher.hpp"

#include "store/names.hpp"
#include "sys/fs.hpp"
#include "sys/privileges.hpp"
#include "sys/sha256.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#ifndef FLEETBOX_LIBEXEC_HELPER
#define FLEETBOX_LIBEXEC_HELPER "/usr/local/libexec/fleetbox/fleetbox-helper"
#endif
// The installed helper relative to the installed library's directory (a relocated prefix).
#ifndef FLEETBOX_HELPER_FROM_LIBDIR
#define FLEETBOX_HELPER_FROM_LIBDIR "../libexec/fleetbox/fleetbox-helper"
#endif

namespace fleetbox::client {

namespace {

constexpr std::chrono::milliseconds kRetryPause{20};

bool executable(const std::string& path) {
    return !path.empty() && ::access(path.c_str(), X_OK) == 0 && !is_directory(path);
}

// FLEETBOX_HELPER names the binary to run. For a privileged client (root in its real,
// effective or saved uid: a CLI under sudo that dropped to the user keeps root saved and
// spawns the helper as root) it is honored only when the file, resolved to its real path, is
// owned by root and not writable by group or others, and so is every directory above it
// (a sticky directory such as /tmp may be writable: others cannot replace a root-owned entry
// in it). Otherwise `sudo -E` would run a binary the user chose as root. The real path, not
// the variable, is what runs, so a symlink swapped after the check changes nothing.
bool privileged_client() {
    uid_t real = 0, effective = 0, saved = 0;
    if (::getresuid(&real, &effective, &saved) != 0)
        return true; // cannot tell: be strict
    return real == 0 || effective == 0 || saved == 0;
}

// Why root must not run `path` ("" when it may): the canonical path and every directory
// above it must be root's and not writable by group or others (sticky directories aside).
std::string untrusted_for_root(const std::string& path, std::string& canonical) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr)
        return "it cannot be resolved";
    canonical = resolved;
    for (std::string at = canonical;; at = parent_dir(at)) {
        struct stat st {};
        if (::lstat(at.c_str(), &st) != 0)
            return at + " cannot be inspected";
        bool file = at == canonical;
        if (file && !S_ISREG(st.st_mode))
            return at + " is not a regular file";
        if (st.st_uid != 0)
            return fmt::format("{} is owned by uid {}, not root", at, st.st_uid);
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (file || (st.st_mode & S_ISVTX) == 0))
            return fmt::format("{} is writable by {}", at,
                               (st.st_mode & S_IWOTH) != 0 ? "others" : "its group");
        if (at == "/")
            return {};
    }
}

// The helper beside the file this code was loaded from (libfleetbox.so installed under some
// prefix: <prefix>/lib/../libexec/fleetbox/fleetbox-helper), or "" when that cannot be told.
// dladdr names the shared object holding `anchor`; in a statically linked program that is
// the executable itself, already covered by "next to the running executable".
std::string helper_beside_library() {
    static const char anchor = 0;
    Dl_info info{};
    if (::dladdr(&anchor, &info) == 0 || info.dli_fname == nullptr)
        return {};
    char resolved[PATH_MAX];
    if (::realpath(info.dli_fname, resolved) == nullptr)
        return {};
    if (resolved == self_exe())
        return {};
    return parent_dir(resolved) + "/" + FLEETBOX_HELPER_FROM_LIBDIR;
}

// Last line of the helper's log, for an error about a helper that died during startup.
std::string log_tail(const std::string& log_path) {
    auto text = read_file(log_path);
    return text ? last_line(*text) : std::string();
}

} // namespace

std::vector<std::string> helper_user_args(const InvokingUser& user) {
    return {"--user", fmt::format("{}:{}", user.uid, user.gid)};
}

// ---- HelperHandle ---------------------------------------------------------------------

HelperHandle& HelperHandle::operator=(HelperHandle&& other) noexcept {
    if (this != &other) {
        (void)close();
        mode_ = other.mode_;
        pid_ = other.pid_;
        client_ = std::move(other.client_);
        child_ = std::move(other.child_);
        log_path_ = std::move(other.log_path_);
        exit_timeout_ = other.exit_timeout_;
        closed_ = std::move(other.closed_);
    }
    return *this;
}

HelperHandle::~HelperHandle() {
    (void)close();
}

Result<ExitStatus> HelperHandle::close() {
    if (closed_)
        return *closed_;
    client_.reset(); // closes the bind connection: a bound helper starts shutting down
    Result<ExitStatus> result = ExitStatus{};
    if (mode_ == HelperMode::Bound && child_ && child_->pid() > 0) {
        auto waited = child_->wait(exit_timeout_);
        if (waited) {
            result = *waited;
        } else {
            child_->kill();
            result =
                fail(ErrorKind::Timeout, fmt::format("stop the fleetbox helper (pid {})", pid_),
                     "it did not exit after its client unbound; killed it", "see " + log_path_);
        }
    }
    closed_ = result;
    return result;
}

Status HelperHandle::keep() {
    if (mode_ != HelperMode::Bound)
        return {};
    if (closed_ || !client_)
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("keep the fleetbox helper (pid {})", pid_), "it was closed");
    FBX_CHECK(client_->detach());
    if (child_) {
        (void)child_->detach(); // ours no more: never waited for, never killed
        child_.reset();
    }
    mode_ = HelperMode::Detached;
    return {};
}

Result<ExitStatus> HelperHandle::wait(std::optional<std::chrono::milliseconds> timeout) {
    if (!child_ || child_->pid() <= 0)
        return fail(ErrorKind::InvalidArgument, "wait for the fleetbox helper",
                    "only a bound helper is this process's child");
    return child_->wait(timeout);
}

// ---- HelperLauncher -------------------------------------------------------------------

Result<std::string> HelperLauncher::locate() {
    if (const char* env = std::getenv("FLEETBOX_HELPER"); env && *env) {
        if (!executable(env))
            return fail(ErrorKind::MissingDependency, "find fleetbox-helper",
                        std::string("FLEETBOX_HELPER=") + env + " is not an executable file",
                        "point FLEETBOX_HELPER at a fleetbox-helper binary, or unset it");
        if (!privileged_client())
            return std::string(env);
        std::string canonical;
        std::string why = untrusted_for_root(env, canonical);
        if (why.empty())
            return canonical;
        std::fprintf(stderr,
                     "warning: ignoring FLEETBOX_HELPER=%s: fleetbox runs as root and runs only "
                     "a helper that root owns and nobody else can change (%s)\n",
                     env, why.c_str());
    }
    std::string beside = parent_dir(self_exe()) + "/fleetbox-helper";
    if (executable(beside))
        return beside;
    std::string near_library = helper_beside_library();
    if (executable(near_library))
        return near_library;
    std::string installed = FLEETBOX_LIBEXEC_HELPER;
    if (executable(installed))
        return installed;
    return fail(ErrorKind::MissingDependency, "find fleetbox-helper",
                "it is neither at " + beside +
                    (near_library.empty() ? std::string() : ", nor at " + near_library) +
                    " nor at " + installed,
                "reinstall fleetbox, or set FLEETBOX_HELPER to the fleetbox-helper binary");
}

Result<HelperLauncher> HelperLauncher::create(LaunchOptions options) {
    return HelperLauncher(FBX_TRY(locate()), std::move(options));
}

Result<HelperHandle> HelperLauncher::spawn(const Store& store, const std::string& member,
                                           HelperMode mode) const {
    std::string log_path = FBX_TRY(store.ensure_member_dir(member)) + "/helper.log";
    // O_APPEND: the helper caps its log by truncating it in place (sys/log_cap.hpp), and every
    // write then lands at the new end. O_NOFOLLOW: a symlink planted as helper.log is refused.
    constexpr int kLogFlags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
    Fd log(::open(log_path.c_str(), kLogFlags, 0600));
    if (!log && errno == EACCES && ::unlink(log_path.c_str()) == 0)
        log.reset(::open(log_path.c_str(), kLogFlags, 0600)); // root's, from an older fleetbox
    if (!log && errno == ELOOP)
        return fail(ErrorKind::Permission, "open " + log_path,
                    "it is a symbolic link, which fleetbox does not follow in its store",
                    "remove " + log_path);
    if (!log)
        return fail_errno("open " + log_path, errno);

    ChildSpec spec;
    spec.argv = {helper_path_,
                 "--store",
                 store.root(),
                 "--member",
                 member,
                 "--mode",
                 std::string(proto::to_string(mode))};
    // The store's owner, unless the caller's extra arguments name the user themselves. The
    // helper will run as that uid: its sockets are trusted (with our child's pid, at first).
    HelperClientOptions remote_options = options_.remote;
    const auto& extra = options_.extra_args;
    auto named = std::find(extra.begin(), extra.end(), "--user");
    if (named == extra.end()) {
        auto user = helper_user_args(store.owner());
        spec.argv.insert(spec.argv.end(), user.begin(), user.end());
        remote_options.started_as = store.owner().uid;
    } else if (named + 1 != extra.end()) {
        remote_options.started_as = static_cast<uid_t>(std::strtoul(named[1].c_str(), nullptr, 10));
    }
    if (mode == HelperMode::Bound) {
        spec.argv.push_back("--parent-pid");
        spec.argv.push_back(std::to_string(::getpid()));
    }
    spec.argv.insert(spec.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    spec.in = Stream::Null;
    spec.out = spec.err = Stream::File;
    spec.out_file = spec.err_file = log.get();
    spec.new_session = mode == HelperMode::Detached;
    // A process that never had root (a user, maybe with CAP_NET_ADMIN of its own) runs the
    // helper as itself, as before: the helper says what it lacks.
    spec.regain_root = can_regain_root();
    spec.missing_hint = "reinstall fleetbox, or set FLEETBOX_HELPER to the fleetbox-helper binary";
    auto child = FBX_TRY(ChildProcess::spawn(spec));
    log.reset();

    auto remote = FBX_TRY(connect_to_child(store, member, child, log_path, remote_options));
    if (mode == HelperMode::Bound) {
        if (auto bound = remote->bind(); !bound) {
            child.kill();
            return fail(std::move(bound).error());
        }
        pid_t pid = child.pid();
        return HelperHandle(mode, pid, std::move(remote), std::move(child), log_path,
                            options_.exit_timeout);
    }
    pid_t pid = child.detach();
    return HelperHandle(mode, pid, std::move(remote), std::nullopt, log_path,
                        options_.exit_timeout);
}

Result<std::unique_ptr<HelperClient>>
HelperLauncher::connect_to_child(const Store& store, const std::string& member, ChildProcess& child,
                                 const std::string& log_path,
                                 const HelperClientOptions& remote_options) const {
    const std::string what = "start fleetbox-helper for " + member;
    auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
    while (true) {
        if (auto exited = child.try_wait()) {
            std::string why = log_tail(log_path);
            return fail(ErrorKind::ExternalCommand, what,
                        "it " + exited->describe() + (why.empty() ? "" : ": " + why),
                        "see " + log_path);
        }
        auto remote = HelperClient::dial(store, member, remote_options);
        if (remote && (*remote)->peer_pid() == child.pid()) {
            if (auto greeted = (*remote)->handshake(); !greeted) {
                child.kill(); // a helper we cannot talk to is of no use, and must not linger
                return fail(std::move(greeted).error());
            }
            return std::move(*remote);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            child.kill();
            return fail(
                ErrorKind::Timeout, what,
                "its socket did not answer within " +
                    format_duration(static_cast<double>(options_.startup_timeout.count()) / 1000.0),
                "see " + log_path);
        }
        std::this_thread::sleep_for(kRetryPause);
    }
}

Result<HelperLauncher::ClusterHelper>
HelperLauncher::join_or_spawn(const Store& store, const std::string& member, HelperMode mode,
                              const std::string& cluster, const std::vector<std::string>& siblings,
                              bool join_only) const {
    FBX_CHECK(ensure_dir(store.run_dir(), 0700));
    auto lock = FBX_TRY(
        FileLock::acquire(store.run_dir() + "/cluster-" + sha256_hex_prefix(cluster, 8) + ".lock",
                          FileLock::Mode::Exclusive, options_.startup_timeout * 6));
    if (mode == HelperMode::Detached || join_only) {
        // The live helpers serving members of the cluster (normally one).
        struct Live {
            std::string sibling;
            std::unique_ptr<HelperClient> client;
        };
        std::vector<Live> live;
        for (const auto& sibling : siblings) {
            auto remote = attach(store, sibling);
            if (!remote) {
                if (no_helper_answers(remote.error()))
                    continue; // no live helper behind that member's socket
                // Another protocol version, a helper we may not reach, another user's socket:
                // spawning a second helper next to it would split the cluster.
                return fail(std::move(remote).error());
            }
            bool known = std::any_of(live.begin(), live.end(), [&](const Live& l) {
                return l.client->helper_pid() == (*remote)->helper_pid();
            });
            if (!known)
                live.push_back({sibling, std::move(*remote)});
        }
        if (live.size() > 1)
            return fail(
                ErrorKind::InvalidArgument, "start " + member,
                "the running members are on separate networks, so the new member can't join them",
                "bring the cluster up together (down the members, then up them in one command) or "
                "boot the new member on its own");
        if (live.size() == 1) {
            Live& found = live.front();
            if (found.client->helper_mode() != proto::to_string(HelperMode::Detached))
                return fail(
                    ErrorKind::InvalidArgument, "start " + member,
                    fmt::format(
                        "{} runs in a helper bound to another program (pid {}), so {} can't "
                        "join its network",
                        found.sibling, found.client->helper_pid(), member),
                    "add it from that program, or boot it after that program's VMs are gone");
            pid_t pid = found.client->helper_pid();
            std::string log_path = FBX_TRY(store.member_dir(found.sibling)) + "/helper.log";
            HelperHandle handle(HelperMode::Detached, pid, std::move(found.client), std::nullopt,
                                log_path, options_.exit_timeout);
            return ClusterHelper{std::move(handle), std::move(lock), true};
        }
    }
    if (join_only)
        return fail(ErrorKind::InvalidArgument, "add " + member + " to cluster " + cluster,
                    siblings.empty() ? std::string("no member of it is running")
                                     : siblings.front() + " is not running",
                    "start it first, or start " + member + " on its own");
    auto spawned = FBX_TRY(spawn(store, member, mode));
    return ClusterHelper{std::move(spawned), std::move(lock), false};
}

Result<std::unique_ptr<HelperClient>> HelperLauncher::attach(const Store& store,
                                                             const std::string& member) const {
    auto remote = FBX_TRY(HelperClient::dial(store, member, options_.remote));
    if (auto greeted = remote->handshake(); !greeted) {
        // Never kill a helper of another version: it may hold running VMs (and a caller may
        // only be listing them). Say who it is and leave it alone.
        if (remote->version_mismatch())
            return fail(std::move(greeted).error().with_hint(
                fmt::format("its VMs keep running: stop them with the fleetbox that started them "
                            "(helper pid {})",
                            remote->peer_pid())));
        return fail(std::move(greeted).error());
    }
    return remote;
}

} // namespace fleetbox::client

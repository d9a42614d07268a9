// Acting as another local user in tests that run as root: a function run in a forked child
// with that uid/gid, and a process of that user listening on a unix socket.
//
// Why fork rather than a helper binary: the child needs the test's own objects (a Store, a
// launcher) exactly as the test set them up, and the uid switch (setgroups + setresgid +
// setresuid, in that order, so no root group or uid is left) must happen before the first
// call under test. Children only report through a pipe and end with _exit: gtest state is
// never touched twice.
#pragma once

#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <grp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fleetbox::test {

inline constexpr uid_t kNobody = 65534;

inline bool become(uid_t uid, gid_t gid) {
    return ::setgroups(0, nullptr) == 0 && ::setresgid(gid, gid, gid) == 0 &&
           ::setresuid(uid, uid, uid) == 0;
}

// Runs `body` as uid:gid in a forked child; returns what it returned ("become failed" when
// the switch did not work).
inline std::string run_as_user(uid_t uid, gid_t gid, const std::function<std::string()>& body) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "pipe failed";
    pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        std::string out = become(uid, gid) ? body() : "become failed";
        (void)!::write(fds[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    ::waitpid(child, nullptr, 0);
    return out;
}

// A process of uid:gid listening on `path` (the socket file is that user's too), accepting
// connections and closing them at once, until this object goes away (SIGKILL + reap).
class ForeignListener {
public:
    ForeignListener(const std::string& path, uid_t uid, gid_t gid) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        int ready[2];
        if (::pipe(ready) != 0)
            return;
        pid_ = ::fork();
        if (pid_ == 0) { // bound as root (run/ is root's), then listening as the other user
            ::close(ready[0]);
            int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
                ::chown(addr.sun_path, uid, gid) != 0 || ::chmod(addr.sun_path, 0666) != 0 ||
                !become(uid, gid) || ::listen(fd, 8) != 0)
                ::_exit(1);
            (void)!::write(ready[1], "r", 1);
            ::close(ready[1]);
            while (true) {
                int conn = ::accept(fd, nullptr, nullptr);
                if (conn >= 0)
                    ::close(conn);
            }
        }
        ::close(ready[1]);
        char c = 0;
        pollfd p{ready[0], POLLIN, 0};
        if (::poll(&p, 1, 10000) > 0 && ::read(ready[0], &c, 1) == 1)
            listening_ = true;
        ::close(ready[0]);
    }
    ~ForeignListener() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL); // our own unreaped child
            ::waitpid(pid_, nullptr, 0);
        }
    }
    ForeignListener(const ForeignListener&) = delete;
    ForeignListener& operator=(const ForeignListener&) = delete;

    [[nodiscard]] bool listening() const { return listening_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    // True while the process still runs (not reaped, not a zombie).
    [[nodiscard]] bool alive() const {
        if (pid_ <= 0)
            return false;
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == 0;
    }

private:
    pid_t pid_ = -1;
    bool listening_ = false;
};

} // namespace fleetbox::test

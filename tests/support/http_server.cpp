// HttpServer (see http_server.hpp). Each connection: read the request head, pick the body
// (a registered buffer or a file under root), apply the path's behaviour, answer, close.
#include "http_server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <functional>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::test {

namespace {

constexpr int kPollMs = 100;

std::string reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 206:
        return "Partial Content";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 410:
        return "Gone";
    case 416:
        return "Range Not Satisfiable";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

std::string http_date(std::time_t t) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

// The value of header `name` in a request head ("" when absent).
std::string header(const std::string& head, const char* name) {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
        std::size_t start = pos + 2;
        std::size_t end = head.find("\r\n", start);
        std::string line = head.substr(start, end - start);
        auto colon = line.find(':');
        if (colon != std::string::npos && strcasecmp(line.substr(0, colon).c_str(), name) == 0) {
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            return value;
        }
        pos = end;
    }
    return {};
}

// "bytes=N-" -> N; anything else (no Range, other forms) -> nullopt.
std::optional<std::uint64_t> range_start(const std::string& range) {
    if (range.rfind("bytes=", 0) != 0 || range.back() != '-')
        return std::nullopt;
    std::string n = range.substr(6, range.size() - 7);
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoull(n);
}

} // namespace

HttpServer::HttpServer(std::string root) : root_(std::move(root)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return; // port() stays 0
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

HttpServer::~HttpServer() {
    stopping_ = true;
    if (acceptor_.joinable())
        acceptor_.join();
    for (auto& w : workers_)
        w.join();
    ::close(listen_fd_);
}

std::string HttpServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpServer::serve(const std::string& path, std::string body, HttpBehaviour behaviour) {
    std::lock_guard lock(mu_);
    std::string etag =
        "\"" + std::to_string(++generation_) + "-" + std::to_string(body.size()) + "\"";
    resources_[path] = Resource{std::move(body), std::move(etag), behaviour};
}

void HttpServer::set_behaviour(const std::string& path, HttpBehaviour behaviour) {
    std::lock_guard lock(mu_);
    resources_[path].behaviour = behaviour;
}

std::string HttpServer::etag(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = resources_.find(path);
    return it == resources_.end() ? std::string() : it->second.etag;
}

int HttpServer::requests(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = log_.find(path);
    return it == log_.end() ? 0 : static_cast<int>(it->second.ranges.size());
}

std::vector<std::string> HttpServer::ranges(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = log_.find(path);
    return it == log_.end() ? std::vector<std::string>{} : it->second.ranges;
}

std::vector<std::string> HttpServer::if_ranges(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = log_.find(path);
    return it == log_.end() ? std::vector<std::string>{} : it->second.if_ranges;
}

void HttpServer::accept_loop() {
    while (!stopping_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, kPollMs) <= 0)
            continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        std::lock_guard lock(mu_);
        workers_.emplace_back([this, fd] {
            handle(fd);
            ::close(fd);
        });
    }
}

bool HttpServer::send_all(int fd, const char* data, std::size_t size) const {
    while (size > 0) {
        if (stopping_)
            return false;
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, kPollMs) <= 0)
            continue;
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// A stalled server: the connection stays open, silent, until the client gives up (or the
// server is stopped).
void HttpServer::hold_open(int fd) const {
    char buf[256];
    while (!stopping_) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, kPollMs) <= 0)
            continue;
        if (::recv(fd, buf, sizeof buf, 0) <= 0)
            return;
    }
}

void HttpServer::handle(int fd) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
        if (stopping_)
            return;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, kPollMs) <= 0)
            continue;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return;
        head.append(buf, static_cast<std::size_t>(n));
    }
    // "GET /path?query HTTP/1.1"
    auto sp1 = head.find(' ');
    auto sp2 = head.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos)
        return;
    const std::string method = head.substr(0, sp1);
    std::string path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));
    const std::string range = header(head, "Range");
    const std::string if_range = header(head, "If-Range");
    const bool is_head = method == "HEAD";

    // The body source: a registered buffer (copied: a test may replace it meanwhile) or a file.
    std::string body;
    int file = -1;
    std::uint64_t size = 0;
    std::string etag;
    std::string last_modified = "Tue, 01 Dec 2026 00:00:00 GMT";
    HttpBehaviour behaviour;
    {
        std::lock_guard lock(mu_);
        log_[path].ranges.push_back(range);
        log_[path].if_ranges.push_back(if_range);
        auto it = resources_.find(path);
        if (it != resources_.end()) {
            body = it->second.body;
            size = body.size();
            etag = it->second.etag;
            behaviour = it->second.behaviour;
        } else {
            behaviour.status = 404;
        }
    }
    if (behaviour.status == 404 && !root_.empty() && path.find("/..") == std::string::npos) {
        file = ::open((root_ + path).c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st {};
        if (file >= 0 && ::fstat(file, &st) == 0 && S_ISREG(st.st_mode)) {
            behaviour.status = 200;
            size = static_cast<std::uint64_t>(st.st_size);
            etag = "\"" + std::to_string(size) + "-" + std::to_string(st.st_mtime) + "\"";
            last_modified = http_date(st.st_mtime);
        }
    }
    struct FileCloser {
        int& fd;
        ~FileCloser() {
            if (fd >= 0)
                ::close(fd);
        }
    } closer{file};

    if (method != "GET" && !is_head)
        behaviour.status = 405;
    if (behaviour.status != 200) {
        std::string text = reason_phrase(behaviour.status) + "\n";
        std::string response =
            "HTTP/1.1 " + std::to_string(behaviour.status) + " " + reason_phrase(behaviour.status) +
            "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(text.size()) +
            "\r\nConnection: close\r\n";
        if (!behaviour.location.empty())
            response += "Location: " + behaviour.location + "\r\n";
        response += "\r\n" + (is_head ? std::string() : text);
        send_all(fd, response.data(), response.size());
        return;
    }

    std::uint64_t start = 0;
    int status = 200;
    auto wanted = range_start(range);
    bool validator_ok = if_range.empty() || if_range == etag || if_range == last_modified ||
                        behaviour.ignore_if_range;
    if (wanted && !behaviour.ignore_range && validator_ok) {
        if (*wanted >= size) {
            std::string response = "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" +
                                   std::to_string(size) +
                                   "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            send_all(fd, response.data(), response.size());
            return;
        }
        start = *wanted;
        status = 206;
    }
    std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                           "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                           std::to_string(size - start) +
                           "\r\nAccept-Ranges: bytes\r\nConnection: close\r\n";
    if (status == 206)
        response += "Content-Range: bytes " + std::to_string(start) + "-" +
                    std::to_string(size - 1) + "/" + std::to_string(size) + "\r\n";
    if (behaviour.validators)
        response += "ETag: " + etag + "\r\nLast-Modified: " + last_modified + "\r\n";
    response += "\r\n";
    if (!send_all(fd, response.data(), response.size()) || is_head)
        return;

    std::vector<char> chunk(std::size_t{1} << 20);
    std::uint64_t sent = 0;
    std::uint64_t limit = size - start;
    if (behaviour.cut_after)
        limit = std::min(limit, *behaviour.cut_after);
    if (behaviour.stall_after)
        limit = std::min(limit, *behaviour.stall_after);
    while (sent < limit) {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), limit - sent));
        const char* data = nullptr;
        if (file >= 0) {
            ssize_t got = ::pread(file, chunk.data(), n, static_cast<off_t>(start + sent));
            if (got <= 0)
                return;
            n = static_cast<std::size_t>(got);
            data = chunk.data();
        } else {
            data = body.data() + start + sent;
        }
        if (!send_all(fd, data, n))
            return;
        sent += n;
    }
    if (behaviour.stall_after && sent < size - start)
        hold_open(fd);
    // cut_after: returning closes the connection mid-body.
}

} // namespace fleetbox::test

// A small HTTP/1.1 server on 127.0.0.1 for download tests: registered byte buffers (or a
// directory's files) by path, "Range: bytes=N-" answered with 206, If-Range honoured, and
// per-path faults (an HTTP error status, a connection cut or stalled after N body bytes, Range
// ignored). It counts requests and records their Range headers so a test can see what the
// client asked for.
//
// Why our own: the download tests must never contact another address, and the faults they
// need (a stall mid-body, a cut after exactly N bytes) are not what a real server does on
// request. One request per connection (Connection: close); a thread per connection. A test
// helper, not product code: GET/HEAD only, no chunked encoding, no keep-alive.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fleetbox::test {

struct HttpBehaviour {
    int status = 200;                         // anything but 200: that status, a short body
    std::optional<std::uint64_t> cut_after;   // close the connection after N body bytes
    std::optional<std::uint64_t> stall_after; // send N body bytes, then nothing (held open)
    bool ignore_range = false;                // answer every request with the whole file
    bool ignore_if_range = false;             // honour Range even when If-Range differs
    bool validators = true;                   // send ETag and Last-Modified
    std::string location;                     // with a 301/302 status: the redirect target
};

class HttpServer {
public:
    // Listens on 127.0.0.1, an ephemeral port; `root` (optional) is a directory whose regular
    // files are served read-only for paths not registered with serve().
    explicit HttpServer(std::string root = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    // "http://127.0.0.1:<port><path>"
    [[nodiscard]] std::string url(const std::string& path) const;

    // Serves `body` at `path` (replacing what was there; a new ETag for new content).
    void serve(const std::string& path, std::string body, HttpBehaviour behaviour = {});
    void set_behaviour(const std::string& path, HttpBehaviour behaviour);

    // The ETag a registered path is served with.
    [[nodiscard]] std::string etag(const std::string& path) const;
    [[nodiscard]] int requests(const std::string& path) const;
    // The Range header of each request for `path`, in order ("" when it had none).
    [[nodiscard]] std::vector<std::string> ranges(const std::string& path) const;
    [[nodiscard]] std::vector<std::string> if_ranges(const std::string& path) const;

private:
    struct Resource {
        std::string body;
        std::string etag;
        HttpBehaviour behaviour;
    };
    struct Log {
        std::vector<std::string> ranges;
        std::vector<std::string> if_ranges;
    };

    void accept_loop();
    void handle(int fd);
    bool send_all(int fd, const char* data, std::size_t size) const;
    void hold_open(int fd) const;
    void serve_root_file(int fd, const std::string& path, const std::string& range,
                         const std::string& if_range, bool head);

    std::string root_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mu_;
    std::map<std::string, Resource> resources_;
    std::map<std::string, Log> log_;
    int generation_ = 0;
    std::thread acceptor_;
    std::vector<std::thread> workers_;
};

} // namespace fleetbox::test

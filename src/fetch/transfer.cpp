// run_transfer (see transfer.hpp). The callbacks run on the calling thread inside
// curl_easy_perform; they share one Transfer object. Decisions that depend on the response
// (resume accepted, restart from 0, HTTP error) are taken when the first body byte arrives
// (or after perform for an empty body), from the status and headers the header callback
// collected for the final response (a redirect's headers are reset by its successor's status
// line).
#include "fetch/transfer.hpp"

#include "sys/interrupt.hpp"
#include "util/clock.hpp"

#include <cerrno>
#include <chrono>
#include <curl/curl.h>
#include <memory>
#include <mutex>
#include <optional>
#include <strings.h>

namespace fleetbox::fetch {

namespace {

using Clock = std::chrono::steady_clock;

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && s[i] == ' ')
        ++i;
    return s.substr(i);
}

std::optional<std::uint64_t> parse_u64(const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19)
        return std::nullopt;
    return std::stoull(s);
}

struct Transfer {
    Transfer(PartFile& p, HashFollower& h, ProgressReporter& r, const FetchOptions& o)
        : part(p), hash(h), progress(r), options(o) {}

    PartFile& part;
    HashFollower& hash;
    ProgressReporter& progress;
    const FetchOptions& options;
    Clock::time_point t0 = Clock::now();
    bool range_requested = false;
    std::uint64_t range_start = 0;

    // The current response's head.
    long status = 0;
    std::string reason;
    std::string etag;
    std::string last_modified;
    std::string content_range;
    std::optional<std::uint64_t> content_length;

    bool body_started = false;
    static constexpr std::size_t kBlock = std::size_t{1} << 20;
    std::string pending;
    TransferOutcome out;
    curl_off_t last_dlnow = -1;
    double last_byte_at = 0;

    void on_status_line(const std::string& line) {
        status = 0;
        reason.clear();
        etag.clear();
        last_modified.clear();
        content_range.clear();
        content_length.reset();
        // "HTTP/1.1 206 Partial Content" / "HTTP/2 200"
        auto sp = line.find(' ');
        if (sp == std::string::npos)
            return;
        auto code_end = line.find(' ', sp + 1);
        status = std::atol(line.substr(sp + 1, code_end - sp - 1).c_str());
        if (code_end != std::string::npos)
            reason = trim(line.substr(code_end + 1));
    }

    void on_header(const std::string& line) {
        if (line.rfind("HTTP/", 0) == 0) {
            on_status_line(trim(line));
            return;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos)
            return;
        std::string name = line.substr(0, colon);
        std::string value = trim(line.substr(colon + 1));
        if (strcasecmp(name.c_str(), "etag") == 0)
            etag = value;
        else if (strcasecmp(name.c_str(), "last-modified") == 0)
            last_modified = value;
        else if (strcasecmp(name.c_str(), "content-range") == 0)
            content_range = value;
        else if (strcasecmp(name.c_str(), "content-length") == 0)
            content_length = parse_u64(value);
    }

    // "bytes 100-199/1000" -> (100, 1000); "bytes */1000" -> (nullopt, 1000).
    std::pair<std::optional<std::uint64_t>, std::optional<std::uint64_t>> parse_range() const {
        std::string v = content_range;
        if (v.rfind("bytes ", 0) != 0)
            return {};
        v = v.substr(6);
        auto slash = v.find('/');
        if (slash == std::string::npos)
            return {};
        std::optional<std::uint64_t> total = parse_u64(v.substr(slash + 1));
        std::string span = v.substr(0, slash);
        auto dash = span.find('-');
        if (span == "*" || dash == std::string::npos)
            return {std::nullopt, total};
        return {parse_u64(span.substr(0, dash)), total};
    }

    // The validator a later run may send as If-Range: a strong ETag, else Last-Modified.
    std::string validator() const {
        if (!etag.empty() && etag.rfind("W/", 0) != 0)
            return etag;
        return last_modified;
    }

    // Called before the first body byte is stored (or after perform for an empty body).
    // Returns false to stop the transfer (out.stop says why).
    bool start_body() {
        body_started = true;
        out.status = status;
        out.reason = reason;
        if (status == 206 && range_requested) {
            auto [first, total] = parse_range();
            // A server that ignores If-Range but honours Range would splice two versions of
            // the file: the 206 must carry the validator the .part started with.
            const std::string started_with = part.validator();
            const bool has_validator = !etag.empty() || !last_modified.empty();
            const bool same = started_with == etag || started_with == last_modified;
            if (!first || *first != part.size() || (has_validator && !same)) {
                out.stop = Stop::BadRange;
                return false;
            }
            progress.begin(part.size(), total.value_or(0), seconds_since(t0));
            return true;
        }
        if (status == 200) {
            if (part.size() > 0) {
                // The server ignored Range, or If-Range said the file changed: start over.
                if (auto st = part.truncate(); !st) {
                    out.stop = Stop::WriteError;
                    out.write_errno = st.error().err_no != 0 ? st.error().err_no : EIO;
                    return false;
                }
                hash.restart();
                out.restarted = true;
            }
            (void)part.set_validator(validator());
            progress.begin(0, content_length.value_or(0), seconds_since(t0));
            return true;
        }
        if (status == 416 && range_requested) {
            auto [first, total] = parse_range();
            out.range_complete = total && *total == part.size();
            if (!out.range_complete)
                out.stop = Stop::BadRange;
            return false;
        }
        out.stop = Stop::HttpError;
        return false;
    }

    // Stores the received bytes that wait in `pending`. Returns false on a write error.
    bool flush() {
        if (pending.empty())
            return true;
        std::size_t written = 0;
        int err = part.append(pending.data(), pending.size(), written);
        pending.clear();
        hash.advance(part.size());
        progress.update(part.size(), seconds_since(t0));
        if (err != 0) {
            out.stop = Stop::WriteError;
            out.write_errno = err;
            return false;
        }
        return true;
    }

    // libcurl hands the body over in pieces of at most 16 KiB (CURL_MAX_WRITE_SIZE); they
    // are collected and written in blocks (and at each progress callback, so a slow transfer
    // still reaches the disk as it goes), which keeps system calls and hash-thread wakeups
    // per MiB, not per 16 KiB.
    std::size_t on_body(const char* data, std::size_t size) {
        if (!body_started && !start_body())
            return 0;
        if (out.range_complete || out.stop != Stop::None)
            return 0;
        pending.append(data, size);
        if (pending.size() >= kBlock && !flush())
            return 0;
        progress.update(part.size() + pending.size(), seconds_since(t0));
        return size;
    }

    int on_progress(curl_off_t dlnow) {
        double now = seconds_since(t0);
        if (options.cancel.stop_requested() || interrupted()) {
            out.stop = Stop::Cancelled;
            return 1;
        }
        if (dlnow != last_dlnow) {
            last_dlnow = dlnow;
            last_byte_at = now;
        } else if (now - last_byte_at >= static_cast<double>(options.stall_timeout.count())) {
            out.stop = Stop::Stalled;
            return 1;
        }
        if (body_started && !flush())
            return 1;
        return 0;
    }
};

extern "C" std::size_t header_cb(char* data, std::size_t size, std::size_t n, void* self) {
    static_cast<Transfer*>(self)->on_header(std::string(data, size * n));
    return size * n;
}

extern "C" std::size_t write_cb(char* data, std::size_t size, std::size_t n, void* self) {
    return static_cast<Transfer*>(self)->on_body(data, size * n);
}

extern "C" int xferinfo_cb(void* self, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t) {
    return static_cast<Transfer*>(self)->on_progress(dlnow);
}

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

} // namespace

void ensure_curl_initialized() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

TransferOutcome run_transfer(const std::string& url, PartFile& part, HashFollower& hash,
                             ProgressReporter& progress, const FetchOptions& options) {
    ensure_curl_initialized();
    Transfer t(part, hash, progress, options);
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) {
        t.out.curl_code = CURLE_FAILED_INIT;
        t.out.curl_error = "libcurl could not start a transfer";
        return t.out;
    }
    char errbuf[CURL_ERROR_SIZE] = {};
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    std::string range;
    if (part.size() > 0) {
        t.range_requested = true;
        t.range_start = part.size();
        range = std::to_string(part.size()) + "-";
        std::string validator = part.validator();
        if (!validator.empty())
            headers.reset(curl_slist_append(nullptr, ("If-Range: " + validator).c_str()));
    }
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "fleetbox");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::chrono::milliseconds(options.connect_timeout).count()));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    if (!range.empty())
        curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    if (headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

    CURLcode rc = curl_easy_perform(c);
    t.out.curl_code = rc;
    if (rc != CURLE_OK)
        t.out.curl_error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    curl_off_t connect_us = 0;
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);
    t.out.connected = connect_us > 0;
    if (rc == CURLE_OK && !t.body_started)
        (void)t.start_body(); // an empty body: take the same decisions
    (void)t.flush();          // what arrived is kept, whatever stopped the transfer
    if (t.out.status == 0)
        t.out.status = t.status;
    return t.out;
}

} // namespace fleetbox::fetch

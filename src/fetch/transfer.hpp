// One HTTP(S) GET into a PartFile with libcurl's easy interface, and what came of it.
//
// Why apart from fetch_url: fetch_url owns the policy (resume or restart, pin check, commit,
// what is kept on which failure, the messages); this file owns the libcurl specifics
// (options, callbacks, the response headers that steer a resume).
#pragma once

#include "fetch/fetch.hpp"
#include "fetch/hash_follower.hpp"
#include "fetch/part_file.hpp"
#include "fetch/progress.hpp"

#include <cstdint>
#include <string>

namespace fleetbox::fetch {

// Why a transfer stopped before curl finished on its own.
enum class Stop { None, HttpError, WriteError, Stalled, Cancelled, BadRange };

struct TransferOutcome {
    int curl_code = 0;      // CURLcode
    std::string curl_error; // curl's error buffer (or curl_easy_strerror)
    bool connected = false; // a connection was made (a timeout before that is Network)
    long status = 0;        // HTTP status of the final response
    std::string reason;     // its reason phrase ("Not Found"), may be empty
    Stop stop = Stop::None;
    int write_errno = 0;
    bool restarted = false;      // a resume was answered with the whole file
    bool range_complete = false; // 416 and the .part already holds the whole file
};

// Runs one GET of `url`; when part.size() > 0, asks for the rest (Range, If-Range with
// the recorded validator). Bytes are appended to `part`; `hash` follows them (and starts over
// when the server sends the whole file instead).
TransferOutcome run_transfer(const std::string& url, PartFile& part, HashFollower& hash,
                             ProgressReporter& progress, const FetchOptions& options);

// curl_global_init, once per process, thread-safe.
void ensure_curl_initialized();

} // namespace fleetbox::fetch

// Downloading a file over HTTP(S): the stock cloud images (issue 11) and any URL a user names.
//
// Why a layer of its own: a multi-hundred-MiB download over an unreliable network needs more
// than "GET and write": resume of an interrupted transfer, a stall timeout, progress the user
// can read, a hash checked while the bytes arrive, and never a half-written file where an
// image is expected. The image cache decides what to fetch and where; this layer only moves
// bytes from a URL to a file, safely. libcurl does the HTTP (redirects, TLS, proxies from the
// environment); see docs/adr/0022-downloads.md.
#pragma once

#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stop_token>
#include <string>

namespace fleetbox::fetch {

enum class HashAlgo { Sha256, Sha512 };

struct Pin {
    HashAlgo algo = HashAlgo::Sha256;
    std::string hex; // lowercase hex
};

// Tty: one line redrawn (percent, bytes, rate, ETA); Lines: a line per 10% (and a final
// line); Quiet: nothing.
enum class ProgressStyle { Quiet, Tty, Lines };

struct FetchOptions {
    std::optional<Pin> pin; // checked after the last byte; mismatch -> Corrupt
    ProgressStyle progress = ProgressStyle::Quiet;
    std::FILE* progress_out = stderr;
    std::string label; // shown in progress lines, e.g. "image ubuntu-24.04"
    std::chrono::seconds connect_timeout{30};
    std::chrono::seconds stall_timeout{60}; // no byte for this long -> Timeout
    std::stop_token cancel;                 // also honours sys/interrupt.hpp interrupted()
};

struct FetchResult {
    std::uint64_t size = 0;
    std::string sha256; // lowercase hex of the whole file (also when resumed)
    bool resumed = false;
    double seconds = 0;
};

// Downloads `url` (http/https only, also after redirects) to `dest`. Bytes go to
// dest + ".part"; a .part left by an earlier interrupted call is resumed with a Range request
// (restart from 0 when the server ignores Range or the file changed: If-Range with the
// ETag/Last-Modified of the first response, kept in dest + ".part.validator"). On success the
// bytes are checked against the pin, fsynced and renamed to dest. On a transport error, stall,
// cancellation or full disk the .part is kept (resumable, never used as an image); on a hash
// mismatch it is removed. Errors: NotFound (HTTP 404/410), Network (connect/DNS/TLS/other HTTP
// status), Timeout (stall), Corrupt (pin mismatch), NoSpace (ENOSPC/EDQUOT), Interrupted,
// Busy (see below), InvalidArgument (not an http(s) URL), Io.
//
// Concurrency: fetch_url takes an exclusive flock on the .part for the whole transfer (a
// non-blocking one: a second caller, in this or another process, gets Busy at once, never a
// file written by two). Waiting for the other download is the caller's job: the image cache
// holds its per-alias lock around fetch_url, so two `up`s download once.
//
// Messages are one line and name the URL without its credentials and query string.
Result<FetchResult> fetch_url(const std::string& url, const std::string& dest,
                              const FetchOptions& options);

} // namespace fleetbox::fetch

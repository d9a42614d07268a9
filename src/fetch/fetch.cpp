// fetch_url (see fetch.hpp): the policy around one download. run_transfer (transfer.cpp)
// moves the bytes; this file decides what a result means: retry from 0, verify and commit,
// or keep the .part and say so in one line that names the URL (without its secrets) and what
// to do next.
#include "fetch/fetch.hpp"

#include "fetch/hash_follower.hpp"
#include "fetch/hasher.hpp"
#include "fetch/part_file.hpp"
#include "fetch/progress.hpp"
#include "fetch/transfer.hpp"
#include "fetch/url.hpp"
#include "util/clock.hpp"

#include <cerrno>
#include <chrono>
#include <curl/curl.h>
#include <fmt/format.h>

namespace fleetbox::fetch {

namespace {

using Clock = std::chrono::steady_clock;

std::string mib(std::uint64_t bytes) {
    return fmt::format("{:.0f}", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

// What the user is told about a kept .part.
std::string kept(const PartFile& part) {
    return "the " + mib(part.size()) + " MiB already downloaded are kept";
}

std::string http_reason(long status, const std::string& reason) {
    std::string text = "HTTP " + std::to_string(status);
    return reason.empty() ? text : text + " " + reason;
}

Error http_error(const std::string& what, const TransferOutcome& out) {
    std::string why = "the server answered " + http_reason(out.status, out.reason);
    if (out.status == 404 || out.status == 410)
        return Error{ErrorKind::NotFound, 0, what, why,
                     "check the URL: the server does not have this file"};
    if (out.status == 401 || out.status == 403)
        return Error{ErrorKind::Network, 0, what, why,
                     "the server refuses access: check the URL (and its credentials)"};
    if (out.status >= 500)
        return Error{ErrorKind::Network, 0, what, why,
                     "the server failed; try again later (a partial download is resumed)"};
    return Error{ErrorKind::Network, 0, what, why, "check the URL"};
}

Error transport_error(const std::string& what, const TransferOutcome& out,
                      const FetchOptions& options, const PartFile& part) {
    auto code = static_cast<CURLcode>(out.curl_code);
    std::string again = part.size() > 0 ? "run again to resume: " + kept(part) : "then run again";
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return Error{ErrorKind::Network, 0, what, out.curl_error,
                     "check the host name and the network (DNS), " + again};
    case CURLE_COULDNT_CONNECT:
        return Error{ErrorKind::Network, 0, what, out.curl_error,
                     "check that the server is up and reachable, " + again};
    case CURLE_OPERATION_TIMEDOUT:
        if (!out.connected)
            return Error{ErrorKind::Network, 0, what,
                         fmt::format("no connection within {} s", options.connect_timeout.count()),
                         "check that the server is up and reachable, " + again};
        return Error{ErrorKind::Timeout, 0, what, out.curl_error, again};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return Error{ErrorKind::Network, 0, what, "TLS: " + out.curl_error,
                     "check the URL and the system's CA certificates (ca-certificates)"};
    case CURLE_TOO_MANY_REDIRECTS:
        return Error{ErrorKind::Network, 0, what, out.curl_error,
                     "the server redirects in a loop; check the URL"};
    case CURLE_UNSUPPORTED_PROTOCOL:
        return Error{ErrorKind::Network, 0, what,
                     "redirected to a URL that is not http(s): " + out.curl_error,
                     "only http:// and https:// are followed; download the file yourself"};
    default:
        return Error{ErrorKind::Network, 0, what, out.curl_error, again};
    }
}

// Maps a failed transfer to its error; the .part stays (resumable) unless it is empty.
Error failure(const std::string& what, const TransferOutcome& out, const FetchOptions& options,
              PartFile& part) {
    Error e;
    switch (out.stop) {
    case Stop::Cancelled:
        e = Error{ErrorKind::Interrupted, 0, what, "interrupted",
                  part.size() > 0 ? "run again to resume: " + kept(part) : ""};
        break;
    case Stop::Stalled:
        if (part.size() == 0)
            e = Error{
                ErrorKind::Timeout, 0, what,
                fmt::format("the server sent nothing for {} s", options.stall_timeout.count()),
                "the server accepted the connection but does not answer; check the URL "
                "or try again later"};
        else
            e = Error{ErrorKind::Timeout, 0, what,
                      fmt::format("the server sent nothing for {} s (stalled after {} MiB)",
                                  options.stall_timeout.count(), mib(part.size())),
                      "run again to resume: " + kept(part)};
        break;
    case Stop::WriteError:
        if (out.write_errno == ENOSPC || out.write_errno == EDQUOT)
            e = Error{ErrorKind::NoSpace, out.write_errno, what,
                      "disk full while writing " + part.path(),
                      part.size() > 0 ? "free space and run again: " + kept(part)
                                      : "free space and run again"};
        else
            e = errno_error("write " + part.path(), out.write_errno).wrap(what);
        break;
    case Stop::HttpError:
        e = http_error(what, out);
        break;
    default:
        if (out.curl_code == CURLE_OK)
            e = http_error(what, out);
        else
            e = transport_error(what, out, options, part);
    }
    if (part.size() == 0)
        part.discard();
    return e;
}

// A pin that cannot match anything is the caller's mistake: refuse it before downloading
// (after the download it would look like a corrupt file, and the bytes would be thrown away).
Status check_pin(const std::string& what, const std::optional<Pin>& pin) {
    if (!pin)
        return {};
    const std::size_t want = pin->algo == HashAlgo::Sha512 ? 128 : 64;
    const bool hex = pin->hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (pin->hex.size() != want || !hex)
        return fail(ErrorKind::InvalidArgument, what,
                    fmt::format("the pinned {} is not {} hex digits: \"{}\"", algo_name(pin->algo),
                                want, pin->hex),
                    "copy the checksum again from the image's SHA256SUMS/SHA512SUMS");
    return {};
}

} // namespace

Result<FetchResult> fetch_url(const std::string& url, const std::string& dest,
                              const FetchOptions& options) {
    const auto t0 = Clock::now();
    const std::string what = "download " + redact_url(url);
    FBX_CHECK(check_url(url));
    FBX_CHECK(check_pin(what, options.pin));
    PartFile part = FBX_TRY(PartFile::open(dest, what));

    const bool sha512 = options.pin && options.pin->algo == HashAlgo::Sha512;
    Hasher hasher(sha512);
    // A .part without a validator cannot be resumed safely (a changed file would be spliced).
    if (part.size() > 0 && part.validator().empty())
        FBX_CHECK(part.truncate());
    const std::uint64_t resumed_from = part.size();
    HashFollower hash(part.fd(), part.path(), hasher);
    hash.start(part.size());

    ProgressReporter progress(options.progress, options.progress_out,
                              options.label.empty() ? redact_url(url) : options.label);
    TransferOutcome out;
    bool started_over = false;
    for (int attempt = 0; attempt < 2; ++attempt) {
        out = run_transfer(url, part, hash, progress, options);
        if (out.stop != Stop::BadRange)
            break;
        // The server's answer to the Range request made no sense for our .part (416 for a
        // shorter file, a 206 from another offset): start over from byte 0.
        FBX_CHECK(part.truncate());
        hash.restart();
        started_over = true;
        out = {};
    }
    bool ok = out.range_complete || (out.curl_code == CURLE_OK && out.stop == Stop::None &&
                                     (out.status == 200 || out.status == 206));
    if (!ok) {
        progress.abort();
        return tl::unexpected(failure(what, out, options, part));
    }
    double seconds = seconds_since(t0);
    progress.finish(part.size(), seconds);

    if (auto st = hash.finish(); !st)
        return tl::unexpected(st.error().wrap(what));
    hasher.finish();
    if (options.pin) {
        const std::string expected = to_lower_hex(options.pin->hex);
        const std::string& actual = hasher.hex(options.pin->algo);
        if (actual != expected) {
            part.discard();
            return fail(ErrorKind::Corrupt, what,
                        fmt::format("{} of the downloaded file is {}, expected {}",
                                    algo_name(options.pin->algo), actual, expected),
                        "the download was removed; check the pinned hash and the URL (the "
                        "server serves a different file)");
        }
    }
    FBX_CHECK(part.commit());
    FetchResult result;
    result.size = part.size();
    result.sha256 = hasher.hex(HashAlgo::Sha256);
    result.resumed = resumed_from > 0 && !out.restarted && !started_over;
    result.seconds = seconds_since(t0);
    return result;
}

} // namespace fleetbox::fetch

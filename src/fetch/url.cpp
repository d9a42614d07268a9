// URL redaction and scheme checks (see url.hpp). Plain string work: the URL is parsed for
// real by libcurl; this only has to find the parts a message must not show.
#include "fetch/url.hpp"

#include <algorithm>
#include <cctype>

namespace fleetbox::fetch {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

} // namespace

std::string redact_url(std::string_view url) {
    std::string_view rest = url.substr(0, url.find_first_of("?#"));
    std::string out;
    auto sep = rest.find("://");
    if (sep != std::string_view::npos) {
        out = std::string(rest.substr(0, sep + 3));
        rest.remove_prefix(sep + 3);
    }
    auto authority_end = std::min(rest.find('/'), rest.size());
    auto at = rest.substr(0, authority_end).rfind('@');
    if (at != std::string_view::npos)
        rest.remove_prefix(at + 1);
    out += rest;
    return out;
}

Status check_url(std::string_view url) {
    const std::string shown = redact_url(url);
    const std::string hint = "give an http:// or https:// URL, or download the file yourself and "
                             "pass its path";
    auto sep = url.find("://");
    if (sep == std::string_view::npos)
        return fail(ErrorKind::InvalidArgument, "download " + shown, "not a URL", hint);
    std::string scheme = lower(url.substr(0, sep));
    if (scheme != "http" && scheme != "https")
        return fail(ErrorKind::InvalidArgument, "download " + shown,
                    "only http:// and https:// URLs can be downloaded, not " + scheme + "://",
                    hint);
    std::string_view rest = url.substr(sep + 3);
    auto authority = rest.substr(0, std::min(rest.find_first_of("/?#"), rest.size()));
    if (auto at = authority.rfind('@'); at != std::string_view::npos)
        authority.remove_prefix(at + 1);
    if (authority.empty() || authority.front() == ':')
        return fail(ErrorKind::InvalidArgument, "download " + shown, "the URL names no host", hint);
    if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
        return fail(ErrorKind::InvalidArgument, "download " + shown,
                    "the URL contains spaces or control characters",
                    "percent-encode them (a space is %20)");
    return {};
}

} // namespace fleetbox::fetch

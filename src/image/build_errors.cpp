// Failure classification by the messages apt, dpkg, mke2fs and qemu-img print (see
// build_errors.hpp). Patterns are apt's own English strings; mmdebstrap runs apt with
// LC_ALL=C.UTF-8, so they are not translated.
#include "image/build_errors.hpp"

#include "util/strings.hpp"

#include <fmt/format.h>

namespace fleetbox::image {

namespace {

// apt / libcurl-style messages that mean "the mirror could not be reached".
constexpr const char* kNetworkPatterns[] = {
    "Could not connect",
    "Temporary failure resolving",
    "Could not resolve",
    "Connection timed out",
    "Connection refused",
    "Network is unreachable",
    "Unable to connect",
    "Cannot initiate the connection",
    "No route to host",
    "Failed to fetch",
    "Some index files failed to download",
};

std::string log_hint(const StepFailure& f) {
    return f.log_path.empty() ? std::string() : "full log: " + f.log_path;
}

std::string with_log(std::string hint, const StepFailure& f) {
    auto log = log_hint(f);
    if (log.empty())
        return hint;
    return hint.empty() ? log : hint + "; " + log;
}

// The most telling line: the last "E: " line, else the last non-empty line.
std::string summary_line(const std::string& text) {
    std::string found;
    for (const auto& line : split(text, '\n')) {
        auto t = trim(line);
        if (starts_with(t, "E: "))
            found = std::string(t);
    }
    return found.empty() ? last_line(text) : found;
}

Error network_error(const StepFailure& f, const MirrorSet& mirrors, const std::string& line) {
    std::string where = mirrors.uris.empty() ? "the Debian mirror"
                                             : "the Debian mirror " + join(mirrors.uris, ", ");
    if (!mirrors.files.empty())
        where += " (from " + join(mirrors.files, ", ") + ")";
    return Error{ErrorKind::Network, 0, "build image " + f.alias,
                 fmt::format("cannot reach {}: {}", where, line),
                 with_log("check the network and that `apt-get update` works on this host", f)};
}

} // namespace

std::string line_with(const std::string& text, const std::string& needle) {
    for (const auto& line : split(text, '\n'))
        if (line.find(needle) != std::string::npos)
            return std::string(trim(line));
    return {};
}

Error classify_failure(const StepFailure& f, const MirrorSet& mirrors) {
    if (auto line = line_with(f.output, "No space left on device"); !line.empty())
        return Error{ErrorKind::NoSpace, 0,
                     fmt::format("build image {}: {} ran out of disk space", f.alias, f.program),
                     line, with_log("free some disk space and build again", f)};
    if (f.program == "mmdebstrap") {
        if (auto line = line_with(f.output, "Unable to locate package"); !line.empty())
            return Error{ErrorKind::ExternalCommand, 0, "build image " + f.alias,
                         fmt::format("a package of the image is not in the mirror: {}", line),
                         with_log("check that the host's apt sources carry the image's suite", f)};
        for (const char* pattern : kNetworkPatterns)
            if (auto line = line_with(f.output, pattern); !line.empty())
                return network_error(f, mirrors, line);
    }
    std::string why = summary_line(f.output);
    if (why.empty())
        why = f.status.describe();
    return Error{ErrorKind::ExternalCommand, 0,
                 fmt::format("build image {}: {} {}", f.alias, f.program, f.status.describe()), why,
                 with_log("", f)};
}

} // namespace fleetbox::image

// The cloud-init hint (see boot_hint.hpp): a bounded read of the serial log and a substring
// search; the log is never interpreted further.
#include "client/boot_hint.hpp"

#include "sys/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace fleetbox::client {

namespace {

constexpr std::size_t kMaxLogRead = 8u << 20;

// The first kMaxLogRead bytes of `path` ("" when it cannot be read); never follows a symlink.
std::string read_head(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    std::string text;
    if (!fd)
        return text;
    char buf[64 * 1024];
    while (text.size() < kMaxLogRead) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n <= 0)
            break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

} // namespace

std::string cloud_init_hint(std::string_view serial_log_text) {
    if (serial_log_text.empty() || serial_log_text.find(kCloudInitBanner) != std::string::npos)
        return {};
    return "the image may lack cloud-init: the guest booted, but its console shows no "
           "cloud-init output, and a stock image gets its user, SSH key and network only from "
           "cloud-init (NoCloud seed)";
}

Error with_cloud_init_hint(Error error, const std::string& serial_log) {
    if (error.kind != ErrorKind::Timeout)
        return error;
    auto hint = cloud_init_hint(read_head(serial_log));
    if (hint.empty())
        return error;
    error.hint = error.hint.empty() ? hint : error.hint + "; " + hint;
    return error;
}

} // namespace fleetbox::client

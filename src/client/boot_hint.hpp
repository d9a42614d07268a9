// What to tell the user when a stock cloud image's guest never answers: it may lack
// cloud-init.
//
// Why: a stock image gets its user, SSH key, host key and network only from cloud-init
// reading the NoCloud seed (ADR 0024); an image without cloud-init boots to a login prompt
// and is never reachable, which looks exactly like a slow boot until the timeout. The serial
// log tells the two apart: every cloud-init prints its "Cloud-init v. <version> running
// 'init-local'" banner on the console, and a guest that printed nothing at all never got as
// far as userspace (a hung boot, which has its own message). The log is guest data: it is
// only searched for the banner.
#pragma once

#include <fleetbox/error.hpp>
#include <string>
#include <string_view>

namespace fleetbox::client {

// The line every cloud-init stage starts with on the console.
inline constexpr const char* kCloudInitBanner = "Cloud-init v.";

// The hint for a guest whose console (`serial_log_text`) shows it booted but never ran
// cloud-init; empty when the console is empty (it never got that far) or holds the banner.
// It does not name the log: the hints it is appended to already do.
std::string cloud_init_hint(std::string_view serial_log_text);

// `error` with cloud_init_hint() of the serial log file appended to its hint when it is a
// Timeout (the boot wait or the SSH wait ran out); any other error is returned as it is.
// Reads at most the first 8 MiB of the log.
Error with_cloud_init_hint(Error error, const std::string& serial_log);

} // namespace fleetbox::client

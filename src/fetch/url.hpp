// URL checks and the form of a URL that may be shown to the user.
//
// Why: a download URL can carry secrets (https://user:token@host/x, signed query strings
// ?X-Amz-Signature=...). Every message and progress line names the URL, so it must be shown
// without them; and only http(s) may be fetched (libcurl speaks file://, ftp://, scp://, ...,
// none of which a user means by an image URL, and file:// would read host files as root).
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>

namespace fleetbox::fetch {

// The URL without user:password@, query string and fragment ("https://host/a/b.qcow2").
// Never fails; text that is not a URL is returned with the same parts cut.
[[nodiscard]] std::string redact_url(std::string_view url);

// InvalidArgument unless the URL is http:// or https:// with a host (scheme case-insensitive).
Status check_url(std::string_view url);

} // namespace fleetbox::fetch

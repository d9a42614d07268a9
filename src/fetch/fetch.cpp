// fetch_url (see fetch.hpp): placeholder until the libcurl transfer lands.
#include "fetch/fetch.hpp"

namespace fleetbox::fetch {

Result<FetchResult> fetch_url(const std::string& url, const std::string& /*dest*/,
                              const FetchOptions& /*options*/) {
    return fail(ErrorKind::Internal, "download " + url, "not implemented yet");
}

} // namespace fleetbox::fetch

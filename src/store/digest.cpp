// SHA-256 via EVP_Digest (one call: init, update, final). EVP_Digest cannot fail for SHA-256
// on a working OpenSSL; if it ever does, the all-zero digest is returned, which only makes
// derived names less unique, never unsafe (they are hex, so always valid path components).
#include "store/digest.hpp"

#include <openssl/evp.h>

namespace fleetbox {

Sha256 sha256(std::string_view data) {
    Sha256 out{};
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

std::string sha256_hex_prefix(std::string_view data, std::size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    const Sha256 digest = sha256(data);
    std::string out;
    for (std::size_t i = 0; i < bytes && i < digest.size(); ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0x0f];
    }
    return out;
}

} // namespace fleetbox

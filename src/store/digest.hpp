// SHA-256 of a string, for the names the store derives from a VM name (MAC address, socket
// file name). Uses OpenSSL's EVP interface (the low-level SHA256_* calls are deprecated in 3.0).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace fleetbox {

using Sha256 = std::array<unsigned char, 32>;

[[nodiscard]] Sha256 sha256(std::string_view data);
// Lowercase hex of the first `bytes` bytes of the digest.
[[nodiscard]] std::string sha256_hex_prefix(std::string_view data, std::size_t bytes);

} // namespace fleetbox

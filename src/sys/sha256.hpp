// SHA-256 of a string or a file: the names the store derives from a VM name (MAC address,
// socket file name) and the image manifest's checksums.
//
// Why nettle (libnettle8, package nettle-dev) and not OpenSSL: the helper process derives
// socket names too, and it is meant to stay small; mapping libcrypto and initializing its
// providers cost it ~3.4 MiB of resident memory for one hash, nettle a few pages. Nettle's
// Debian build selects SHA-NI code at run time, so file hashing stays fast.
#pragma once

#include "util/error.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace fleetbox {

using Sha256 = std::array<unsigned char, 32>;

[[nodiscard]] Sha256 sha256(std::string_view data);
// Lowercase hex of the whole digest.
[[nodiscard]] std::string sha256_hex(std::string_view data);
// Lowercase hex of the first `bytes` bytes of the digest.
[[nodiscard]] std::string sha256_hex_prefix(std::string_view data, std::size_t bytes);
// Lowercase hex of the digest of a file's bytes (read in 1 MiB blocks).
Result<std::string> sha256_file_hex(const std::string& path);

} // namespace fleetbox

// Incremental hashing of a download: SHA-256 always (the manifest records it), SHA-512 too
// when the pin is a SHA-512 (Debian's cloud images publish SHA512SUMS).
//
// Why incremental: hashing the bytes as they arrive costs no extra pass over a multi-GiB
// file after the download (docs/adr/0022-downloads.md).
#pragma once

#include "fetch/fetch.hpp"

#include <cstddef>
#include <memory>
#include <string>

namespace fleetbox::fetch {

class Hasher {
public:
    explicit Hasher(bool with_sha512);
    ~Hasher();
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    void update(const void* data, std::size_t size);
    void reset();
    // Lowercase hex digests; finish() once after the last update().
    void finish();
    [[nodiscard]] const std::string& hex(HashAlgo algo) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Lowercase hex (pins are compared lowercase; the caller may have typed uppercase).
[[nodiscard]] std::string to_lower_hex(std::string_view hex);
[[nodiscard]] std::string_view algo_name(HashAlgo algo);

} // namespace fleetbox::fetch

// Hasher (see hasher.hpp): nettle's sha256_ctx/sha512_ctx, the library ADR 0010 chose.
#include "fetch/hasher.hpp"

#include <algorithm>
#include <cctype>
#include <nettle/sha2.h>

namespace fleetbox::fetch {

struct Hasher::State {
    bool with_sha512 = false;
    sha256_ctx s256{};
    sha512_ctx s512{};
    std::string hex256;
    std::string hex512;
};

namespace {
std::string to_hex(const std::uint8_t* digest, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0x0f];
    }
    return out;
}
} // namespace

Hasher::Hasher(bool with_sha512) : state_(std::make_unique<State>()) {
    state_->with_sha512 = with_sha512;
    reset();
}

Hasher::~Hasher() = default;

void Hasher::reset() {
    sha256_init(&state_->s256);
    if (state_->with_sha512)
        sha512_init(&state_->s512);
    state_->hex256.clear();
    state_->hex512.clear();
}

void Hasher::update(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    sha256_update(&state_->s256, size, bytes);
    if (state_->with_sha512)
        sha512_update(&state_->s512, size, bytes);
}

void Hasher::finish() {
    std::uint8_t d256[SHA256_DIGEST_SIZE];
    sha256_digest(&state_->s256, sizeof d256, d256);
    state_->hex256 = to_hex(d256, sizeof d256);
    if (state_->with_sha512) {
        std::uint8_t d512[SHA512_DIGEST_SIZE];
        sha512_digest(&state_->s512, sizeof d512, d512);
        state_->hex512 = to_hex(d512, sizeof d512);
    }
}

const std::string& Hasher::hex(HashAlgo algo) const {
    return algo == HashAlgo::Sha512 ? state_->hex512 : state_->hex256;
}

std::string to_lower_hex(std::string_view hex) {
    std::string out(hex);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view algo_name(HashAlgo algo) {
    return algo == HashAlgo::Sha512 ? "sha512" : "sha256";
}

} // namespace fleetbox::fetch

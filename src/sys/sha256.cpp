// SHA-256 through nettle's sha256_ctx (init, update, digest); none of its calls can fail.
#include "sys/sha256.hpp"

#include "sys/fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <unistd.h>
#include <vector>

namespace fleetbox {

namespace {

std::string hex(const Sha256& digest, std::size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes && i < digest.size(); ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0x0f];
    }
    return out;
}

} // namespace

static_assert(SHA256_DIGEST_SIZE == std::tuple_size_v<Sha256>);

Sha256 sha256(std::string_view data) {
    sha256_ctx ctx{};
    sha256_init(&ctx);
    sha256_update(&ctx, data.size(), reinterpret_cast<const std::uint8_t*>(data.data()));
    Sha256 out{};
    sha256_digest(&ctx, out.size(), out.data());
    return out;
}

std::string sha256_hex(std::string_view data) {
    return hex(sha256(data), Sha256{}.size());
}

std::string sha256_hex_prefix(std::string_view data, std::size_t bytes) {
    return hex(sha256(data), bytes);
}

Result<std::string> sha256_file_hex(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return fail_errno("open " + path, errno);
    sha256_ctx ctx{};
    sha256_init(&ctx);
    std::vector<std::uint8_t> buf(std::size_t{1} << 20);
    while (true) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno("read " + path, errno);
        if (n == 0)
            break;
        sha256_update(&ctx, static_cast<std::size_t>(n), buf.data());
    }
    Sha256 out{};
    sha256_digest(&ctx, out.size(), out.data());
    return hex(out, out.size());
}

} // namespace fleetbox

// `image verify`: re-hash a cached entry's files against its manifest (see cache.hpp).
//
// Why under the shared lock: a concurrent `image rm` or rebuild would otherwise swap the files
// mid-read and turn a good image into a false "corrupt". Lookup checks sizes only (cheap, at
// every use); this is the slow, complete check a user asks for when in doubt.
#include "image/cache.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"

#include <fmt/format.h>

namespace fleetbox::image {

Status ImageCache::verify(std::string_view name) const {
    FBX_CHECK(check_image_name(name));
    const std::string op = fmt::format("verify image {}", name);
    auto lock = FBX_TRY(lock_entry(name, nullptr, FileLock::Mode::Shared));
    auto hit = FBX_TRY(lookup(name));
    if (!hit) {
        if (is_directory(entry_dir(name)))
            return fail(
                ErrorKind::Corrupt, op, "its manifest is missing or does not match its files",
                fmt::format("remove it (fleetbox image rm {}) and build or pull it again", name));
        return fail(ErrorKind::NotFound, op, "it is not cached",
                    "`fleetbox image ls` lists the cached images");
    }
    for (const auto& f : hit->manifest.files) {
        auto actual = FBX_TRY(sha256_file_hex(hit->dir + "/" + f.name));
        if (actual != f.sha256)
            return fail(
                ErrorKind::Corrupt, op,
                fmt::format("{} has sha256 {}, the manifest says {}", f.name, actual, f.sha256),
                fmt::format("remove it (fleetbox image rm {}) and build or pull it again", name));
    }
    return {};
}

} // namespace fleetbox::image

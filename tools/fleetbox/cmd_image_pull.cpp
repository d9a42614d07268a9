// `fleetbox image pull SOURCE [--force]` and `fleetbox image verify [NAME...]`.
//
// pull makes a stock cloud image (catalog alias), a URL (optionally #sha256= pinned) or a
// local disk file into a cache entry, as `up --image SOURCE` would on first use, and prints
// the entry's name (what `--image` and `image rm` take from then on) and directory. verify
// re-hashes cached entries against their manifests: the check to run when a disk is
// suspected, since lookups compare sizes only.
#include "client/image_guard.hpp"
#include "cmd_image.hpp"
#include "store/store.hpp"

#include <fmt/core.h>

namespace fleetbox::cli {

Result<int> run_image_pull(const std::string& text, bool force, const Globals& globals) {
    auto source = FBX_TRY(image::parse_image_source(text));
    if (source.kind == image::SourceKind::Built)
        return fail(ErrorKind::InvalidArgument, "image pull " + text,
                    "fleetbox builds this image from Debian packages",
                    "use: fleetbox image build " + text);
    auto store = FBX_TRY(Store::open());
    image::ImageCache cache(store.images_dir());
    image::BuildOptions options;
    options.progress = globals.quiet ? image::ProgressMode::Quiet : image::ProgressMode::Auto;
    options.force = force;
    options.may_replace = [&store, &source] {
        return client::refuse_while_in_use(store, source.name, "replace",
                                           "VM disks are overlays on it");
    };
    auto info = FBX_TRY(cache.ensure(source, options));
    if (!globals.quiet)
        fmt::print("{}\t{}\n", info.alias, info.dir);
    return 0;
}

Result<int> run_image_verify(const std::vector<std::string>& names) {
    auto cache = FBX_TRY(open_image_cache());
    std::vector<std::string> todo = names;
    if (todo.empty())
        for (const auto& info : FBX_TRY(cache.list()))
            todo.push_back(info.alias);
    if (todo.empty()) {
        fmt::print("No images found\n");
        return 0;
    }
    int failures = 0;
    for (const auto& name : todo) {
        auto ok = cache.verify(name);
        if (!ok) {
            report_error(ok.error());
            ++failures;
            continue;
        }
        fmt::print("{}: ok\n", name);
    }
    return failures ? 1 : 0;
}

} // namespace fleetbox::cli

// `fleetbox image build|ls|rm|recipe`: manage the local guest-image cache.
//
// `build` is idempotent: a cached image is reused unless --force. Progress goes to stderr
// (an updating line per phase on a terminal, plain lines otherwise, nothing with -q) so
// stdout stays clean for scripts. `rm` and `build --force` are refused while a VM uses the
// image: VM disks are overlays that name the cached base by path.
#include "cli.hpp"
#include "client/image_guard.hpp"
#include "image/cache.hpp"
#include "image/catalog.hpp"
#include "image/recipe.hpp"
#include "store/store.hpp"
#include "util/provisioning_methods.hpp"
#include "util/strings.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace fleetbox::cli {

namespace {

struct ImageArgs {
    std::string alias = "debian-12";
    bool force = false;
    std::string output = "table";
};

Result<image::ImageCache> open_cache() {
    auto store = FBX_TRY(Store::open());
    return image::ImageCache(store.images_dir());
}

Result<int> run_build(const ImageArgs& args, const Globals& globals) {
    FBX_TRY(image::find_alias(args.alias));
    auto store = FBX_TRY(Store::open());
    image::ImageCache cache(store.images_dir());
    image::BuildOptions options;
    options.may_replace = [&store, &args] {
        return client::refuse_while_in_use(
            store, args.alias, "rebuild",
            "VM disks are overlays on it, and a new base would corrupt them");
    };
    options.progress = globals.quiet ? image::ProgressMode::Quiet : image::ProgressMode::Auto;
    options.force = args.force;
    auto info =
        FBX_TRY(args.force ? cache.build(args.alias, options) : cache.ensure(args.alias, options));
    if (!globals.quiet)
        fmt::print("{}\n", info.dir);
    return 0;
}

nlohmann::json to_json(const image::ImageInfo& info) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : info.manifest.files)
        files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
    return {{"alias", info.alias},
            {"path", info.dir},
            {"built_at", info.manifest.built_at},
            {"build_seconds", info.manifest.build_seconds},
            {"virtual_size", info.manifest.virtual_size},
            {"kernel_version", info.manifest.kernel_version},
            {"provisioning", info.manifest.method_names()},
            {"outdated", info.outdated},
            {"files", files}};
}

unsigned long long total_size(const image::ImageInfo& info) {
    unsigned long long sum = 0;
    for (const auto& f : info.manifest.files)
        sum += f.size;
    return sum;
}

Result<int> run_ls(const ImageArgs& args) {
    if (args.output != "table" && args.output != "json")
        return fail(
            ErrorKind::InvalidArgument, "image ls",
            fmt::format("invalid --output \"{}\": want \"table\" or \"json\"", args.output));
    auto cache = FBX_TRY(open_cache());
    auto images = FBX_TRY(cache.list());
    if (args.output == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& info : images)
            out.push_back(to_json(info));
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    if (images.empty()) {
        fmt::print("No images found (build one with: fleetbox image build)\n");
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"ALIAS", "SIZE", "DISK", "BOOT", "BUILT", "PATH"}};
    bool any_outdated = false;
    for (const auto& info : images) {
        // BOOT: how new VMs of the image are configured (the fast path, or cloud-init only).
        std::string boot = info.manifest.method(kMethodFleetboxSeed) ? "fast" : "cloud-init";
        if (info.outdated)
            boot += " (outdated)";
        any_outdated = any_outdated || info.outdated;
        rows.push_back({info.alias, format_bytes(total_size(info)),
                        format_bytes(info.manifest.virtual_size), boot, info.manifest.built_at,
                        info.dir});
    }
    print_table(rows);
    if (any_outdated)
        fmt::print(
            stderr,
            "note: outdated images were built by an older fleetbox; `fleetbox image build --force "
            "ALIAS` rebuilds one (once no VM uses it)\n");
    return 0;
}

Result<int> run_rm(const std::vector<std::string>& aliases) {
    auto store = FBX_TRY(Store::open());
    image::ImageCache cache(store.images_dir());
    int failures = 0;
    for (const auto& alias : aliases) {
        auto st = cache.remove(alias, [&] {
            return client::refuse_while_in_use(store, alias, "remove",
                                               "VM disks are overlays on it");
        });
        if (!st) {
            report_error(st.error());
            ++failures;
            continue;
        }
        fmt::print("Removed image {}\n", alias);
    }
    return failures ? 1 : 0;
}

Result<int> run_recipe(const ImageArgs& args) {
    const auto* entry = FBX_TRY(image::find_alias(args.alias));
    auto mirrors = FBX_TRY(image::mirrors_for(*entry)); // this entry's suite, not the default's
    for (const auto& arg : image::mmdebstrap_argv(*entry, "TARGET", mirrors.lines))
        fmt::print("{}\n", arg);
    return 0;
}

} // namespace

void install_image(CLI::App& app, Globals& globals, Action& action) {
    auto* image = app.add_subcommand("image", "Build, list and remove guest images");
    image->require_subcommand(1);
    auto args = std::make_shared<ImageArgs>();
    auto rm_aliases = std::make_shared<std::vector<std::string>>();

    auto* build = image->add_subcommand(
        "build", "Build a guest image from Debian packages (reused when cached)");
    build->add_option("alias", args->alias, "Image alias from the catalog")->capture_default_str();
    build->add_flag("--force", args->force, "Rebuild even when the image is cached");
    build->add_flag("-q,--quiet", globals.quiet, "Print nothing but errors");
    build->callback([&action, args, &globals] {
        action = [args, &globals] { return run_build(*args, globals); };
    });

    auto* ls = image->add_subcommand("ls", "List cached images");
    ls->alias("list");
    ls->add_option("-o,--output", args->output, "Output format: table or json")
        ->capture_default_str();
    ls->callback([&action, args] { action = [args] { return run_ls(*args); }; });

    auto* rm = image->add_subcommand("rm", "Remove cached images");
    rm->alias("remove");
    rm->add_option("alias", *rm_aliases, "Image aliases to remove")->required();
    rm->callback([&action, rm_aliases] { action = [rm_aliases] { return run_rm(*rm_aliases); }; });

    auto* recipe =
        image->add_subcommand("recipe", "Print the mmdebstrap command an image is built with");
    recipe->group(""); // hidden: used by bench/image-build.sh
    recipe->add_option("alias", args->alias, "Image alias")->capture_default_str();
    recipe->callback([&action, args] { action = [args] { return run_recipe(*args); }; });
}

} // namespace fleetbox::cli

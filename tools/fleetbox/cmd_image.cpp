// `fleetbox image build|rm|recipe` and the `image` command tree (ls: cmd_image_ls.cpp; pull
// and verify: cmd_image_pull.cpp): manage the local guest-image cache.
//
// `build` is idempotent: a cached image is reused unless --force. Progress goes to stderr
// (an updating line per phase on a terminal, plain lines otherwise, nothing with -q) so
// stdout stays clean for scripts. `rm` and `build --force` are refused while a VM uses the
// image: VM disks are overlays that name the cached base by path.
#include "cmd_image.hpp"

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

Result<int> run_build(const ImageArgs& args, const Globals& globals) {
    if (image::find_cloud_image(args.alias))
        return fail(ErrorKind::InvalidArgument, "image build " + args.alias,
                    "it is a stock cloud image, downloaded rather than built",
                    "use: fleetbox image pull " + args.alias);
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

Result<int> run_rm(const std::vector<std::string>& aliases) {
    auto store = FBX_TRY(Store::open());
    image::ImageCache cache(store.images_dir());
    int failures = 0;
    for (const auto& alias : aliases) {
        auto removed = cache.remove(alias, [&] {
            return client::refuse_while_in_use(store, alias, "remove",
                                               "VM disks are overlays on it");
        });
        if (!removed) {
            report_error(removed.error());
            ++failures;
            continue;
        }
        const std::string kept = fmt::format("the kept download of {} ({})", alias,
                                             format_bytes(removed->download_bytes));
        if (!removed->image)
            fmt::print("Removed {}\n", kept);
        else if (removed->downloads > 0)
            fmt::print("Removed image {} and {}\n", alias, kept);
        else
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

Result<image::ImageCache> open_image_cache() {
    auto store = FBX_TRY(Store::open());
    return image::ImageCache(store.images_dir());
}

void install_image(CLI::App& app, Globals& globals, Action& action) {
    auto* image = app.add_subcommand("image", "Build, pull, list, verify and remove guest images");
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
    ls->callback([&action, args] { action = [args] { return run_image_ls(args->output); }; });

    auto pulled = std::make_shared<std::string>();
    auto* pull = image->add_subcommand(
        "pull", "Download a stock cloud image (alias), a URL[#sha256=HEX] or import a disk file");
    pull->add_option("source", *pulled, "Catalog alias, http(s) URL, or file path like ./x.qcow2")
        ->required();
    pull->add_flag("--force", args->force, "Pull again even when the image is cached");
    pull->add_flag("-q,--quiet", globals.quiet, "Print nothing but errors");
    pull->callback([&action, args, pulled, &globals] {
        action = [args, pulled, &globals] { return run_image_pull(*pulled, args->force, globals); };
    });

    auto verified = std::make_shared<std::vector<std::string>>();
    auto* verify = image->add_subcommand(
        "verify", "Re-hash cached images against their manifests (all when none named)");
    verify->add_option("name", *verified, "Cached image names");
    verify->callback(
        [&action, verified] { action = [verified] { return run_image_verify(*verified); }; });

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

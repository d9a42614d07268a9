// Parsing of the stock cloud image catalog (see cloud_catalog.hpp). nlohmann::json exceptions
// stop here and become ErrorKind::Corrupt.
#include "image/cloud_catalog.hpp"

#include "image/catalog.hpp"
#include "image/cloud_images_data.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/utsname.h>

namespace fleetbox::image {

namespace {

using nlohmann::json;

Status corrupt(const std::string& why) {
    return fail(ErrorKind::Corrupt, "read cloud image catalog", why);
}

Result<CloudImage> parse_image(const std::string& alias, const json& j) {
    CloudImage image;
    image.alias = alias;
    image.description = j.value("description", "");
    image.distro = j.at("distro").get<std::string>();
    image.release = j.at("release").get<std::string>();
    image.codename = j.value("codename", "");
    image.serial = j.value("serial", "");
    for (const auto& [arch, file] : j.at("arch").items()) {
        CloudImageFile f;
        f.arch = arch;
        f.url = file.at("url").get<std::string>();
        if (f.url.rfind("https://", 0) != 0)
            return fail(corrupt(fmt::format("{} ({}): url must be https", alias, arch)).error());
        const bool has256 = file.contains("sha256");
        const bool has512 = file.contains("sha512");
        if (has256 == has512)
            return fail(
                corrupt(fmt::format("{} ({}): needs exactly one of sha256, sha512", alias, arch))
                    .error());
        f.digest = FBX_TRY(make_digest(has256 ? "sha256" : "sha512",
                                       file.at(has256 ? "sha256" : "sha512").get<std::string>()));
        image.files.push_back(std::move(f));
    }
    if (image.files.empty())
        return fail(corrupt(fmt::format("{}: no architectures", alias)).error());
    return image;
}

} // namespace

Result<Digest> make_digest(std::string_view algo, std::string_view hex) {
    const std::size_t want = algo == "sha256" ? 64 : algo == "sha512" ? 128 : 0;
    if (want == 0)
        return fail(ErrorKind::InvalidArgument, fmt::format("digest algorithm \"{}\"", algo),
                    "fleetbox pins images by sha256 or sha512");
    std::string lower;
    for (char c : hex) {
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            return fail(ErrorKind::InvalidArgument, fmt::format("{} digest \"{}\"", algo, hex),
                        "a digest is hexadecimal");
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (lower.size() != want)
        return fail(
            ErrorKind::InvalidArgument, fmt::format("{} digest \"{}\"", algo, hex),
            fmt::format("a {} digest has {} hex digits, this one {}", algo, want, lower.size()));
    return Digest{std::string(algo), lower};
}

Result<const CloudImageFile*> CloudImage::for_arch(std::string_view arch) const {
    std::vector<std::string> have;
    for (const auto& f : files) {
        if (f.arch == arch)
            return &f;
        have.push_back(f.arch);
    }
    std::string list;
    for (const auto& a : have)
        list += (list.empty() ? "" : ", ") + a;
    return fail(ErrorKind::NotFound, fmt::format("image {} for {}", alias, arch),
                fmt::format("the catalog has it for {} only", list));
}

Result<CloudCatalog> parse_cloud_catalog(std::string_view json_text) {
    CloudCatalog c;
    try {
        json doc = json::parse(json_text);
        c.version = doc.value("version", 1);
        c.checked = doc.at("checked").get<std::string>();
        c.checked_how = doc.value("checked_how", "");
        for (const auto& [alias, value] : doc.at("images").items())
            c.images.push_back(FBX_TRY(parse_image(alias, value)));
    } catch (const json::exception& ex) {
        return fail(ErrorKind::Corrupt, "read cloud image catalog", ex.what());
    }
    std::sort(c.images.begin(), c.images.end(),
              [](const CloudImage& a, const CloudImage& b) { return a.alias < b.alias; });
    return c;
}

const CloudCatalog& cloud_catalog() {
    static const CloudCatalog parsed = [] {
        auto c = parse_cloud_catalog(generated::kCloudImagesJson);
        if (c)
            for (const auto& image : c->images)
                if (find_alias(image.alias))
                    c = fail(ErrorKind::Corrupt, "read cloud image catalog",
                             fmt::format("{} is also an image fleetbox builds", image.alias));
        if (!c)
            abort_broken_embedded("cloud image catalog", c.error());
        return *std::move(c);
    }();
    return parsed;
}

const CloudImage* find_cloud_image(std::string_view alias, const CloudCatalog& in) {
    for (const auto& image : in.images)
        if (image.alias == alias)
            return &image;
    return nullptr;
}

std::string host_arch() {
    struct utsname u {};
    if (::uname(&u) != 0)
        return "amd64";
    std::string machine = u.machine;
    if (machine == "x86_64")
        return "amd64";
    if (machine == "aarch64")
        return "arm64";
    return machine;
}

} // namespace fleetbox::image

// Parsing of image sources (see source.hpp).
#include "image/source.hpp"

#include "fetch/url.hpp"
#include "image/cache.hpp"
#include "image/catalog.hpp"
#include "sys/sha256.hpp"
#include "util/strings.hpp"

#include <cctype>
#include <filesystem>
#include <fmt/format.h>

namespace fleetbox::image {

namespace {

std::string lower(std::string_view s) {
    std::string out;
    for (char c : s)
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool looks_like_path(std::string_view text) {
    return text.find('/') != std::string_view::npos || text == "." || text == "..";
}

// The URL's scheme, host and characters are checked by the download layer's own rule
// (fetch::check_url), so `--image` accepts exactly the URLs a download would.
Result<ImageSource> parse_url(std::string_view text) {
    ImageSource s;
    s.kind = SourceKind::Url;
    s.given = std::string(text);
    std::string_view rest = text;
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
        const std::string_view fragment = rest.substr(hash + 1);
        rest = rest.substr(0, hash);
        const auto eq = fragment.find('=');
        const std::string algo = lower(fragment.substr(0, eq));
        if (eq == std::string_view::npos || (algo != "sha256" && algo != "sha512"))
            return fail(ErrorKind::InvalidArgument,
                        fmt::format("image URL fragment \"#{}\"", fragment),
                        "the only fragment fleetbox reads is a pin, #sha256=HEX or #sha512=HEX");
        s.digest = FBX_TRY(make_digest(algo, fragment.substr(eq + 1)));
    }
    FBX_CHECK(fetch::check_url(rest));
    const auto scheme_end = rest.find("://");
    s.url = lower(rest.substr(0, scheme_end)) + std::string(rest.substr(scheme_end));
    std::string_view path = rest.substr(scheme_end + 3);
    path = path.substr(0, path.find('?'));
    const auto slash = path.find('/');
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    s.name = derived_name(path.substr(path.rfind('/') + 1), s.url);
    return s;
}

ImageSource parse_path(std::string_view text, const std::string& cwd) {
    namespace fs = std::filesystem;
    ImageSource s;
    s.kind = SourceKind::File;
    s.given = std::string(text);
    fs::path p(text);
    if (p.is_relative()) {
        std::error_code ec;
        fs::path base = cwd.empty() ? fs::current_path(ec) : fs::path(cwd);
        p = base / p;
    }
    s.path = p.lexically_normal().string();
    if (s.path.size() > 1 && s.path.back() == '/')
        s.path.pop_back();
    s.name = derived_name(fs::path(s.path).filename().string(), s.path);
    return s;
}

} // namespace

std::string_view to_string(SourceKind kind) {
    switch (kind) {
    case SourceKind::Built:
        return "built";
    case SourceKind::Cloud:
        return "cloud";
    case SourceKind::Url:
        return "url";
    case SourceKind::File:
        return "file";
    case SourceKind::Cached:
        return "cached";
    }
    return "unknown";
}

std::string derived_name(std::string_view file_name, std::string_view key) {
    std::string stem(file_name);
    const std::string folded = lower(stem);
    for (std::string_view ext : {".qcow2", ".qcow", ".img", ".raw"})
        if (folded.size() > ext.size() && std::string_view(folded).ends_with(ext)) {
            stem.resize(stem.size() - ext.size());
            break;
        }
    std::string clean;
    for (char c : stem) {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        clean += ok ? c : '-';
    }
    while (!clean.empty() && (clean.front() == '.' || clean.front() == '-'))
        clean.erase(clean.begin());
    if (clean.size() > 48)
        clean.resize(48);
    if (clean.empty())
        clean = "image";
    return clean + "-" + sha256_hex_prefix(key, 4);
}

std::string known_image_names() {
    std::string names = known_aliases();
    for (const auto& image : cloud_catalog().images)
        names += ", " + image.alias;
    return names;
}

Result<ImageSource> parse_image_source(std::string_view text, const std::string& cwd) {
    if (text.empty())
        return fail(ErrorKind::InvalidArgument, "image", "no image named",
                    "name one: " + known_image_names());
    if (text.find("://") != std::string_view::npos)
        return parse_url(text);
    if (looks_like_path(text))
        return parse_path(text, cwd);
    ImageSource s;
    s.given = std::string(text);
    s.name = std::string(text);
    if (find_alias(text)) {
        s.kind = SourceKind::Built;
        return s;
    }
    if (const auto* cloud = find_cloud_image(text)) {
        const auto* file = FBX_TRY(cloud->for_arch(host_arch()));
        s.kind = SourceKind::Cloud;
        s.cloud = cloud;
        s.url = file->url;
        s.digest = file->digest;
        return s;
    }
    if (!check_image_name(text))
        return fail(ErrorKind::InvalidArgument, fmt::format("unknown image \"{}\"", text),
                    "known images are " + known_image_names(),
                    "or give an https:// URL or a file path like ./disk.qcow2");
    s.kind = SourceKind::Cached; // exists or not: the cache says (NotFound, with the list)
    return s;
}

} // namespace fleetbox::image

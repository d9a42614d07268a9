// Parsing and lookup of the image catalog (see catalog.hpp). nlohmann::json exceptions are
// caught here and become ErrorKind::Corrupt, so nothing throws past this file.
#include "image/catalog.hpp"

#include "image/catalog_data.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fleetbox::image {

namespace {

using nlohmann::json;

std::vector<std::string> string_list(const json& j, const char* key) {
    std::vector<std::string> out;
    if (!j.contains(key))
        return out;
    for (const auto& item : j.at(key))
        out.push_back(item.get<std::string>());
    return out;
}

CatalogEntry parse_entry(const std::string& alias, const json& j) {
    CatalogEntry e;
    e.alias = alias;
    e.description = j.value("description", "");
    e.builder = j.at("builder").get<std::string>();
    e.suite = j.at("suite").get<std::string>();
    e.variant = j.value("variant", "minbase");
    e.components = string_list(j, "components");
    if (e.components.empty())
        e.components = {"main"};
    e.packages = string_list(j, "packages");
    e.merged_usr_symlinks = j.value("merged_usr_symlinks", false);
    e.initrd_modules = string_list(j, "initrd_modules");
    e.initrd_exclude = string_list(j, "initrd_exclude");
    e.masked_units = string_list(j, "masked_units");
    e.root_device = j.value("root_device", "/dev/vda");
    e.kernel_cmdline = j.value("kernel_cmdline", "console=ttyS0 root=" + e.root_device + " rw");
    e.fs_headroom_mib = j.value("fs_headroom_mib", 256ULL);
    return e;
}

Status validate(const Catalog& c) {
    for (const auto& e : c.entries) {
        if (e.builder != "mmdebstrap")
            return fail(ErrorKind::Corrupt, "read image catalog",
                        fmt::format("image \"{}\" has unknown builder \"{}\"", e.alias, e.builder));
        if (e.suite.empty() || e.packages.empty())
            return fail(ErrorKind::Corrupt, "read image catalog",
                        fmt::format("image \"{}\" needs a suite and packages", e.alias));
        for (const auto& path : e.initrd_exclude)
            if (path.empty() || path.front() == '/' || path.find("..") != std::string::npos ||
                path.find_first_of(" \t\n'\"$`\\*?") != std::string::npos)
                return fail(ErrorKind::Corrupt, "read image catalog",
                            fmt::format("image \"{}\": initrd_exclude path \"{}\" must be "
                                        "relative, plain and inside the initramfs",
                                        e.alias, path));
    }
    if (!c.default_alias.empty() && !find_alias(c.default_alias, c))
        return fail(ErrorKind::Corrupt, "read image catalog",
                    fmt::format("default image \"{}\" is not in the catalog", c.default_alias));
    return {};
}

} // namespace

Result<Catalog> parse_catalog(std::string_view json_text) {
    Catalog c;
    try {
        json doc = json::parse(json_text);
        c.version = doc.value("version", 1);
        c.default_alias = doc.value("default", "");
        for (const auto& [alias, value] : doc.at("images").items())
            c.entries.push_back(parse_entry(alias, value));
    } catch (const json::exception& ex) {
        return fail(ErrorKind::Corrupt, "read image catalog", ex.what());
    }
    std::sort(c.entries.begin(), c.entries.end(),
              [](const CatalogEntry& a, const CatalogEntry& b) { return a.alias < b.alias; });
    FBX_CHECK(validate(c));
    return c;
}

void abort_broken_embedded(std::string_view what, const Error& error) {
    std::fprintf(stderr, "fleetbox: embedded %.*s is broken: %s\n", static_cast<int>(what.size()),
                 what.data(), error.message().c_str());
    std::abort();
}

const Catalog& catalog() {
    static const Catalog parsed = [] {
        auto c = parse_catalog(generated::kCatalogJson);
        if (!c)
            abort_broken_embedded("image catalog", c.error());
        return *std::move(c);
    }();
    return parsed;
}

Result<const CatalogEntry*> find_alias(std::string_view alias, const Catalog& in) {
    for (const auto& e : in.entries)
        if (e.alias == alias)
            return &e;
    return fail(ErrorKind::NotFound, fmt::format("unknown image \"{}\"", alias),
                fmt::format("known images are {}", known_aliases(in)),
                "pick one of the known images, e.g. fleetbox image build " +
                    (in.default_alias.empty() ? std::string("debian-12") : in.default_alias));
}

std::string known_aliases(const Catalog& in) {
    std::vector<std::string> names;
    for (const auto& e : in.entries)
        names.push_back(e.alias);
    return join(names, ", ");
}

} // namespace fleetbox::image

// manifest.json encoding (nlohmann::json; its exceptions stop here) and the checks of an
// entry's files against it.
#include "image/manifest.hpp"

#include "image/guest_files.hpp"
#include "sys/fs.hpp"
#include "util/provisioning_methods.hpp"

#include <cerrno>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fleetbox::image {

using nlohmann::json;

const ManifestFile* Manifest::file(const std::string& name) const {
    for (const auto& f : files)
        if (f.name == name)
            return &f;
    return nullptr;
}

const ProvisioningMethod* Manifest::method(const std::string& name) const {
    for (const auto& p : provisioning)
        if (p.method == name)
            return &p;
    return nullptr;
}

std::vector<std::string> Manifest::method_names() const {
    std::vector<std::string> names;
    for (const auto& p : provisioning)
        names.push_back(p.method);
    return names;
}

std::vector<ProvisioningMethod> legacy_provisioning() {
    return {{kMethodNoCloud, nocloud_cmdline()}};
}

std::vector<std::string> required_files(const BootConfig& boot) {
    if (boot.firmware())
        return {kDiskName};
    return {kDiskName, kKernelName, kInitrdName};
}

namespace {

json origin_to_json(const ImageOrigin& o) {
    return {{"kind", o.kind},         {"given", o.given},
            {"url", o.url},           {"path", o.path},
            {"digest", o.digest},     {"sha256", o.sha256},
            {"size", o.size},         {"format", o.format},
            {"mtime_ns", o.mtime_ns}, {"catalog_checked", o.catalog_checked},
            {"os_name", o.os_name},   {"has_cloud_init", o.has_cloud_init}};
}

ImageOrigin origin_from_json(const json& j) {
    ImageOrigin o;
    o.kind = j.at("kind").get<std::string>();
    o.given = j.value("given", "");
    o.url = j.value("url", "");
    o.path = j.value("path", "");
    o.digest = j.value("digest", "");
    o.sha256 = j.value("sha256", "");
    o.size = j.value("size", std::uint64_t{0});
    o.format = j.value("format", "");
    o.mtime_ns = j.value("mtime_ns", std::int64_t{0});
    o.catalog_checked = j.value("catalog_checked", "");
    o.os_name = j.value("os_name", "");
    o.has_cloud_init = j.value("has_cloud_init", -1);
    return o;
}

Status check_boot(const BootConfig& b) {
    if ((b.mode != "kernel" && b.mode != "firmware") ||
        (b.machine != "microvm" && b.machine != "q35") || (b.firmware() && b.machine != "q35"))
        return fail(ErrorKind::Corrupt, "read image manifest",
                    fmt::format("unknown boot mode {} on {}", b.mode, b.machine));
    return {};
}

} // namespace

std::string manifest_to_json(const Manifest& m) {
    json files = json::array();
    for (const auto& f : m.files)
        files.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
    json phases = json::array();
    for (const auto& p : m.phases)
        phases.push_back({{"name", p.name}, {"seconds", p.seconds}});
    json provisioning = json::array();
    for (const auto& p : m.provisioning)
        provisioning.push_back({{"method", p.method}, {"kernel_cmdline", p.kernel_cmdline}});
    json doc = {
        {"version", m.version},
        {"alias", m.alias},
        {"description", m.description},
        {"built_at", m.built_at},
        {"build_seconds", m.build_seconds},
        {"virtual_size", m.virtual_size},
        {"kernel_version", m.kernel_version},
        {"kernel_cmdline", m.kernel_cmdline},
        {"root_device", m.root_device},
        {"suite", m.suite},
        {"packages", m.packages},
        {"mirrors", m.mirrors},
        {"recipe", m.recipe},
        {"boot_markers", m.boot_markers},
        {"provisioning", provisioning},
        {"files", files},
        {"phases", phases},
        {"boot", {{"mode", m.boot.mode}, {"machine", m.boot.machine}, {"root", m.boot.root}}},
    };
    if (m.pulled())
        doc["origin"] = origin_to_json(m.origin);
    return doc.dump(2) + "\n";
}

Result<Manifest> manifest_from_json(const std::string& text) {
    Manifest m;
    try {
        json doc = json::parse(text);
        m.version = doc.at("version").get<int>();
        if (m.version != kManifestVersion)
            return fail(ErrorKind::Corrupt, "read image manifest",
                        fmt::format("unsupported manifest version {}", m.version),
                        "rebuild the image: fleetbox image build --force");
        m.alias = doc.at("alias").get<std::string>();
        m.description = doc.value("description", "");
        m.built_at = doc.at("built_at").get<std::string>();
        m.build_seconds = doc.value("build_seconds", 0.0);
        m.virtual_size = doc.at("virtual_size").get<std::uint64_t>();
        m.kernel_version = doc.value("kernel_version", "");
        m.kernel_cmdline = doc.value("kernel_cmdline", "");
        m.root_device = doc.value("root_device", "/dev/vda");
        m.suite = doc.value("suite", "");
        m.packages = doc.value("packages", std::vector<std::string>{});
        m.mirrors = doc.value("mirrors", std::vector<std::string>{});
        m.recipe = doc.value("recipe", "");
        m.boot_markers = doc.value("boot_markers", std::vector<std::string>{});
        for (const auto& f : doc.at("files"))
            m.files.push_back({f.at("name").get<std::string>(), f.at("size").get<std::uint64_t>(),
                               f.at("sha256").get<std::string>()});
        if (doc.contains("provisioning"))
            for (const auto& p : doc.at("provisioning"))
                m.provisioning.push_back(
                    {p.at("method").get<std::string>(), p.value("kernel_cmdline", "")});
        if (m.provisioning.empty())
            m.provisioning = legacy_provisioning();
        if (doc.contains("phases"))
            for (const auto& p : doc.at("phases"))
                m.phases.push_back(
                    {p.at("name").get<std::string>(), p.at("seconds").get<double>()});
        if (doc.contains("boot")) {
            const auto& b = doc.at("boot");
            m.boot.mode = b.value("mode", m.boot.mode);
            m.boot.machine = b.value("machine", m.boot.machine);
            m.boot.root = b.value("root", m.boot.root);
        }
        if (doc.contains("origin"))
            m.origin = origin_from_json(doc.at("origin"));
    } catch (const json::exception& ex) {
        return fail(ErrorKind::Corrupt, "read image manifest", ex.what());
    }
    FBX_CHECK(check_boot(m.boot));
    for (const auto& required : required_files(m.boot))
        if (!m.file(required))
            return fail(ErrorKind::Corrupt, "read image manifest",
                        fmt::format("no entry for {}", required));
    return m;
}

Result<Manifest> load_manifest(const std::string& dir) {
    auto text = FBX_TRY(read_file(dir + "/" + kManifestName));
    auto m = FBX_TRY(manifest_from_json(text));
    for (const auto& f : m.files) {
        auto size = file_size(dir + "/" + f.name);
        if (!size)
            return fail(ErrorKind::Corrupt, "check image " + dir,
                        fmt::format("{} is missing", f.name));
        if (*size != f.size)
            return fail(ErrorKind::Corrupt, "check image " + dir,
                        fmt::format("{} is {} bytes, the manifest says {}", f.name, *size, f.size));
    }
    return m;
}

std::string now_rfc3339() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace fleetbox::image

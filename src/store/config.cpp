// config.json encoding with nlohmann::json. Reading checks every type before converting, so
// no nlohmann exception is expected; a try/catch at the edge still turns any that escapes
// into a Corrupt error naming the file (library code never throws across its API).
#include "store/config.hpp"

#include "store/mac.hpp"
#include "store/names.hpp"
#include "store/timestamp.hpp"
#include "sys/fs.hpp"

#include <arpa/inet.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

namespace fleetbox {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// Reads typed fields from a JSON object; remembers the first problem in `error`.
class FieldReader {
public:
    explicit FieldReader(const json& object) : object_(object) {}

    std::string text(const char* key, bool required) {
        const json* v = find(key, required);
        if (v == nullptr)
            return {};
        if (!v->is_string()) {
            note(std::string("field \"") + key + "\" must be a string");
            return {};
        }
        return v->get<std::string>();
    }

    std::int64_t integer(const char* key, std::int64_t max) {
        const json* v = find(key, true);
        if (v == nullptr)
            return 0;
        if (v->is_number_unsigned()) {
            const auto u = v->get<std::uint64_t>();
            if (u >= 1 && u <= static_cast<std::uint64_t>(max))
                return static_cast<std::int64_t>(u);
        }
        note(std::string("field \"") + key + "\" must be an integer from 1 to " +
             std::to_string(max));
        return 0;
    }

    const json* find(const char* key, bool required) {
        auto it = object_.find(key);
        if (it == object_.end() || it->is_null()) {
            if (required)
                note(std::string("field \"") + key + "\" is missing");
            return nullptr;
        }
        return &*it;
    }

    void note(std::string problem) {
        if (!error)
            error = std::move(problem);
    }

    std::optional<std::string> error;

private:
    const json& object_;
};

std::vector<StoredFixture> read_fixtures(FieldReader& fields) {
    std::vector<StoredFixture> out;
    const json* list = fields.find("fixtures", false);
    if (list == nullptr)
        return out;
    if (!list->is_array()) {
        fields.note("field \"fixtures\" must be a list");
        return out;
    }
    for (const json& item : *list) {
        if (!item.is_object()) {
            fields.note("each entry of \"fixtures\" must be an object");
            return out;
        }
        FieldReader f(item);
        StoredFixture fx{f.text("host_path", true), f.text("guest_path", true),
                         f.text("label", false)};
        if (f.error) {
            fields.note("fixtures: " + *f.error);
            return out;
        }
        out.push_back(std::move(fx));
    }
    return out;
}

struct VersionCheck {
    int version = 0;     // valid when problem is empty
    std::string problem; // why the version is not usable
    bool newer = false;  // the file is from a newer fleetbox
};

// Absent means 1 (files written by the original tool had no version field).
VersionCheck read_version(const json& doc) {
    auto it = doc.find("version");
    if (it == doc.end())
        return {1, {}, false};
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() < 1)
        return {0, "field \"version\" must be a positive integer", false};
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kConfigVersion)) {
        return {0,
                "written by a newer fleetbox (schema version " + std::to_string(v) +
                    "; this fleetbox reads version " + std::to_string(kConfigVersion) + ")",
                true};
    }
    return {static_cast<int>(v), {}, false};
}

VmConfig read_fields(FieldReader& f) {
    VmConfig c;
    c.name = f.text("name", true);
    c.mac = f.text("mac", true);
    c.cpus = static_cast<int>(f.integer("cpus", 1024));
    c.memory_mb = f.integer("memory_mb", std::numeric_limits<std::int32_t>::max());
    c.disk_mb = f.integer("disk_mb", std::numeric_limits<std::int32_t>::max());
    c.image = f.text("image", true);
    c.created_at = f.text("created_at", true);
    c.ip = f.text("ip", false);
    c.provisioning = f.text("provisioning", false);
    if (c.provisioning.empty())
        c.provisioning = kMethodNoCloud; // written before the fast path
    c.fixtures = read_fixtures(f);
    c.cluster = f.text("cluster", false);
    if (c.cluster.empty())
        c.cluster = cluster_name(c.name); // written before clusters were recorded
    return c;
}

tl::unexpected<Error> corrupt(const std::string& path, std::string why, bool newer = false) {
    const std::string name = base_name(parent_dir(path));
    std::string hint = newer ? "upgrade fleetbox, or remove the VM with a newer one"
                             : "remove the VM with `fleetbox rm " + name + "` or fix the file";
    return fail(ErrorKind::Corrupt, "read config " + path, std::move(why), std::move(hint));
}

// nlohmann's what() starts with "[json.exception.parse_error.101] "; keep what follows.
std::string describe_parse_error(const json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos)
        what.erase(0, pos + 2);
    return "invalid JSON: " + what;
}

Result<VmConfig> parse_document(std::string_view text, const std::string& path) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        return corrupt(path, describe_parse_error(e));
    }
    if (!doc.is_object())
        return corrupt(path, "expected a JSON object, found " + std::string(doc.type_name()));
    VersionCheck version = read_version(doc);
    if (!version.problem.empty())
        return corrupt(path, version.problem, version.newer);
    FieldReader fields(doc);
    VmConfig config = read_fields(fields);
    config.version = version.version;
    if (fields.error)
        return corrupt(path, *fields.error);
    if (auto ok = check_config(config); !ok)
        return corrupt(path, ok.error().context);
    return config;
}

} // namespace

VmConfig new_vm_config(std::string name, int cpus, std::int64_t memory_mb, std::int64_t disk_mb,
                       std::string image) {
    VmConfig c;
    c.mac = mac_for_name(name);
    c.name = std::move(name);
    c.cpus = cpus;
    c.memory_mb = memory_mb;
    c.disk_mb = disk_mb;
    c.image = std::move(image);
    c.created_at = now_rfc3339();
    c.cluster = cluster_name(c.name);
    return c;
}

Status check_config(const VmConfig& c) {
    auto bad = [](std::string why) {
        return fail(ErrorKind::InvalidArgument, "check VM config", std::move(why));
    };
    if (auto ok = validate_vm_name(c.name); !ok)
        return bad(ok.error().message());
    if (!is_valid_mac(c.mac))
        return bad("field \"mac\" is not a lowercase MAC address like 52:54:00:12:34:56");
    if (c.cpus < 1 || c.cpus > 1024)
        return bad("field \"cpus\" must be an integer from 1 to 1024");
    if (c.memory_mb < 1)
        return bad("field \"memory_mb\" must be positive");
    if (c.disk_mb < 1)
        return bad("field \"disk_mb\" must be positive");
    if (c.image.empty())
        return bad("field \"image\" is empty");
    if (!parse_rfc3339(c.created_at))
        return bad("field \"created_at\" is not an RFC 3339 time");
    in_addr addr{};
    if (!c.ip.empty() && ::inet_pton(AF_INET, c.ip.c_str(), &addr) != 1)
        return bad("field \"ip\" is not an IPv4 address");
    if (c.provisioning != kMethodNoCloud && c.provisioning != kMethodFleetboxSeed)
        return bad("field \"provisioning\" must be \"" + std::string(kMethodFleetboxSeed) +
                   "\" or \"" + kMethodNoCloud + "\"");
    if (auto ok = validate_vm_name(c.cluster); !c.cluster.empty() && !ok)
        return bad("field \"cluster\" is not a valid cluster name");
    for (const StoredFixture& f : c.fixtures) {
        if (f.host_path.empty() || f.guest_path.empty())
            return bad("a fixture needs both host_path and guest_path");
    }
    return {};
}

std::string serialize_config(const VmConfig& c) {
    ordered_json doc;
    doc["version"] = kConfigVersion;
    doc["name"] = c.name;
    doc["mac"] = c.mac;
    doc["cpus"] = c.cpus;
    doc["memory_mb"] = c.memory_mb;
    doc["disk_mb"] = c.disk_mb;
    doc["image"] = c.image;
    doc["created_at"] = c.created_at;
    if (!c.ip.empty())
        doc["ip"] = c.ip;
    doc["provisioning"] = c.provisioning;
    if (!c.fixtures.empty()) {
        ordered_json list = ordered_json::array();
        for (const StoredFixture& f : c.fixtures)
            list.push_back(
                {{"host_path", f.host_path}, {"guest_path", f.guest_path}, {"label", f.label}});
        doc["fixtures"] = std::move(list);
    }
    if (!c.cluster.empty())
        doc["cluster"] = c.cluster;
    // error_handler::replace: a path with invalid UTF-8 is written with U+FFFD, not thrown.
    return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

Result<VmConfig> parse_config(std::string_view text, const std::string& path) {
    try {
        return parse_document(text, path);
    } catch (const std::exception& e) { // the layer edge: nothing escapes as an exception
        return corrupt(path, std::string("unreadable: ") + e.what());
    }
}

Result<VmConfig> read_config(const std::string& path) {
    auto text = read_file(path);
    if (!text)
        return fail(std::move(text).error());
    return parse_config(*text, path);
}

} // namespace fleetbox

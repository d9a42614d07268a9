// Record files (see network_record.hpp for the format and why write-ahead). JSON through
// nlohmann::json; its exceptions stop here and become Corrupt errors naming the file.
#include "net/network_record.hpp"

#include "net/ipv4.hpp"
#include "net/names.hpp"
#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fleetbox {

namespace {

using nlohmann::json;

constexpr std::string_view kSuffix = ".json";

json identity_json(const ProcessIdentity& id) {
    return json{{"pid", id.pid}, {"start_time", id.start_time}};
}

ProcessIdentity identity_from(const json& j) {
    ProcessIdentity id;
    id.pid = j.at("pid").get<pid_t>();
    id.start_time = j.at("start_time").get<unsigned long long>();
    if (id.pid < 0)
        throw std::invalid_argument("negative pid");
    return id;
}

Status check_names(const NetworkRecord& r, const std::string& origin) {
    const std::string op = "read network record " + origin;
    if (!is_bridge_name(r.bridge))
        return fail(ErrorKind::Corrupt, op, "'" + r.bridge + "' is not a fleetbox bridge name");
    if (!parse_subnet(r.subnet))
        return fail(ErrorKind::Corrupt, op, "'" + r.subnet + "' is not a subnet");
    for (const auto& tap : r.taps) {
        if (!is_tap_name(tap.name))
            return fail(ErrorKind::Corrupt, op, "'" + tap.name + "' is not a fleetbox tap name");
    }
    if (r.uplink.find('/') != std::string::npos || r.uplink.size() > 15)
        return fail(ErrorKind::Corrupt, op, "'" + r.uplink + "' is not an interface name");
    return {};
}

} // namespace

std::string encode_record(const NetworkRecord& r) {
    json taps = json::array();
    for (const auto& t : r.taps) {
        taps.push_back(
            {{"name", t.name}, {"qemu_pid", t.qemu.pid}, {"qemu_start_time", t.qemu.start_time}});
    }
    json j{{"bridge", r.bridge},   {"subnet", r.subnet},
           {"cluster", r.cluster}, {"owner", identity_json(r.owner)},
           {"taps", taps},         {"uplink", r.uplink}};
    if (r.uplink_forwarding_orig)
        j["uplink_forwarding_orig"] = *r.uplink_forwarding_orig;
    return j.dump(2) + "\n";
}

Result<NetworkRecord> decode_record(std::string_view text, const std::string& origin) {
    NetworkRecord r;
    try {
        const json j = json::parse(text);
        r.bridge = j.at("bridge").get<std::string>();
        r.subnet = j.at("subnet").get<std::string>();
        r.cluster = j.value("cluster", "");
        r.owner = identity_from(j.at("owner"));
        for (const json& t : j.at("taps")) {
            TapRecord tap;
            tap.name = t.at("name").get<std::string>();
            tap.qemu = identity_from(json{{"pid", t.value("qemu_pid", 0)},
                                          {"start_time", t.value("qemu_start_time", 0ULL)}});
            r.taps.push_back(std::move(tap));
        }
        r.uplink = j.value("uplink", "");
        if (j.contains("uplink_forwarding_orig"))
            r.uplink_forwarding_orig = j.at("uplink_forwarding_orig").get<int>();
    } catch (const std::exception& e) {
        return fail(ErrorKind::Corrupt, "read network record " + origin,
                    std::string("not a fleetbox network record: ") + e.what(),
                    "move the file aside; fleetbox prune only trusts records it can read");
    }
    FBX_CHECK(check_names(r, origin));
    return r;
}

std::string record_path(const std::string& dir, const std::string& bridge) {
    return dir + "/" + bridge + std::string(kSuffix);
}

Result<FileLock> lock_records(const std::string& dir) {
    return FileLock::acquire(dir + "/.lock");
}

Status write_record(const std::string& dir, const NetworkRecord& record) {
    if (!is_bridge_name(record.bridge))
        return fail(ErrorKind::InvalidArgument, "write network record",
                    "'" + record.bridge + "' is not a fleetbox bridge name");
    return write_file_atomic(record_path(dir, record.bridge), encode_record(record), 0600);
}

Result<NetworkRecord> read_record(const std::string& path) {
    const std::string text = FBX_TRY(read_file(path));
    NetworkRecord record = FBX_TRY(decode_record(text, path));
    if (base_name(path) != record.bridge + std::string(kSuffix))
        return fail(ErrorKind::Corrupt, "read network record " + path,
                    "it describes another bridge (" + record.bridge + ")");
    return record;
}

Status remove_record(const std::string& dir, const std::string& bridge) {
    const std::string path = record_path(dir, bridge);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return fail_errno("remove network record " + path, errno);
    return fsync_dir(dir);
}

Result<std::vector<std::string>> list_records(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& name : FBX_TRY(list_dir(dir))) {
        if (name.size() > kSuffix.size() &&
            name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0 &&
            is_bridge_name(std::string_view(name).substr(0, name.size() - kSuffix.size())))
            out.push_back(dir + "/" + name);
    }
    return out;
}

} // namespace fleetbox

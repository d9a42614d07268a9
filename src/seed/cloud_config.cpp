// Rendering of the NoCloud documents with nlohmann::ordered_json (insertion order keeps the
// output readable when someone inspects a seed). Every render validates the spec first, so a
// bad MAC or address is reported here, at create, rather than as a guest that never answers.
// nlohmann::json throws on invalid UTF-8 while dumping; that is caught here and returned as
// an InvalidArgument error (the layer edge).
#include "seed/cloud_config.hpp"

#include "util/strings.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <nlohmann/json.hpp>

namespace fleetbox::seed {

namespace {

using Json = nlohmann::ordered_json;

tl::unexpected<Error> bad(std::string field, std::string why) {
    return fail(ErrorKind::InvalidArgument, "make the seed", field + ": " + why);
}

bool is_ipv4(const std::string& text) {
    in_addr addr{};
    return ::inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool valid_name(const std::string& name) {
    return is_host_name(name, 63);
}

bool valid_mac(const std::string& mac) {
    if (mac.size() != 17)
        return false;
    for (size_t i = 0; i < mac.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(mac[i]);
        if (i % 3 == 2 ? c != ':' : !std::isxdigit(c))
            return false;
    }
    return true;
}

bool valid_cidr(const std::string& cidr) {
    auto slash = cidr.find('/');
    if (slash == std::string::npos || !is_ipv4(cidr.substr(0, slash)))
        return false;
    std::string prefix = cidr.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 2)
        return false;
    for (unsigned char c : prefix) {
        if (!std::isdigit(c))
            return false;
    }
    int bits = std::stoi(prefix);
    return bits >= 1 && bits <= 32;
}

Status validate_mounts(const std::vector<SeedMount>& mounts) {
    for (const auto& m : mounts) {
        if (m.label.empty() || m.label.size() > 16 || !valid_name(m.label))
            return bad("fixture label \"" + m.label + "\"",
                       "must be 1-16 characters of [A-Za-z0-9._-]");
        if (!starts_with(m.guest_path, "/") ||
            m.guest_path.find_first_of(" \t\r\n") != std::string::npos)
            return bad("fixture guest path \"" + m.guest_path + "\"",
                       "must be absolute, without whitespace");
    }
    return {};
}

Status validate_keys(const SeedSpec& spec) {
    if (auto fp = ssh::fingerprint_sha256(spec.user_public_key); !fp)
        return bad("user public key", fp.error().message());
    if (spec.user_public_key.find('\n') != std::string::npos)
        return bad("user public key", "must be a single line");
    if (!starts_with(spec.host_key.public_line, "ssh-ed25519 "))
        return bad("host key", "must be an ed25519 key");
    if (auto ok = ssh::verify_key_pair(spec.host_key); !ok)
        return bad("host key", ok.error().message());
    return {};
}

std::string lowercase(std::string text) {
    for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

Result<std::string> dump(const Json& doc) {
    try {
        return doc.dump(2) + "\n";
    } catch (const nlohmann::json::exception& e) {
        return fail(ErrorKind::InvalidArgument, "make the seed",
                    std::string("invalid text: ") + e.what());
    }
}

} // namespace

Status validate(const SeedSpec& spec) {
    if (!valid_name(spec.name))
        return bad("name \"" + spec.name + "\"",
                   "must be 1-63 characters of [A-Za-z0-9._-], not starting with - or .");
    if (!valid_mac(spec.mac))
        return bad("MAC \"" + spec.mac + "\"", "expected six hex octets like 52:54:00:12:34:56");
    if (!valid_cidr(spec.ip_cidr))
        return bad("address \"" + spec.ip_cidr + "\"",
                   "expected IPv4/prefix like 192.168.50.10/24");
    if (!is_ipv4(spec.gateway))
        return bad("gateway \"" + spec.gateway + "\"", "expected an IPv4 address");
    for (const auto& ns : spec.nameservers) {
        if (!is_ip_address(ns))
            return bad("nameserver \"" + ns + "\"", "expected an IP address");
    }
    FBX_CHECK(validate_mounts(spec.mounts));
    FBX_CHECK(validate_host_entries(spec.hosts).map_error([](Error e) {
        return std::move(e).wrap("make the seed");
    }));
    return validate_keys(spec);
}

Result<std::string> render_meta_data(const SeedSpec& spec) {
    FBX_CHECK(validate(spec));
    return dump(Json{{"instance-id", spec.name}, {"local-hostname", spec.name}});
}

Result<std::string> render_user_data(const SeedSpec& spec) {
    FBX_CHECK(validate(spec));
    Json user = {{"name", kGuestUser},
                 {"sudo", "ALL=(ALL) NOPASSWD:ALL"},
                 {"shell", "/bin/bash"},
                 {"lock_passwd", true},
                 {"ssh_authorized_keys", Json::array({std::string(trim(spec.user_public_key))})}};
    Json doc = {{"hostname", spec.name},
                {"preserve_hostname", false},
                // Not cloud-init's template: it re-renders /etc/hosts at every boot, dropping
                // the cluster block the host keeps current (ADR 0014). write_files below
                // writes the file the fast path writes, once per instance.
                {"manage_etc_hosts", false},
                {"users", Json::array({user})},
                {"disable_root", true},
                // With ssh_keys present cloud-init (cc_ssh) generates no host key at all;
                // ssh_genkeytypes is ignored then, and its schema rejects an empty list
                // (a warning at every boot), so it is left out.
                {"ssh_deletekeys", true},
                {"ssh_keys",
                 {{"ed25519_private", spec.host_key.private_openssh},
                  {"ed25519_public", spec.host_key.public_line}}},
                {"resize_rootfs", true}};
    doc["write_files"] =
        Json::array({{{"path", "/etc/hosts"},
                      {"permissions", "0644"},
                      {"content", FBX_TRY(render_hosts_file(spec.name, spec.hosts))}}});
    if (!spec.mounts.empty()) {
        Json mounts = Json::array();
        for (const auto& m : spec.mounts)
            mounts.push_back(
                Json::array({"LABEL=" + m.label, m.guest_path, "ext4", "ro,nofail", "0", "0"}));
        doc["mounts"] = std::move(mounts);
    }
    auto body = FBX_TRY(dump(doc));
    return "#cloud-config\n" + body;
}

Result<std::string> render_network_config(const SeedSpec& spec) {
    FBX_CHECK(validate(spec));
    Json eth = {{"match", {{"macaddress", lowercase(spec.mac)}}},
                {"set-name", "eth0"},
                {"dhcp4", false},
                {"addresses", Json::array({spec.ip_cidr})},
                // gateway4, not routes: cloud-init 22.4 renders a v2 route for ifupdown as a
                // `post-up route add` line, which needs net-tools (not in the image), so the
                // guest ended up with no default route. gateway4 becomes `gateway` in ENI.
                {"gateway4", spec.gateway}};
    if (!spec.nameservers.empty())
        eth["nameservers"] = {{"addresses", spec.nameservers}};
    return dump(Json{{"version", 2}, {"ethernets", {{"eth0", eth}}}});
}

} // namespace fleetbox::seed

// Rendering of the fast seed's entries. The spec is validated by the same rules as the
// NoCloud documents (cloud_config.hpp), so both paths accept exactly the same identities.
#include "seed/fast_seed.hpp"

#include "seed/hosts_file.hpp"
#include "util/strings.hpp"

#include <cctype>

namespace fleetbox::seed {

namespace {

std::string lowercase(std::string text) {
    for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string network_file(const SeedSpec& spec) {
    std::string text = "mac=" + lowercase(spec.mac) + "\naddress=" + spec.ip_cidr +
                       "\ngateway=" + spec.gateway + "\n";
    for (const auto& ns : spec.nameservers)
        text += "dns=" + ns + "\n";
    return text;
}

std::string mounts_file(const SeedSpec& spec) {
    std::string text;
    for (const auto& m : spec.mounts)
        text += "LABEL=" + m.label + " " + m.guest_path + "\n";
    return text;
}

} // namespace

Result<std::vector<TarEntry>> render_fast_seed(const SeedSpec& spec) {
    FBX_CHECK(validate(spec));
    std::vector<TarEntry> entries = {
        {"format", std::string(kFastSeedFormat) + "\n", 0644},
        {"hostname", spec.name + "\n", 0644},
        {"hosts", FBX_TRY(render_hosts_file(spec.name, spec.hosts)), 0644},
        {"network", network_file(spec), 0644},
        {"authorized_keys", std::string(trim(spec.user_public_key)) + "\n", 0644},
        {"ssh_host_ed25519_key", spec.host_key.private_openssh, 0600},
        {"ssh_host_ed25519_key.pub", spec.host_key.public_line + "\n", 0644},
    };
    if (!spec.mounts.empty())
        entries.push_back({"mounts", mounts_file(spec), 0644});
    return entries;
}

Status write_fast_seed(const SeedSpec& spec, const std::string& out_path) {
    auto entries = FBX_TRY(render_fast_seed(spec).map_error(
        [&](Error e) { return std::move(e).wrap("write seed " + out_path); }));
    return write_tar_image(entries, out_path, 0600);
}

} // namespace fleetbox::seed

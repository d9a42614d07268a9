// Member files written by the client: host key, known_hosts, timings (all atomic writes,
// 0600 like every file of the store: other local users have no business reading them).
#include "client/member_files.hpp"

#include "sys/atomic_file.hpp"
#include "sys/fs.hpp"

#include <nlohmann/json.hpp>

namespace fleetbox::client {

Result<MemberFiles> MemberFiles::of(const Store& store, const std::string& name) {
    MemberFiles f;
    f.dir = FBX_TRY(store.member_dir(name));
    f.disk = f.dir + "/disk.qcow2";
    f.host_key = f.dir + "/ssh_host_ed25519_key";
    f.known_hosts = f.dir + "/known_hosts";
    f.timings = f.dir + "/timings.json";
    f.serial_log = f.dir + "/serial.log";
    return f;
}

std::string seed_path(const MemberFiles& files, seed::Provisioning method) {
    return files.dir + "/" + seed::provisioner_for(method).seed_file_name();
}

Result<ssh::KeyPair> create_host_key(const MemberFiles& files, const std::string& name) {
    auto key = FBX_TRY(ssh::generate_ed25519("fleetbox-host-" + name));
    FBX_CHECK(write_file_atomic(files.host_key, key.private_openssh, 0600));
    FBX_CHECK(write_file_atomic(files.host_key + ".pub", key.public_line + "\n", 0600));
    return key;
}

Result<ssh::KeyPair> load_host_key(const MemberFiles& files) {
    auto text = FBX_TRY(read_file(files.host_key));
    return ssh::key_pair_from_private(text, "");
}

Status write_known_hosts(const MemberFiles& files, const std::string& ip,
                         const ssh::KeyPair& host_key) {
    auto line = FBX_TRY(ssh::known_hosts_line(ip, host_key.public_line));
    return write_file_atomic(files.known_hosts, line + "\n", 0600);
}

guest::SshTarget ssh_target(const Store& store, const MemberFiles& files, const std::string& name,
                            const std::string& ip) {
    guest::SshTarget t;
    t.vm_name = name;
    t.host = ip;
    t.identity_path = store.key_path();
    t.known_hosts_path = files.known_hosts;
    return t;
}

Status write_timings(const MemberFiles& files, const std::vector<PhaseTiming>& timings,
                     int boot_attempts, const std::vector<PhaseTiming>& guest_timings) {
    nlohmann::json phases = nlohmann::json::array();
    double total = 0;
    for (const auto& t : timings) {
        phases.push_back({{"phase", t.phase}, {"seconds", t.seconds}});
        total += t.seconds;
    }
    nlohmann::json guest = nlohmann::json::array();
    for (const auto& t : guest_timings)
        guest.push_back({{"phase", t.phase}, {"seconds", t.seconds}});
    nlohmann::json doc = {{"phases", phases},
                          {"total_seconds", total},
                          {"boot_attempts", boot_attempts},
                          {"guest_phases", guest}};
    return write_file_atomic(files.timings, doc.dump(2) + "\n", 0600);
}

std::vector<PhaseTiming> read_timings(const MemberFiles& files) {
    std::vector<PhaseTiming> out;
    auto text = read_file(files.timings);
    if (!text)
        return out;
    try {
        auto doc = nlohmann::json::parse(*text);
        for (const auto& p : doc.at("phases"))
            out.push_back({p.at("phase").get<std::string>(), p.at("seconds").get<double>()});
    } catch (const std::exception&) {
        out.clear();
    }
    return out;
}

} // namespace fleetbox::client

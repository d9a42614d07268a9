// /etc/hosts rendering. Names are checked against the hostname alphabet, so no entry can add
// a line, a comment or a second alias to the file.
#include "seed/hosts_file.hpp"

#include "seed/cluster_block.hpp"

#include <arpa/inet.h>
#include <cctype>

namespace fleetbox::seed {

bool is_ip_address(const std::string& text) {
    in_addr v4{};
    in6_addr v6{};
    return ::inet_pton(AF_INET, text.c_str(), &v4) == 1 ||
           ::inet_pton(AF_INET6, text.c_str(), &v6) == 1;
}

bool is_host_name(const std::string& name, std::size_t max_size) {
    if (name.empty() || name.size() > max_size || name[0] == '-' || name[0] == '.')
        return false;
    for (unsigned char c : name)
        if (!std::isalnum(c) && c != '-' && c != '.' && c != '_')
            return false;
    return true;
}

Status validate_host_entries(const std::vector<HostEntry>& entries) {
    for (const auto& e : entries) {
        if (!is_ip_address(e.ip))
            return fail(ErrorKind::InvalidArgument, "render /etc/hosts",
                        "host entry \"" + e.ip + "\": expected an IP address");
        if (!is_host_name(e.name))
            return fail(ErrorKind::InvalidArgument, "render /etc/hosts",
                        "host entry \"" + e.name + "\": expected a hostname of [A-Za-z0-9._-]");
    }
    return {};
}

Result<std::string> render_hosts_file(const std::string& name,
                                      const std::vector<HostEntry>& entries) {
    if (!is_host_name(name))
        return fail(ErrorKind::InvalidArgument, "render /etc/hosts",
                    "name \"" + name + "\": not a hostname");
    FBX_CHECK(validate_host_entries(entries));
    std::string text = "# written by fleetbox at boot\n"
                       "127.0.0.1\tlocalhost\n"
                       "::1\t\tlocalhost ip6-localhost ip6-loopback\n"
                       "ff02::1\t\tip6-allnodes\n"
                       "ff02::2\t\tip6-allrouters\n"
                       "127.0.1.1\t" +
                       name + "\n";
    return text + FBX_TRY(render_cluster_block(entries));
}

} // namespace fleetbox::seed

// ClusterView from the store's configs (see cluster_view.hpp for why the subnet is derived).
#include "client/cluster_view.hpp"

#include "store/names.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <map>
#include <set>

namespace fleetbox::client {

std::string subnet_of_address(const std::string& ip) {
    in_addr addr{};
    if (ip.empty() || ::inet_pton(AF_INET, ip.c_str(), &addr) != 1)
        return {};
    return ip.substr(0, ip.rfind('.')) + ".0/24";
}

std::string cluster_of(const Store& store, const std::string& name) {
    if (auto config = store.load(name))
        return config->cluster;
    return cluster_name(name);
}

Result<ClusterView> view_cluster(const Store& store, const std::string& cluster) {
    ClusterView view;
    view.cluster = cluster;
    std::map<std::string, int> ours; // subnet -> members using it
    std::set<std::string> others;
    for (const auto& name : FBX_TRY(store.list())) {
        auto config = store.load(name);
        std::string member_cluster = config ? config->cluster : cluster_name(name);
        std::string ip = config ? config->ip : std::string();
        std::string subnet = subnet_of_address(ip);
        if (member_cluster == cluster) {
            view.members.push_back({name, ip});
            if (!subnet.empty())
                ++ours[subnet];
        } else if (!subnet.empty()) {
            others.insert(subnet);
        }
    }
    auto most = std::max_element(ours.begin(), ours.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    if (most != ours.end())
        view.subnet = most->first;
    others.erase(view.subnet);
    view.other_subnets.assign(others.begin(), others.end());
    std::sort(view.members.begin(), view.members.end(),
              [](const StoredMember& a, const StoredMember& b) { return a.name < b.name; });
    return view;
}

} // namespace fleetbox::client

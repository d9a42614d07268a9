// Target resolution over the store's member list (see targets.hpp).
#include "client/targets.hpp"

#include "client/cluster_view.hpp"
#include "store/names.hpp"
#include "sys/fs.hpp"

#include <algorithm>

namespace fleetbox::client {

Result<Targets> resolve_targets(const Store& store, const TargetSelection& selection) {
    if (selection.all && !selection.names.empty())
        return fail(ErrorKind::InvalidArgument, "cannot combine --all with explicit VM names");
    auto members = FBX_TRY(store.list_members());
    Targets t;
    if (selection.all) {
        t.found = members;
        return t;
    }
    if (selection.names.empty())
        return fail(ErrorKind::InvalidArgument, "no VMs specified", {}, "name them, or use --all");
    auto add = [&](const std::string& n) {
        if (std::find(t.found.begin(), t.found.end(), n) == t.found.end())
            t.found.push_back(n);
    };
    for (const auto& pattern : selection.names) {
        if (std::find(members.begin(), members.end(), pattern) != members.end()) {
            add(pattern);
            continue;
        }
        bool any = false;
        for (const auto& m : members)
            if (cluster_of(store, m) == pattern) {
                add(m);
                any = true;
            }
        if (!any)
            t.unknown.push_back(pattern);
    }
    return t;
}

Result<std::vector<std::string>>
take_failed_boots(const Store& store, const TargetSelection& selection, Targets& targets) {
    std::vector<std::string> leftovers;
    if (selection.all) {
        for (auto& name : FBX_TRY(store.list_failed_boots()))
            if (std::find(targets.found.begin(), targets.found.end(), name) == targets.found.end())
                leftovers.push_back(std::move(name));
        return leftovers;
    }
    std::erase_if(targets.unknown, [&](const std::string& name) {
        auto dir = store.failed_boot_dir(name);
        if (!dir || !is_directory(*dir))
            return false;
        leftovers.push_back(name);
        return true;
    });
    return leftovers;
}

} // namespace fleetbox::client

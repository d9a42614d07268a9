// Per-subnet address bookkeeping (see address_pool.hpp for the allocation rules and why).
#include "net/address_pool.hpp"

#include <utility>

namespace fleetbox {

AddressPool::AddressPool(Subnet subnet) : subnet_(std::move(subnet)) {}

bool AddressPool::usable(uint32_t address) const {
    return contains(subnet_, address) && address != subnet_.network &&
           address != subnet_.network + 1 && address != broadcast_of(subnet_);
}

bool AddressPool::taken(uint32_t address) const {
    return used_.count(address) != 0;
}

Result<std::string> AddressPool::reserve(const std::string& name, const std::string& hint) {
    if (auto it = by_name_.find(name); it != by_name_.end())
        return format_ipv4(it->second);
    if (!hint.empty()) {
        auto wanted = parse_ipv4(hint);
        if (wanted && usable(*wanted) && !taken(*wanted)) {
            by_name_[name] = *wanted;
            used_.insert(*wanted);
            return format_ipv4(*wanted);
        }
    }
    for (uint32_t a = subnet_.network + 2; a < broadcast_of(subnet_); ++a) {
        if (!taken(a)) {
            by_name_[name] = a;
            used_.insert(a);
            return format_ipv4(a);
        }
    }
    return fail(ErrorKind::Busy, "reserve an IP for " + name,
                "no free IP in subnet " + subnet_.cidr,
                "stop or remove a VM on this network first");
}

void AddressPool::release(const std::string& name) {
    auto it = by_name_.find(name);
    if (it == by_name_.end())
        return;
    used_.erase(it->second);
    by_name_.erase(it);
}

std::optional<std::string> AddressPool::address_of(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end())
        return std::nullopt;
    return format_ipv4(it->second);
}

std::map<std::string, std::string> AddressPool::reservations() const {
    std::map<std::string, std::string> out;
    for (const auto& [name, address] : by_name_)
        out.emplace(name, format_ipv4(address));
    return out;
}

} // namespace fleetbox

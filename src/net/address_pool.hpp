// AddressPool: which VM holds which IPv4 address of one bridge's subnet.
//
// Why: the gateway (.1) belongs to the bridge, the network and broadcast addresses are not
// usable, and a VM asking twice (a retried boot, a restart) must get the same address
// back. A caller may ask for a specific address (ip_hint); it is honored when it is a
// usable, free address of this subnet, else the lowest free address from .2 is handed out,
// matching the original tool. Pure bookkeeping: no kernel state, no locking (the helper
// owns one pool per network and serves requests one at a time).
#pragma once

#include "net/ipv4.hpp"
#include "util/error.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace fleetbox {

class AddressPool {
public:
    explicit AddressPool(Subnet subnet);

    // The address for `name`: the one it already holds (the hint is then ignored), else
    // the hint when usable and free, else the lowest free address from .2.
    // Exhausted: Busy error "no free IP in subnet <cidr>".
    Result<std::string> reserve(const std::string& name, const std::string& hint = {});
    // Forget `name`'s address (no-op when it holds none).
    void release(const std::string& name);

    [[nodiscard]] std::optional<std::string> address_of(const std::string& name) const;
    // name -> address, for write-ahead records and status output.
    [[nodiscard]] std::map<std::string, std::string> reservations() const;
    [[nodiscard]] const Subnet& subnet() const { return subnet_; }

private:
    [[nodiscard]] bool usable(uint32_t address) const;
    [[nodiscard]] bool taken(uint32_t address) const;

    Subnet subnet_;
    std::map<std::string, uint32_t> by_name_;
    std::set<uint32_t> used_;
};

} // namespace fleetbox

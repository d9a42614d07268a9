// What the store knows about a cluster: its members, their stored addresses, the /24 they
// live on, and the /24s the store holds for every other cluster.
//
// Why derived, not a separate record: a member's address is already stored in its
// config.json and never changes, so the cluster's subnet is simply the /24 its members'
// addresses are in. There is nothing extra to keep in sync or to leak: the subnet is held
// while a member that has it exists (running or stopped) and is free again after the last
// one is removed. A member's cluster is the one recorded in its config.json (`up a b c` makes
// a, b and c one cluster); configs written before that field default to the name's cluster.
#pragma once

#include "store/store.hpp"
#include "util/error.hpp"

#include <string>
#include <vector>

namespace fleetbox::client {

struct StoredMember {
    std::string name;
    std::string ip; // empty when the store has no address for it
};

struct ClusterView {
    std::string cluster;
    std::vector<StoredMember> members; // members recorded in this cluster, by name
    // The /24 ("192.168.3.0/24") of the members' addresses; "" when none has one. When the
    // members disagree (a store from before subnets were kept), the one most of them use.
    std::string subnet;
    std::vector<std::string> other_subnets; // held by other clusters, sorted, no duplicates
};

// Reads every member's config. A config that cannot be read holds no subnet and belongs to
// the cluster its name says (so a damaged file never makes a /24 look free by accident: its
// directory still counts as a member, and its address, if readable, is kept).
Result<ClusterView> view_cluster(const Store& store, const std::string& cluster);

// The cluster a member belongs to: its config's, else (no or unreadable config) its name's.
std::string cluster_of(const Store& store, const std::string& name);

// "a.b.c.d" -> "a.b.c.0/24"; "" for anything that is not an IPv4 address.
std::string subnet_of_address(const std::string& ip);

} // namespace fleetbox::client

// rtnetlink calls through libnl-route-3 (see netlink.hpp for why). libnl returns negative
// NLE_* codes, translated here back to errno so the net layer reports kernel errors the
// way the rest of fleetbox does. Every libnl object is held by a unique_ptr with its put/free.
#include "net/netlink.hpp"

#include "net/ipv4.hpp"
#include "net/nl_common.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

namespace fleetbox {

namespace {

struct LinkPut {
    void operator()(rtnl_link* p) const { rtnl_link_put(p); }
};
struct AddrPut {
    void operator()(rtnl_addr* p) const { rtnl_addr_put(p); }
};
struct NlAddrPut {
    void operator()(nl_addr* p) const { nl_addr_put(p); }
};
using nl::CachePtr;
using nl::connect_route;
using nl::is_missing;
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrPut>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrPut>;

Error nl_error(std::string operation, int nlerr) {
    return nl::error(std::move(operation), nlerr);
}

Result<LinkPtr> get_link(nl_sock* sock, const std::string& name, const std::string& operation) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return fail(ErrorKind::InvalidArgument, operation, "bad interface name '" + name + "'");
    }
    rtnl_link* raw = nullptr;
    const int err = rtnl_link_get_kernel(sock, 0, name.c_str(), &raw);
    LinkPtr link(raw);
    if (is_missing(err)) {
        return fail(ErrorKind::NotFound, operation, "no network interface named " + name);
    }
    if (err < 0)
        return fail(nl_error(operation, err));
    return link;
}

// Names of every link, by index, from one dump.
Result<CachePtr> link_cache(nl_sock* sock, const std::string& operation) {
    nl_cache* raw = nullptr;
    if (const int err = rtnl_link_alloc_cache(sock, AF_UNSPEC, &raw); err < 0) {
        return fail(nl_error(operation + ": list network interfaces", err));
    }
    return CachePtr(raw);
}

std::string name_of_index(nl_cache* links, int index) {
    char buf[IFNAMSIZ + 1] = {};
    if (index <= 0 || !rtnl_link_i2name(links, index, buf, sizeof buf))
        return {};
    return buf;
}

Result<NlAddrPtr> ipv4_nl_addr(uint32_t address, int prefix) {
    const uint32_t be = htonl(address);
    NlAddrPtr a(nl_addr_build(AF_INET, &be, sizeof be));
    if (!a)
        return fail_errno("build netlink address", ENOMEM);
    nl_addr_set_prefixlen(a.get(), prefix);
    return a;
}

// "A.B.C.D/P" -> (address, prefix)
Result<std::pair<uint32_t, int>> parse_address_cidr(const std::string& text) {
    const auto slash = text.find('/');
    const std::string op = "parse interface address '" + text + "'";
    if (slash == std::string::npos)
        return fail(ErrorKind::InvalidArgument, op, "expected A.B.C.D/PREFIX");
    auto address = parse_ipv4(std::string_view(text).substr(0, slash));
    if (!address)
        return fail(std::move(address).error());
    const std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 2 ||
        !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(len) > 32) {
        return fail(ErrorKind::InvalidArgument, op, "prefix must be a number from 0 to 32");
    }
    return std::pair{*address, std::stoi(len)};
}

} // namespace

Status create_link(const std::string& name, const std::string& kind) {
    const std::string op = "create " + kind + " " + name;
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return fail(ErrorKind::InvalidArgument, op, "interface names are 1 to 15 characters");
    }
    auto sock = FBX_TRY(connect_route(op));
    LinkPtr link(rtnl_link_alloc());
    if (!link)
        return fail_errno(op, ENOMEM);
    rtnl_link_set_name(link.get(), name.c_str());
    if (const int err = rtnl_link_set_type(link.get(), kind.c_str()); err < 0) {
        return fail(nl_error(op + ": unknown link kind", err));
    }
    const int err = rtnl_link_add(sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err == -NLE_EXIST) {
        return fail(ErrorKind::AlreadyExists, op, "an interface named " + name + " already exists");
    }
    if (err < 0)
        return fail(nl_error(op, err));
    return {};
}

Status create_bridge(const std::string& name) {
    return create_link(name, "bridge");
}

Status add_address(const std::string& ifname, const std::string& address_cidr) {
    const std::string op = "add address " + address_cidr + " to " + ifname;
    const auto [address, prefix] = FBX_TRY(parse_address_cidr(address_cidr));
    auto sock = FBX_TRY(connect_route(op));
    auto link = FBX_TRY(get_link(sock.get(), ifname, op));
    auto local = FBX_TRY(ipv4_nl_addr(address, prefix));
    auto broadcast = FBX_TRY(ipv4_nl_addr(address | ~prefix_mask(prefix), 32));
    AddrPtr addr(rtnl_addr_alloc());
    if (!addr)
        return fail_errno(op, ENOMEM);
    rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(link.get()));
    rtnl_addr_set_local(addr.get(), local.get());
    rtnl_addr_set_prefixlen(addr.get(), prefix);
    if (prefix < 31)
        rtnl_addr_set_broadcast(addr.get(), broadcast.get());
    const int err = rtnl_addr_add(sock.get(), addr.get(), 0);
    if (err < 0 && err != -NLE_EXIST)
        return fail(nl_error(op, err));
    return {};
}

Status set_link_up(const std::string& ifname) {
    const std::string op = "set " + ifname + " up";
    auto sock = FBX_TRY(connect_route(op));
    auto link = FBX_TRY(get_link(sock.get(), ifname, op));
    LinkPtr change(rtnl_link_alloc());
    if (!change)
        return fail_errno(op, ENOMEM);
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (const int err = rtnl_link_change(sock.get(), link.get(), change.get(), 0); err < 0) {
        return fail(nl_error(op, err));
    }
    return {};
}

Status enslave(const std::string& port, const std::string& bridge) {
    const std::string op = "attach " + port + " to bridge " + bridge;
    auto sock = FBX_TRY(connect_route(op));
    auto master = FBX_TRY(get_link(sock.get(), bridge, op));
    auto link = FBX_TRY(get_link(sock.get(), port, op));
    LinkPtr change(rtnl_link_alloc());
    if (!change)
        return fail_errno(op, ENOMEM);
    rtnl_link_set_master(change.get(), rtnl_link_get_ifindex(master.get()));
    if (const int err = rtnl_link_change(sock.get(), link.get(), change.get(), 0); err < 0) {
        return fail(nl_error(op, err));
    }
    return {};
}

Status delete_link(const std::string& name) {
    const std::string op = "delete interface " + name;
    if (name.empty() || name.size() >= IFNAMSIZ) {
        return fail(ErrorKind::InvalidArgument, op, "bad interface name '" + name + "'");
    }
    auto sock = FBX_TRY(connect_route(op));
    LinkPtr link(rtnl_link_alloc());
    if (!link)
        return fail_errno(op, ENOMEM);
    rtnl_link_set_name(link.get(), name.c_str());
    const int err = rtnl_link_delete(sock.get(), link.get());
    if (err < 0 && !is_missing(err))
        return fail(nl_error(op, err));
    return {};
}

bool link_exists(const std::string& name) {
    return link_info(name).has_value();
}

Result<LinkInfo> link_info(const std::string& name) {
    const std::string op = "look up interface " + name;
    auto sock = FBX_TRY(connect_route(op));
    auto link = FBX_TRY(get_link(sock.get(), name, op));
    LinkInfo info;
    info.index = rtnl_link_get_ifindex(link.get());
    info.name = name;
    if (const char* kind = rtnl_link_get_type(link.get()))
        info.kind = kind;
    info.up = (rtnl_link_get_flags(link.get()) & IFF_UP) != 0;
    if (const int master = rtnl_link_get_master(link.get()); master > 0) {
        auto links = FBX_TRY(link_cache(sock.get(), op));
        info.master = name_of_index(links.get(), master);
    }
    return info;
}

Result<std::vector<std::string>> list_links_with_prefix(std::string_view prefix) {
    const std::string op = "list network interfaces";
    auto sock = FBX_TRY(connect_route(op));
    auto links = FBX_TRY(link_cache(sock.get(), op));
    std::vector<std::string> names;
    for (nl_object* o = nl_cache_get_first(links.get()); o; o = nl_cache_get_next(o)) {
        const char* name = rtnl_link_get_name(reinterpret_cast<rtnl_link*>(o));
        if (name && std::string_view(name).substr(0, prefix.size()) == prefix)
            names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<std::vector<InterfaceAddress>> list_ipv4_addresses() {
    const std::string op = "list IPv4 addresses";
    auto sock = FBX_TRY(connect_route(op));
    auto links = FBX_TRY(link_cache(sock.get(), op));
    nl_cache* raw = nullptr;
    if (const int err = rtnl_addr_alloc_cache(sock.get(), &raw); err < 0)
        return fail(nl_error(op, err));
    CachePtr addrs(raw);
    std::vector<InterfaceAddress> out;
    for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
        auto* addr = reinterpret_cast<rtnl_addr*>(o);
        nl_addr* local = rtnl_addr_get_local(addr);
        if (rtnl_addr_get_family(addr) != AF_INET || !local || nl_addr_get_len(local) != 4)
            continue;
        uint32_t be = 0;
        std::memcpy(&be, nl_addr_get_binary_addr(local), sizeof be);
        InterfaceAddress ia;
        ia.ifindex = rtnl_addr_get_ifindex(addr);
        ia.ifname = name_of_index(links.get(), ia.ifindex);
        ia.address = ntohl(be);
        ia.prefix = rtnl_addr_get_prefixlen(addr);
        out.push_back(std::move(ia));
    }
    return out;
}

} // namespace fleetbox

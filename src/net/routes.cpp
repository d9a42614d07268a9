// Route listing (rtnl_route cache, main table only) and a single RTM_GETROUTE lookup built
// by hand: libnl-route has no "get route" call, so the request is an rtmsg with RTA_DST and
// the reply's RTA_OIF is read in a callback. Auto-ack is off so the kernel answers with
// exactly one message: the route, or an NLMSG_ERROR whose errno the error callback keeps.
#include "net/routes.hpp"

#include "net/ipv4.hpp"
#include "net/nl_common.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/route.h>

namespace fleetbox {

namespace {

struct Lookup {
    int oif = 0;
    int err = 0;
};

int on_route(nl_msg* msg, void* arg) {
    auto* out = static_cast<Lookup*>(arg);
    nlattr* attrs[RTA_MAX + 1] = {};
    if (nlmsg_parse(nlmsg_hdr(msg), sizeof(rtmsg), attrs, RTA_MAX, nullptr) == 0 && attrs[RTA_OIF])
        out->oif = static_cast<int>(nla_get_u32(attrs[RTA_OIF]));
    return NL_OK;
}

int on_error(sockaddr_nl*, nlmsgerr* e, void* arg) {
    static_cast<Lookup*>(arg)->err = e->error < 0 ? -e->error : e->error;
    return NL_STOP;
}

std::string ifname_of(int index) {
    char buf[IF_NAMESIZE + 1] = {};
    return index > 0 && ::if_indextoname(static_cast<unsigned>(index), buf) ? buf : "";
}

} // namespace

std::string describe(const RouteInfo& route) {
    std::string text = format_ipv4(route.destination) + "/" + std::to_string(route.prefix);
    return route.ifname.empty() ? text : text + " dev " + route.ifname;
}

Result<std::vector<RouteInfo>> list_ipv4_routes() {
    const std::string op = "list IPv4 routes";
    auto sock = FBX_TRY(nl::connect_route(op));
    nl_cache* raw = nullptr;
    if (const int err = rtnl_route_alloc_cache(sock.get(), AF_INET, 0, &raw); err < 0)
        return fail(nl::error(op, err));
    nl::CachePtr routes(raw);
    std::vector<RouteInfo> out;
    for (nl_object* o = nl_cache_get_first(routes.get()); o; o = nl_cache_get_next(o)) {
        auto* route = reinterpret_cast<rtnl_route*>(o);
        if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_family(route) != AF_INET)
            continue;
        RouteInfo info;
        if (nl_addr* dst = rtnl_route_get_dst(route)) {
            info.prefix = static_cast<int>(nl_addr_get_prefixlen(dst));
            if (nl_addr_get_len(dst) == 4) {
                uint32_t be = 0;
                std::memcpy(&be, nl_addr_get_binary_addr(dst), sizeof be);
                info.destination = ntohl(be);
            }
        }
        if (rtnl_route_get_nnexthops(route) > 0)
            info.ifname = ifname_of(rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0)));
        out.push_back(std::move(info));
    }
    return out;
}

Result<std::string> route_interface_for(uint32_t destination) {
    const std::string op = "look up the route to " + format_ipv4(destination);
    auto sock = FBX_TRY(nl::connect_route(op));
    nl_socket_disable_auto_ack(sock.get());
    nl::MsgPtr msg(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST));
    if (!msg)
        return fail_errno(op, ENOMEM);
    rtmsg rtm{};
    rtm.rtm_family = AF_INET;
    rtm.rtm_dst_len = 32;
    if (nlmsg_append(msg.get(), &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 ||
        nla_put_u32(msg.get(), RTA_DST, htonl(destination)) < 0)
        return fail_errno(op + ": build request", ENOMEM);
    if (const int err = nl_send_auto(sock.get(), msg.get()); err < 0)
        return fail(nl::error(op, err));
    Lookup result;
    nl_socket_modify_cb(sock.get(), NL_CB_VALID, NL_CB_CUSTOM, on_route, &result);
    nl_socket_modify_err_cb(sock.get(), NL_CB_CUSTOM, on_error, &result);
    const int err = nl_recvmsgs_default(sock.get());
    if (result.err == ENETUNREACH || result.err == EHOSTUNREACH)
        return std::string();
    if (result.err != 0)
        return fail_errno(op, result.err);
    if (err < 0)
        return fail(nl::error(op, err));
    return ifname_of(result.oif);
}

} // namespace fleetbox

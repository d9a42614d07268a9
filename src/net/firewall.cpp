// Per-bridge nftables table: script, install with read-back, removal, inspection (see
// firewall.hpp for the rules and why). JSON listings are parsed with nlohmann::json; its
// exceptions stop here and become Corrupt errors.
#include "net/firewall.hpp"

#include "net/names.hpp"
#include "net/nft.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace fleetbox {

namespace {

using nlohmann::json;

// Bridge names go into an nft script quoted; allow only what cannot break the quoting.
Status check_bridge(const std::string& bridge, const std::string& operation) {
    const bool ok = !bridge.empty() && bridge.size() < 16 &&
                    std::isalpha(static_cast<unsigned char>(bridge[0])) &&
                    std::all_of(bridge.begin(), bridge.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                    });
    if (!ok)
        return fail(ErrorKind::InvalidArgument, operation, "bad bridge name '" + bridge + "'");
    return {};
}

bool is_prefix(const json& right, const Subnet& subnet) {
    if (!right.is_object() || !right.contains("prefix"))
        return false;
    const json& p = right["prefix"];
    return p.value("addr", "") == format_ipv4(subnet.network) &&
           p.value("len", -1) == subnet.prefix;
}

// Does the rule's expression list contain a match on `left_key` ("saddr" payload or a
// meta/ct key) with this op, whose right side satisfies `right_ok`?
template <typename RightOk>
bool has_match(const json& exprs, const std::string& left_key, const std::string& op,
               RightOk right_ok) {
    for (const json& e : exprs) {
        if (!e.is_object() || !e.contains("match"))
            continue;
        const json& m = e["match"];
        if (m.value("op", "") != op || !m.contains("left") || !m.contains("right"))
            continue;
        const json& left = m["left"];
        std::string key;
        if (left.contains("payload"))
            key = left["payload"].value("field", "");
        for (const char* k : {"meta", "ct"}) {
            if (left.contains(k))
                key = left[k].value("key", "");
        }
        if (key == left_key && right_ok(m["right"]))
            return true;
    }
    return false;
}

bool has_verdict(const json& exprs, const std::string& verdict) {
    return std::any_of(exprs.begin(), exprs.end(),
                       [&](const json& e) { return e.is_object() && e.contains(verdict); });
}

bool is_new_state(const json& right) {
    if (right.is_string())
        return right == "new";
    return right.is_array() && right.size() == 1 && right[0] == "new";
}

// The two inter-bridge drop rules (see firewall.hpp); returns which one `exprs` is (0: none).
int isolation_rule(const json& exprs, const std::string& bridge) {
    if (!has_verdict(exprs, "drop"))
        return 0;
    const auto is_bridge = [&](const json& r) { return r == bridge; };
    const auto any_fleetbox = [](const json& r) { return r == std::string(kBridgePrefix) + "*"; };
    if (has_match(exprs, "iifname", "==", any_fleetbox) &&
        has_match(exprs, "iifname", "!=", is_bridge) &&
        has_match(exprs, "oifname", "==", is_bridge))
        return 1;
    if (has_match(exprs, "iifname", "==", is_bridge) &&
        has_match(exprs, "oifname", "==", any_fleetbox) &&
        has_match(exprs, "oifname", "!=", is_bridge))
        return 2;
    return 0;
}

void check_rule(const json& rule, const std::string& bridge, const Subnet& subnet,
                FirewallInfo& info, int& isolation_seen) {
    const json& exprs = rule.contains("expr") ? rule["expr"] : json::array();
    const auto is_bridge = [&](const json& r) { return r == bridge; };
    const auto in_subnet = [&](const json& r) { return is_prefix(r, subnet); };
    const std::string chain = rule.value("chain", "");
    if (chain == "postrouting" && has_verdict(exprs, "masquerade") &&
        has_match(exprs, "saddr", "==", in_subnet) &&
        has_match(exprs, "oifname", "!=", is_bridge)) {
        info.masquerade = true;
    }
    if (chain == "forward" && has_verdict(exprs, "drop") &&
        has_match(exprs, "state", "in", is_new_state) &&
        has_match(exprs, "iifname", "!=", is_bridge) &&
        has_match(exprs, "daddr", "==", in_subnet)) {
        info.forward_drop = true;
    }
    if (chain == "forward")
        isolation_seen |= isolation_rule(exprs, bridge); // 1 | 2 = both present
}

Result<json> parse_listing(const std::string& operation, const std::string& text) {
    try {
        json doc = json::parse(text);
        if (!doc.is_object() || !doc.contains("nftables") || !doc["nftables"].is_array()) {
            return fail(ErrorKind::Corrupt, operation,
                        "nftables JSON output has no \"nftables\" list");
        }
        return doc["nftables"];
    } catch (const json::exception& e) {
        return fail(ErrorKind::Corrupt, operation,
                    std::string("unreadable nftables JSON: ") + e.what());
    }
}

} // namespace

Result<std::string> firewall_script(const std::string& bridge, const Subnet& subnet) {
    FBX_CHECK(check_bridge(bridge, "write firewall rules for " + bridge));
    const std::string table = "ip " + firewall_table_name(bridge);
    const std::string quoted = "\"" + bridge + "\"";
    const std::string any_bridge = "\"" + std::string(kBridgePrefix) + "*\"";
    return "add table " + table + "\n" + "delete table " + table + "\n" + "table " + table +
           " {\n" + "\tchain postrouting {\n" +
           "\t\ttype nat hook postrouting priority srcnat; policy accept;\n" + "\t\tip saddr " +
           subnet.cidr + " oifname != " + quoted + " masquerade\n" + "\t}\n" +
           "\tchain forward {\n" +
           "\t\ttype filter hook forward priority filter; policy accept;\n" +
           "\t\tct state new iifname != " + quoted + " ip daddr " + subnet.cidr + " drop\n" +
           "\t\tiifname " + any_bridge + " iifname != " + quoted + " oifname " + quoted +
           " drop\n" + "\t\tiifname " + quoted + " oifname " + any_bridge +
           " oifname != " + quoted + " drop\n" + "\t}\n" + "}\n";
}

Status install_firewall(const std::string& bridge, const Subnet& subnet) {
    const std::string op = "install firewall for " + bridge;
    const std::string script = FBX_TRY(firewall_script(bridge, subnet));
    FBX_CHECK(nft_run(op, script));
    const FirewallInfo info = FBX_TRY(inspect_firewall(bridge, subnet));
    const std::string table = firewall_table_name(bridge);
    if (!info.table)
        return fail(ErrorKind::Internal, op,
                    "nft table " + table + " missing after install (kernel rejected it)");
    if (!info.masquerade)
        return fail(ErrorKind::Internal, op, "nft masquerade rule missing after install");
    if (!info.forward_drop)
        return fail(ErrorKind::Internal, op, "nft forward rule missing after install");
    if (!info.isolation)
        return fail(ErrorKind::Internal, op, "nft isolation rules missing after install");
    return {};
}

Status remove_firewall(const std::string& bridge) {
    const std::string op = "remove firewall of " + bridge;
    FBX_CHECK(check_bridge(bridge, op));
    const std::string table = "ip " + firewall_table_name(bridge);
    // "add" first makes the "delete" succeed when the table is already gone.
    return nft_run(op, "add table " + table + "\ndelete table " + table + "\n");
}

bool firewall_exists(const std::string& bridge) {
    auto tables = list_firewall_tables();
    const std::string name = firewall_table_name(bridge);
    return tables && std::find(tables->begin(), tables->end(), name) != tables->end();
}

Result<FirewallInfo> inspect_firewall(const std::string& bridge, const Subnet& subnet) {
    const std::string op = "read firewall of " + bridge;
    FBX_CHECK(check_bridge(bridge, op));
    FirewallInfo info;
    if (!firewall_exists(bridge))
        return info;
    const std::string table = firewall_table_name(bridge);
    const std::string text = FBX_TRY(nft_list_json(op, "list table ip " + table));
    const json items = FBX_TRY(parse_listing(op, text));
    info.table = true;
    int isolation_seen = 0;
    try {
        for (const json& item : items) {
            if (item.is_object() && item.contains("rule") &&
                item["rule"].value("table", "") == table) {
                check_rule(item["rule"], bridge, subnet, info, isolation_seen);
            }
        }
        info.isolation = isolation_seen == 3;
    } catch (const json::exception& e) {
        return fail(ErrorKind::Corrupt, op, std::string("unexpected nftables JSON: ") + e.what());
    }
    return info;
}

Result<std::vector<std::string>> list_firewall_tables() {
    const std::string op = "list nftables tables";
    const std::string text = FBX_TRY(nft_list_json(op, "list tables"));
    const json items = FBX_TRY(parse_listing(op, text));
    std::vector<std::string> names;
    try {
        for (const json& item : items) {
            if (!item.is_object() || !item.contains("table"))
                continue;
            const json& t = item["table"];
            const std::string name = t.value("name", "");
            if (t.value("family", "") == "ip" && name.rfind(kTablePrefix, 0) == 0)
                names.push_back(name);
        }
    } catch (const json::exception& e) {
        return fail(ErrorKind::Corrupt, op, std::string("unexpected nftables JSON: ") + e.what());
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace fleetbox

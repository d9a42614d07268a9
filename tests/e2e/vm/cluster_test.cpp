// e2e: clusters through the real CLI (and the library's Cluster), real QEMU, inside the test's
// private network namespace. Every ping and name lookup stays on the clusters' own bridges in
// that namespace (members, their gateways); nothing is addressed outside it.
//
// CI time is the budget (one boot is tens of seconds under TCG, and ctest runs every gtest
// case in its own process, so a cluster cannot be shared between cases): each case boots
// once and checks many things in sequence, each step under its own SCOPED_TRACE.
//
// ClusterCli.UpJoinIsolateRestartRemove, on one store:
//  a. `up c -n 3`: every member pings the other two by address and by name, and its gateway;
//  b. `up c-4` while c-1..3 run joins their helper (its QEMU is that helper's child), gets an
//     address in the same /24, and c-1 resolves it by name;
//  c. `up d`: another helper and another /24, and d and c cannot reach each other (the drop
//     rules in c's nftables table, read back with `nft -j list ruleset`, say why);
//  d. `down c-2; up c-2` re-joins the same helper on the same address;
//  e. `down c` (all four) then `up c -n 3`: the disks (a file written in c-1) and the
//     addresses come back;
//  f. `rm -f --all` leaves nothing (processes, links, tables).
// ClusterLifetime.BoundCloseAndDetachedSigkill:
//  - library: start_cluster("lib", 2) -> both answer SSH, lib-1 resolves lib-2, close() stops
//    both and removes the network (bound helper);
//  - CLI: SIGKILL of the detached helper of `up k -n 2` takes its QEMUs along (their
//    PR_SET_PDEATHSIG), then `fleetbox prune` reclaims what the dead helper left (bridge,
//    nftables table, network records); `prune --dry-run` lists it first and changes nothing.
#include "e2e/vm/e2e_fixture.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <fleetbox/fleetbox.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// "a.b.c" of "a.b.c.d".
std::string stem_of(const std::string& ip) {
    return ip.substr(0, ip.rfind('.'));
}

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

// The QEMU process of member `vm` of the store (its argv has "-name guest=<vm>"), or -1.
pid_t qemu_of(const std::string& root, const std::string& vm) {
    const std::string arg = std::string(1, '\0') + "guest=" + vm + '\0';
    for (pid_t pid : store_processes(root)) {
        auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
        if (cmdline.find(arg) != std::string::npos)
            return pid;
    }
    return -1;
}

// The parent of `pid` (field 4 of /proc/<pid>/stat), or -1.
pid_t parent_of(pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat").value_or("");
    auto close = stat.rfind(')');
    if (close == std::string::npos)
        return -1;
    auto fields = words(stat.substr(close + 1)); // state ppid ...
    return fields.size() >= 2 ? std::stoi(fields[1]) : -1;
}

// fleetbox-helper processes of the store.
std::vector<pid_t> helpers_of(const std::string& root) {
    std::vector<pid_t> out;
    for (pid_t pid : store_processes(root)) {
        auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
        if (base_name(cmdline.substr(0, cmdline.find('\0'))).rfind("fleetbox-helper", 0) == 0)
            out.push_back(pid);
    }
    return out;
}

// The link in this namespace that holds the gateway address "<stem>.1" ("" when none).
std::string bridge_with_gateway(const std::string& stem) {
    std::istringstream in(command_out({"ip", "-o", "-4", "addr", "show"}));
    for (std::string line; std::getline(in, line);) {
        auto w = words(line); // "5: fbx-1a2b3c4d inet 10.1.2.1/24 ..."
        if (w.size() >= 4 && w[2] == "inet" && w[3].rfind(stem + ".1/", 0) == 0)
            return w[1];
    }
    return {};
}

// Drop rules of the forward chain of `bridge`'s nftables table, each as its compact JSON.
std::vector<std::string> forward_drops(const std::string& bridge) {
    std::string table = bridge;
    std::replace(table.begin(), table.end(), '-', '_');
    auto doc = nlohmann::json::parse(command_out({"nft", "-j", "list", "ruleset"}), nullptr, false);
    std::vector<std::string> out;
    if (!doc.is_object() || !doc.contains("nftables"))
        return out;
    for (const auto& item : doc["nftables"]) {
        if (!item.contains("rule"))
            continue;
        const auto& rule = item["rule"];
        if (rule.value("table", "") != table || rule.value("chain", "") != "forward")
            continue;
        const auto& exprs = rule.contains("expr") ? rule["expr"] : nlohmann::json::array();
        for (const auto& e : exprs)
            if (e.is_object() && e.contains("drop"))
                out.push_back(exprs.dump());
    }
    return out;
}

class ClusterCli : public VmTest {
protected:
    CliRun fbx(std::vector<std::string> args) { return run_fleetbox(root(), std::move(args)); }
    CliRun on(const std::string& vm, const std::string& command) {
        return fbx({"ssh", vm, "--", command});
    }
    std::string ip_of(const std::string& vm) { return config_field(*store_, vm, "ip"); }

    // One SSH session on `from` pings every target once (-W5); target -> answered.
    std::map<std::string, bool> pings(const std::string& from,
                                      const std::vector<std::string>& targets) {
        std::string script = "for t in";
        for (const auto& t : targets)
            script += " " + t;
        script += "; do if ping -c1 -W5 \"$t\" >/dev/null 2>&1; then echo \"ok $t\"; "
                  "else echo \"fail $t\"; fi; done";
        auto run = on(from, script);
        EXPECT_EQ(run.code, 0) << run;
        std::map<std::string, bool> out;
        std::istringstream in(run.out);
        for (std::string verdict, target; in >> verdict >> target;)
            out[target] = verdict == "ok";
        return out;
    }
    // Every target answers a ping from `from`.
    void expect_reaches(const std::string& from, const std::vector<std::string>& targets) {
        auto got = pings(from, targets);
        for (const auto& t : targets)
            EXPECT_TRUE(got.count(t) && got[t]) << from << " cannot ping " << t;
    }

    // `ls -o json` as name -> entry.
    std::map<std::string, nlohmann::json> listed() {
        auto ls = fbx({"ls", "-o", "json"});
        EXPECT_EQ(ls.code, 0) << ls;
        auto doc = nlohmann::json::parse(ls.out, nullptr, false);
        std::map<std::string, nlohmann::json> out;
        if (doc.is_array())
            for (const auto& e : doc)
                out[e.value("name", "")] = e;
        return out;
    }

    // The helper whose child is `vm`'s QEMU (-1 when it has none).
    pid_t helper_of_member(const std::string& vm) {
        pid_t qemu = qemu_of(root(), vm);
        return qemu < 0 ? -1 : parent_of(qemu);
    }
};

TEST_F(ClusterCli, UpJoinIsolateRestartRemove) {
    const std::vector<std::string> three = {"c-1", "c-2", "c-3"};
    std::map<std::string, std::string> ip;
    pid_t helper = -1;
    std::string stem, bridge;

    {
        SCOPED_TRACE("a. up c -n 3: one helper, one /24, everyone reaches everyone");
        auto up = fbx({"up", "c", "-n", "3", "--mem", "1G"});
        ASSERT_EQ(up.code, 0) << up;
        EXPECT_THAT(up.out, HasSubstr("Starting c-1, c-2, c-3..."));
        for (const auto& vm : three) {
            ip[vm] = ip_of(vm);
            ASSERT_FALSE(ip[vm].empty()) << vm << " has no address in its config";
            EXPECT_THAT(up.out, HasSubstr("  " + vm + "  IP: " + ip[vm] + "  SSH: fleetbox ssh"));
        }
        stem = stem_of(ip["c-1"]);
        EXPECT_EQ(std::set<std::string>({ip["c-1"], ip["c-2"], ip["c-3"]}).size(), 3u);
        for (const auto& vm : three)
            EXPECT_EQ(stem_of(ip[vm]), stem) << vm << " is not on c-1's /24";
        auto helpers = helpers_of(root());
        ASSERT_EQ(helpers.size(), 1u) << "one detached helper for the whole group";
        helper = helpers.front();
        for (const auto& vm : three)
            EXPECT_EQ(helper_of_member(vm), helper) << vm << "'s QEMU is not the helper's child";
        bridge = bridge_with_gateway(stem);
        EXPECT_FALSE(bridge.empty()) << "no link holds " << stem << ".1";

        auto ls = listed();
        for (const auto& vm : three) {
            ASSERT_TRUE(ls.count(vm)) << vm << " missing from ls -o json";
            EXPECT_EQ(ls[vm].value("cluster", ""), "c");
            EXPECT_EQ(ls[vm].value("state", ""), "running");
            EXPECT_EQ(ls[vm].value("ip", ""), ip[vm]);
        }

        for (const auto& from : three) {
            std::vector<std::string> targets;
            for (const auto& to : three)
                if (to != from) {
                    targets.push_back(ip[to]);
                    targets.push_back(to);
                }
            targets.push_back(stem + ".1"); // the host's end of the bridge
            expect_reaches(from, targets);
        }
    }

    {
        SCOPED_TRACE("b. up c-4 joins the running helper and becomes a name for c-1");
        auto up = fbx({"up", "c-4", "--mem", "1G"});
        ASSERT_EQ(up.code, 0) << up;
        EXPECT_THAT(up.err, HasSubstr("Adding c-4 to the cluster (helper pid " +
                                      std::to_string(helper) + ")"));
        EXPECT_EQ(helpers_of(root()), std::vector<pid_t>{helper});
        EXPECT_EQ(helper_of_member("c-4"), helper);
        ip["c-4"] = ip_of("c-4");
        EXPECT_EQ(stem_of(ip["c-4"]), stem);
        EXPECT_EQ(std::set<std::string>({ip["c-1"], ip["c-2"], ip["c-3"], ip["c-4"]}).size(), 4u);
        auto getent = on("c-1", "getent hosts c-4");
        EXPECT_EQ(getent.code, 0) << getent;
        EXPECT_EQ(words(getent.out), (std::vector<std::string>{ip["c-4"], "c-4"})) << getent;
        expect_reaches("c-4", {"c-1", ip["c-3"]});
    }

    {
        SCOPED_TRACE("c. up d: its own helper and /24, isolated from c");
        auto up = fbx({"up", "d", "--mem", "1G"});
        ASSERT_EQ(up.code, 0) << up;
        EXPECT_THAT(up.err, ::testing::Not(HasSubstr("Adding d")));
        ip["d"] = ip_of("d");
        ASSERT_FALSE(ip["d"].empty());
        EXPECT_NE(stem_of(ip["d"]), stem) << "d got c's /24";
        pid_t d_helper = helper_of_member("d");
        EXPECT_GT(d_helper, 0);
        EXPECT_NE(d_helper, helper) << "d runs on c's helper";
        EXPECT_EQ(helpers_of(root()).size(), 2u);

        auto from_d = pings("d", {ip["c-1"], stem_of(ip["d"]) + ".1"});
        EXPECT_FALSE(from_d[ip["c-1"]]) << "d reached c-1 at " << ip["c-1"];
        EXPECT_TRUE(from_d[stem_of(ip["d"]) + ".1"]) << "d cannot reach its own gateway";
        auto from_c = pings("c-1", {ip["d"]});
        EXPECT_FALSE(from_c[ip["d"]]) << "c-1 reached d at " << ip["d"];

        // What drops it: c's table has forward drops naming c's /24 (new connections from
        // another interface) and, where the inter-bridge rules exist, the other fbx- bridges.
        auto drops = forward_drops(bridge);
        bool subnet_drop = false, inter_bridge_drop = false;
        for (const auto& rule : drops) {
            subnet_drop |= rule.find("\"addr\":\"" + stem + ".0\"") != std::string::npos;
            inter_bridge_drop |= rule.find("\"fbx-*\"") != std::string::npos;
        }
        EXPECT_TRUE(subnet_drop || inter_bridge_drop)
            << "no drop in the forward chain of " << bridge
            << "'s table: " << ::testing::PrintToString(drops);
        std::cout << "c's forward drops (" << drops.size() << "):\n";
        for (const auto& rule : drops)
            std::cout << "  " << rule << "\n";
        RecordProperty("inter_bridge_drop_rule", inter_bridge_drop ? "present" : "absent");

        auto down = fbx({"down", "d"}); // not needed any more: give its CPU to the boots below
        EXPECT_EQ(down.code, 0) << down;
    }

    {
        SCOPED_TRACE("d. down c-2; up c-2: back on the same helper and address");
        auto down = fbx({"down", "c-2"});
        ASSERT_EQ(down.code, 0) << down;
        EXPECT_EQ(qemu_of(root(), "c-2"), -1);
        auto up = fbx({"up", "c-2"});
        ASSERT_EQ(up.code, 0) << up;
        EXPECT_THAT(up.err, HasSubstr("Adding c-2 to the cluster (helper pid " +
                                      std::to_string(helper) + ")"));
        EXPECT_EQ(helper_of_member("c-2"), helper);
        EXPECT_EQ(ip_of("c-2"), ip["c-2"]);
        EXPECT_THAT(up.out, HasSubstr("  c-2  IP: " + ip["c-2"] + "  SSH: fleetbox ssh c-2"));
        expect_reaches("c-2", {"c-1", ip["c-4"]});
    }

    {
        SCOPED_TRACE("e. down c; up c -n 3: disks and addresses are kept");
        auto write = on("c-1", "echo kept-by-c-1 > ~/kept && sync");
        ASSERT_EQ(write.code, 0) << write;
        auto down = fbx({"down", "c"});
        ASSERT_EQ(down.code, 0) << down;
        for (const auto& vm : {"c-1", "c-2", "c-3", "c-4"})
            EXPECT_THAT(down.out, HasSubstr(std::string("Stopping ") + vm + "..."));
        EXPECT_TRUE(wait_no_store_processes(root(), 60s)) << "c's helper outlived its members";
        EXPECT_TRUE(bridge_with_gateway(stem).empty()) << "c's bridge outlived its helper";

        auto up = fbx({"up", "c", "-n", "3"});
        ASSERT_EQ(up.code, 0) << up;
        for (const auto& vm : three) {
            EXPECT_EQ(ip_of(vm), ip[vm]) << vm << " changed address";
            EXPECT_THAT(up.out, HasSubstr("  " + vm + "  IP: " + ip[vm] + "  SSH: fleetbox ssh"));
        }
        auto ls = listed();
        for (const auto& vm : three)
            EXPECT_EQ(ls[vm].value("ip", ""), ip[vm]) << vm;
        EXPECT_EQ(ls["c-4"].value("state", ""), "stopped");
        auto kept = on("c-1", "cat ~/kept");
        EXPECT_EQ(kept.code, 0) << kept;
        EXPECT_EQ(kept.out, "kept-by-c-1\n");
        expect_reaches("c-3", {"c-1", "c-2"});
    }

    {
        SCOPED_TRACE("f. rm -f --all leaves nothing");
        auto rm = fbx({"rm", "-f", "--all"});
        EXPECT_EQ(rm.code, 0) << rm;
        auto quiet = fbx({"ls", "-q"});
        EXPECT_EQ(quiet.out, "") << quiet;
        expect_nothing_left();
    }
}

class ClusterLifetime : public ClusterCli {
protected:
    // What `fleetbox prune` must leave after the helper that owned a network was killed: no
    // fleetbox links, no fleetbox nftables tables, no network records or forwarding markers in
    // the store.
    void expect_prune_reclaimed_everything() {
        auto links = net_links();
        EXPECT_FALSE(any_contains(links, "fbx-")) << ::testing::PrintToString(links);
        EXPECT_FALSE(any_contains(links, "fbt-")) << ::testing::PrintToString(links);
        EXPECT_FALSE(any_contains(nft_tables(), "fbx_")) << ::testing::PrintToString(nft_tables());
        std::vector<std::string> records;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(root() + "/networks", ec))
            if (e.path().filename() != ".lock") // the flock file every record write takes
                records.push_back(e.path().filename());
        EXPECT_TRUE(records.empty()) << "left in networks/: " << ::testing::PrintToString(records);
    }
};

TEST_F(ClusterLifetime, BoundCloseAndDetachedSigkill) {
    {
        SCOPED_TRACE("library: start_cluster(\"lib\", 2), names, close()");
        Options opts;
        opts.store_root = root();
        opts.memory_mb = 1024;
        auto cluster = fleetbox::start_cluster("lib", 2, opts);
        ASSERT_TRUE(cluster) << cluster.error().message() << " (" << cluster.error().hint << ")";
        EXPECT_EQ(cluster->name(), "lib");
        ASSERT_EQ(cluster->vms().size(), 2u);
        Vm* one = cluster->vm("lib-1");
        Vm* two = cluster->vm("lib-2");
        ASSERT_NE(one, nullptr);
        ASSERT_NE(two, nullptr);
        EXPECT_EQ(stem_of(one->ip()), stem_of(two->ip()));
        for (Vm* vm : {one, two}) {
            auto host = vm->ssh("hostname", 60s);
            ASSERT_TRUE(host) << vm->name() << ": " << host.error().message();
            EXPECT_EQ(host->out, vm->name() + "\n");
        }
        auto getent = one->ssh("getent hosts lib-2", 60s);
        ASSERT_TRUE(getent) << getent.error().message();
        EXPECT_EQ(getent->exit_code, 0) << getent->err;
        EXPECT_EQ(words(getent->out), (std::vector<std::string>{two->ip(), "lib-2"}));
        EXPECT_EQ(helpers_of(root()).size(), 1u);

        auto closed = cluster->close();
        EXPECT_TRUE(closed) << closed.error().message();
        expect_nothing_left();
    }

    {
        SCOPED_TRACE("CLI: SIGKILL of the detached helper takes its QEMUs along");
        auto up = fbx({"up", "k", "-n", "2", "--mem", "1G"});
        ASSERT_EQ(up.code, 0) << up;
        auto helpers = helpers_of(root());
        ASSERT_EQ(helpers.size(), 1u);
        const pid_t helper = helpers.front();
        const pid_t q1 = qemu_of(root(), "k-1"), q2 = qemu_of(root(), "k-2");
        ASSERT_GT(q1, 0);
        ASSERT_GT(q2, 0);
        EXPECT_EQ(parent_of(q1), helper);
        EXPECT_EQ(parent_of(q2), helper);

        ASSERT_EQ(::kill(helper, SIGKILL), 0);
        // PR_SET_PDEATHSIG(SIGKILL) is delivered when the helper dies; the bound is generous.
        EXPECT_TRUE(wait_no_store_processes(root(), 5s))
            << ::testing::PrintToString(store_processes(root())) << " still running 5 s after "
            << "the helper was killed";
        // What the dead helper could not remove (prune's work below), for the record.
        std::cout << "left by the killed helper: links " << ::testing::PrintToString(net_links())
                  << ", tables " << ::testing::PrintToString(nft_tables()) << "\n";
        auto ls = listed();
        EXPECT_EQ(ls["k-1"].value("state", ""), "stopped");
        EXPECT_EQ(ls["k-2"].value("state", ""), "stopped");
    }

    {
        SCOPED_TRACE("fleetbox prune reclaims the dead helper's network");
        auto dry = fbx({"prune", "--dry-run"});
        EXPECT_EQ(dry.code, 0) << dry;
        EXPECT_THAT(dry.out, ::testing::HasSubstr("Would reclaim network fbx-")) << dry;
        EXPECT_THAT(net_links(), ::testing::Contains(::testing::StartsWith("fbx-")))
            << "a dry run changed nothing";
        auto prune = fbx({"prune"});
        EXPECT_EQ(prune.code, 0) << prune;
        EXPECT_THAT(prune.out, ::testing::HasSubstr("Reclaimed network fbx-")) << prune;
        expect_prune_reclaimed_everything();
        auto rm = fbx({"rm", "-f", "--all"});
        EXPECT_EQ(rm.code, 0) << rm;
        EXPECT_TRUE(wait_no_store_processes(root(), 60s));
        expect_nothing_left();
    }
}

} // namespace
} // namespace fleetbox::test

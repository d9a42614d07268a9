// e2e: one VM's whole life through the real fleetbox CLI, run as child processes with
// FLEETBOX_HOME pointing at a scratch store, inside the test's private network namespace:
// up -> ssh (exit codes, hostname, sudo) -> ls -> logs -> down -> ssh refused -> up again
// (the disk kept what was written) -> guest poweroff (ls shows stopped by itself, the helper
// and network go) -> up again -> rm -> nothing left (processes, links, nft tables).
// The CLI's helper is detached, so the checks between commands see what a user would see.
// Two concurrent `up` of one name boot it once: the member lock serializes them and the
// second finds the VM running (never a second QEMU on the same disk).
#include "e2e/vm/e2e_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kVm = "e2e-web";

// The IP in "  e2e-web  IP: 10.x.y.z  SSH: fleetbox ssh e2e-web", or "".
std::string ip_line_address(const std::string& out) {
    std::smatch m;
    std::regex line(std::string("  ") + kVm + R"(  IP: (\d+\.\d+\.\d+\.\d+)  SSH: fleetbox ssh )" +
                    kVm);
    return std::regex_search(out, m, line) ? m[1].str() : std::string();
}

// The row of `ls` (table) for the VM, split on blanks.
std::vector<std::string> ls_row(const std::string& table) {
    for (const auto& line : lines_starting(table, std::string(kVm) + " ")) {
        std::istringstream in(line);
        std::vector<std::string> cols;
        for (std::string c; in >> c;)
            cols.push_back(c);
        return cols;
    }
    return {};
}

class CliLifecycle : public VmTest {
protected:
    CliRun fbx(std::vector<std::string> args) { return run_fleetbox(root(), std::move(args)); }
    CliRun guest(const std::string& command) { return fbx({"ssh", kVm, "--", command}); }
};

TEST_F(CliLifecycle, UpSshDownUpRm) {
    // up: boots, prints the address line and the timings table.
    auto up = fbx({"up", kVm, "--timings"});
    ASSERT_EQ(up.code, 0) << up;
    EXPECT_THAT(up.out, HasSubstr(std::string("Starting ") + kVm + "..."));
    std::string ip = ip_line_address(up.out);
    ASSERT_FALSE(ip.empty()) << up;
    EXPECT_THAT(up.out, HasSubstr("PHASE"));
    EXPECT_THAT(up.out, HasSubstr("ssh ready"));
    EXPECT_THAT(up.out, HasSubstr("total"));
    EXPECT_EQ(store_processes(root()).size(), 2u) << "one detached helper and one QEMU";
    EXPECT_TRUE(any_contains(net_links(), "fbx")) << ::testing::PrintToString(net_links());

    // ssh: commands run as the fleetbox user; exit codes pass through.
    auto uname = guest("uname -a");
    EXPECT_EQ(uname.code, 0) << uname;
    EXPECT_THAT(uname.out, StartsWith("Linux "));
    auto hostname = guest("hostname");
    EXPECT_EQ(hostname.code, 0) << hostname;
    EXPECT_EQ(hostname.out, std::string(kVm) + "\n");
    auto sudo = guest("sudo -n true");
    EXPECT_EQ(sudo.code, 0) << sudo;
    auto seven = guest("exit 7");
    EXPECT_EQ(seven.code, 7) << seven;

    // ls -o json: running, with its address and the boot's timings.
    auto json_ls = fbx({"ls", "-o", "json"});
    ASSERT_EQ(json_ls.code, 0) << json_ls;
    auto listed = nlohmann::json::parse(json_ls.out, nullptr, false);
    ASSERT_TRUE(listed.is_array() && listed.size() == 1) << json_ls.out;
    EXPECT_EQ(listed[0].value("name", ""), kVm);
    EXPECT_EQ(listed[0].value("state", ""), "running");
    EXPECT_EQ(listed[0].value("ip", ""), ip);
    ASSERT_TRUE(listed[0].contains("timings") && listed[0]["timings"].is_array()) << json_ls.out;
    EXPECT_FALSE(listed[0]["timings"].empty()) << json_ls.out;

    // logs: the serial console shows the guest's boot (the image's progress markers, the fast
    // path's seed among them; the kernel itself is quiet); ssh-config names the VM.
    auto logs = fbx({"logs", kVm});
    EXPECT_EQ(logs.code, 0) << logs.err;
    EXPECT_THAT(logs.out, HasSubstr("fleetbox: stage=seed uptime="));
    auto config = fbx({"ssh-config"});
    EXPECT_EQ(config.code, 0) << config;
    EXPECT_THAT(config.out, HasSubstr(std::string("Host ") + kVm + "\n  HostName " + ip + "\n"));

    auto write = guest("echo kept > ~/kept && sync");
    ASSERT_EQ(write.code, 0) << write;

    // down: stops it; the helper goes with its last VM, taking the network along.
    auto down = fbx({"down", kVm});
    EXPECT_EQ(down.code, 0) << down;
    EXPECT_THAT(down.out, HasSubstr(std::string("Stopping ") + kVm + "..."));
    EXPECT_THAT(down.out, HasSubstr("stopped"));
    expect_nothing_left();
    auto ls = fbx({"ls"});
    EXPECT_EQ(ls.code, 0) << ls;
    auto row = ls_row(ls.out);
    ASSERT_GE(row.size(), 4u) << ls.out;
    EXPECT_EQ(row[1], "e2e-web") << ls.out; // the cluster: no trailing -N to strip
    EXPECT_EQ(row[2], "-") << ls.out;
    EXPECT_EQ(row[3], "stopped") << ls.out;
    auto refused = guest("true");
    EXPECT_NE(refused.code, 0) << refused;
    EXPECT_THAT(refused.err, HasSubstr(std::string("VM \"") + kVm + "\" is not running"));

    // up again: the same disk, so the file is still there.
    auto again = fbx({"up", kVm});
    ASSERT_EQ(again.code, 0) << again;
    EXPECT_FALSE(ip_line_address(again.out).empty()) << again;
    auto kept = guest("cat ~/kept");
    EXPECT_EQ(kept.code, 0) << kept;
    EXPECT_EQ(kept.out, "kept\n");

    // poweroff inside the guest: the helper notices QEMU's exit by itself, so `ls` shows the
    // VM stopped (never "error") without anyone running `down`, the helper and network are
    // gone, and `up` boots it again. The ssh session may die with the guest: its code is moot.
    (void)guest("sudo systemctl poweroff");
    std::string state;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (std::chrono::steady_clock::now() < give_up) {
        auto polled = fbx({"ls", "-o", "json"});
        auto j = nlohmann::json::parse(polled.out, nullptr, false);
        state = j.is_array() && j.size() == 1 ? j[0].value("state", "") : "";
        if (state != "running")
            break;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    EXPECT_EQ(state, "stopped");
    expect_nothing_left();
    auto revived = fbx({"up", kVm});
    ASSERT_EQ(revived.code, 0) << revived;
    auto still = guest("cat ~/kept");
    EXPECT_EQ(still.code, 0) << still;
    EXPECT_EQ(still.out, "kept\n");

    // rm -f: stops it and deletes its directory; nothing of it is left anywhere.
    auto rm = fbx({"rm", "-f", kVm});
    EXPECT_EQ(rm.code, 0) << rm;
    EXPECT_THAT(rm.out, HasSubstr(std::string("Removing ") + kVm + "..."));
    auto quiet = fbx({"ls", "-q"});
    EXPECT_EQ(quiet.code, 0) << quiet;
    EXPECT_EQ(quiet.out, "");
    EXPECT_FALSE(path_exists(store_->member_dir(kVm)));
    expect_nothing_left();
}

TEST_F(CliLifecycle, ConcurrentUpsOfOneNameBootItOnce) {
    CliRun first;
    CliRun second;
    std::thread a([&] { first = fbx({"up", kVm}); });
    std::thread b([&] { second = fbx({"up", kVm}); });
    a.join();
    b.join();
    ASSERT_EQ(first.code, 0) << first;
    ASSERT_EQ(second.code, 0) << second;
    std::string ip = ip_line_address(first.out);
    ASSERT_FALSE(ip.empty()) << first;
    EXPECT_EQ(ip_line_address(second.out), ip) << second;
    EXPECT_EQ(store_processes(root()).size(), 2u) << "one detached helper and one QEMU";
    auto hostname = guest("hostname");
    EXPECT_EQ(hostname.out, std::string(kVm) + "\n") << hostname;

    auto rm = fbx({"rm", "-f", kVm});
    EXPECT_EQ(rm.code, 0) << rm;
    expect_nothing_left();
}

} // namespace
} // namespace fleetbox::test

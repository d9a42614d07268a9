// A 2-VM cluster as a GoogleTest fixture: copy a script into both members, run it, copy each
// member's result out and check it. Cleanup is fleetbox's: both VMs (and their disks) are
// destroyed when the test ends, pass or fail; a failure prints their serial consoles.
#include <filesystem>
#include <fleetbox/fleetbox.hpp>
#include <fleetbox/gtest.hpp>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

// Writes "<hostname> sees <peer> at <peer's address>" to /tmp/result.txt in the guest.
constexpr const char* kScript = R"(#!/bin/sh
set -eu
addr=$(getent hosts "$1" | cut -d' ' -f1)
echo "$(hostname) sees $1 at $addr" > /tmp/result.txt
)";

TEST(ClusterTest, ScriptRunsOnBothMembers) {
    fleetbox::Options options;
    options.cpus = 1;
    options.memory_mb = 1024;
    auto* cluster = fleetbox::testing::start_cluster(2, options);
    if (cluster == nullptr)
        return; // skipped (this host cannot boot VMs) or failed to boot: already reported

    fs::path dir = fs::temp_directory_path() / ("cluster-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "probe.sh") << kScript;
    fs::permissions(dir / "probe.sh", fs::perms::owner_all | fs::perms::group_read);

    auto members = cluster->vms();
    ASSERT_EQ(members.size(), 2u);
    for (std::size_t i = 0; i < members.size(); ++i) {
        fleetbox::Vm* vm = members[i];
        fleetbox::Vm* peer = members[1 - i];
        auto copied = vm->copy_to((dir / "probe.sh").string(), "/tmp/probe.sh");
        ASSERT_TRUE(copied) << copied.error().message();
        auto ran = vm->ssh("/tmp/probe.sh " + peer->name());
        ASSERT_TRUE(ran) << ran.error().message();
        ASSERT_EQ(ran->exit_code, 0) << ran->err;
        fs::path result = dir / (vm->name() + ".txt");
        auto fetched = vm->copy_from("/tmp/result.txt", result.string());
        ASSERT_TRUE(fetched) << fetched.error().message();
        std::stringstream text;
        text << std::ifstream(result).rdbuf();
        EXPECT_EQ(text.str(), vm->name() + " sees " + peer->name() + " at " + peer->ip() + "\n");
    }
    fs::remove_all(dir);
}

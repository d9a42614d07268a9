// Unit tests for guest_phases: per-phase guest boot times from the console markers (kernel,
// initramfs, userspace to sshd), with kernel noise and CRLF line ends, images without the
// switch-root marker, several boots in one log (the last counts), and implausible numbers
// ignored.
#include "client/guest_phases.hpp"
#include "support/test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <map>

namespace fleetbox::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> phase_names(const std::vector<PhaseTiming>& phases) {
    std::vector<std::string> names;
    for (const auto& p : phases)
        names.push_back(p.phase);
    return names;
}

std::map<std::string, double> by_name(const std::vector<PhaseTiming>& phases) {
    std::map<std::string, double> out;
    for (const auto& p : phases)
        out[p.phase] = p.seconds;
    return out;
}

const char* kConsole =
    "[    0.000000] Linux version 6.1.0-28-cloud-amd64 (debian-kernel@lists.debian.org)\r\n"
    "[    0.000000] Command line: console=ttyS0 root=/dev/vda rw quiet\r\n"
    "fleetbox: stage=initramfs uptime=1.49\r\n"
    "[    1.702113] EXT4-fs (vda): mounted filesystem with ordered data mode.\r\n"
    "fleetbox: stage=switch-root uptime=2.36\r\n"
    "fleetbox: stage=systemd uptime=2.90\r\n"
    "[    3.000001] random: crng init done\r\n"
    "fleetbox: stage=seed uptime=4.02\r\n"
    "fleetbox: stage=sshd uptime=6.10\r\n"
    "\r\n"
    "Debian GNU/Linux 12 web-1 ttyS0\r\n";

TEST(GuestPhases, KernelInitramfsAndUserspaceFromTheMarkers) {
    auto phases = guest_phases(kConsole);
    EXPECT_THAT(phase_names(phases), ElementsAre("kernel", "initramfs", "userspace to sshd"));
    auto t = by_name(phases);
    EXPECT_NEAR(t["kernel"], 1.49, 1e-9);
    EXPECT_NEAR(t["initramfs"], 0.87, 1e-9);
    EXPECT_NEAR(t["userspace to sshd"], 3.74, 1e-9);
}

TEST(GuestPhases, LfLineEndsWork) {
    auto t = by_name(guest_phases("fleetbox: stage=initramfs uptime=1.00\n"
                                  "fleetbox: stage=switch-root uptime=1.50\n"
                                  "fleetbox: stage=sshd uptime=4.25\n"));
    EXPECT_NEAR(t["kernel"], 1.0, 1e-9);
    EXPECT_NEAR(t["initramfs"], 0.5, 1e-9);
    EXPECT_NEAR(t["userspace to sshd"], 2.75, 1e-9);
}

TEST(GuestPhases, WithoutSwitchRootInitramfsAndUserspaceAreOnePhase) {
    auto phases = guest_phases("noise\r\n"
                               "fleetbox: stage=initramfs uptime=1.49\r\n"
                               "fleetbox: stage=systemd uptime=2.90\r\n"
                               "fleetbox: stage=sshd uptime=6.10\r\n");
    EXPECT_THAT(phase_names(phases), ElementsAre("kernel", "initramfs + userspace to sshd"));
    auto t = by_name(phases);
    EXPECT_NEAR(t["kernel"], 1.49, 1e-9);
    EXPECT_NEAR(t["initramfs + userspace to sshd"], 4.61, 1e-9);
}

TEST(GuestPhases, TheLastBootCounts) {
    std::string two_boots = std::string(kConsole) +
                            "[    0.000000] Linux version 6.1.0-28-cloud-amd64\r\n"
                            "fleetbox: stage=initramfs uptime=2.00\r\n"
                            "fleetbox: stage=switch-root uptime=3.00\r\n"
                            "fleetbox: stage=sshd uptime=10.50\r\n";
    auto phases = guest_phases(two_boots);
    EXPECT_THAT(phase_names(phases), ElementsAre("kernel", "initramfs", "userspace to sshd"));
    auto t = by_name(phases);
    EXPECT_NEAR(t["kernel"], 2.0, 1e-9);
    EXPECT_NEAR(t["initramfs"], 1.0, 1e-9);
    EXPECT_NEAR(t["userspace to sshd"], 7.5, 1e-9);
}

TEST(GuestPhases, ASecondBootThatHasNotReachedSshdYetHasNoUserspacePhase) {
    std::string text = std::string(kConsole) + "fleetbox: stage=initramfs uptime=1.20\r\n";
    auto phases = guest_phases(text);
    EXPECT_THAT(phase_names(phases),
                ElementsAre("kernel")); // nothing of the first boot is mixed in
    EXPECT_NEAR(phases[0].seconds, 1.2, 1e-9);
}

TEST(GuestPhases, ImplausibleNumbersAreIgnored) {
    for (const char* bad : {"abc", "-1", "1e99", "", "1.5x", "nan", "inf", "99999999", " "}) {
        std::string text = std::string("fleetbox: stage=initramfs uptime=") + bad + "\r\n";
        EXPECT_THAT(guest_phases(text), IsEmpty()) << '"' << bad << '"';
    }
    // A bad sshd marker leaves the earlier phases alone.
    auto phases = guest_phases("fleetbox: stage=initramfs uptime=1.49\n"
                               "fleetbox: stage=switch-root uptime=2.36\n"
                               "fleetbox: stage=sshd uptime=abc\n"
                               "fleetbox: stage=sshd uptime=-1\n"
                               "fleetbox: stage=sshd uptime=1e99\n");
    EXPECT_THAT(phase_names(phases), ElementsAre("kernel", "initramfs"));
}

TEST(GuestPhases, OnlyLinesThatStartWithAMarkerCount) {
    auto phases = guest_phases("echo fleetbox: stage=initramfs uptime=1.00\n"
                               "fleetbox: stage=initramfs\n"
                               "fleetbox: stage=initramfs uptime=\n"
                               "fleetbox: stage=initramfsX uptime=1.00\n"
                               "fleetbox: stage=initramfs  uptime=1.00\n");
    EXPECT_THAT(phases, IsEmpty());
}

TEST(GuestPhases, MarkersOutOfOrderGiveNoNegativePhase) {
    auto phases = guest_phases("fleetbox: stage=initramfs uptime=3.00\n"
                               "fleetbox: stage=switch-root uptime=2.00\n"
                               "fleetbox: stage=sshd uptime=1.00\n");
    for (const auto& p : phases)
        EXPECT_GE(p.seconds, 0.0) << p.phase;
    EXPECT_THAT(phase_names(phases), ElementsAre("kernel"));
}

TEST(GuestPhases, NoMarkersNoPhases) {
    EXPECT_THAT(guest_phases(""), IsEmpty());
    EXPECT_THAT(guest_phases("[    0.000000] Linux version 6.1.0\nlogin: "), IsEmpty());
}

TEST(GuestPhases, OfAFile) {
    test::ScratchDir dir;
    test::write_text(dir.file("serial.log"), kConsole);
    auto phases = guest_phases_of(dir.file("serial.log"));
    EXPECT_THAT(phase_names(phases), ElementsAre("kernel", "initramfs", "userspace to sshd"));
    EXPECT_THAT(guest_phases_of(dir.file("missing.log")), IsEmpty());
}

} // namespace
} // namespace fleetbox::client

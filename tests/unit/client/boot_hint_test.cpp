// Unit tests for the "image may lack cloud-init" hint: given only for a guest whose console
// shows it booted without cloud-init, only on a timeout, appended after the existing hint
// (which names the serial log), and never for a guest that printed nothing or ran cloud-init.
#include "client/boot_hint.hpp"
#include "support/test_support.hpp"

#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::client {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// What a stock Debian image without cloud-init prints with `quiet`: the login prompt.
constexpr const char* kNoCloudInitConsole =
    "\r\nDebian GNU/Linux 12 localhost ttyS0\r\n\r\nlocalhost login: ";
constexpr const char* kCloudInitConsole =
    "[    9.1] cloud-init[311]: Cloud-init v. 22.4.2 running 'init-local' at Tue, 01 Dec "
    "2026 18:00:00 +0000. Up 9.05 seconds.\r\n";

Error helper_timeout() {
    return Error{ErrorKind::Timeout, 0, "boot web", "192.168.7.2:22 not reachable after 10m",
                 "see /s/clusters/web/web/serial.log"};
}

void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

TEST(BootHint, NamedOnlyForAGuestThatBootedWithoutCloudInit) {
    EXPECT_EQ(cloud_init_hint(kNoCloudInitConsole),
              "the image may lack cloud-init: the guest booted, but its console shows no "
              "cloud-init output, and a stock image gets its user, SSH key and network only "
              "from cloud-init (NoCloud seed)");
    EXPECT_THAT(cloud_init_hint(kCloudInitConsole), IsEmpty());
    EXPECT_THAT(cloud_init_hint(std::string(kNoCloudInitConsole) + kCloudInitConsole), IsEmpty());
    EXPECT_THAT(cloud_init_hint(""), IsEmpty()); // a hung boot: not this problem
}

TEST(BootHint, AppendedToATimeoutAfterTheSerialLog) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    write(log, kNoCloudInitConsole);
    auto e = with_cloud_init_hint(helper_timeout(), log);
    EXPECT_EQ(e.kind, ErrorKind::Timeout);
    EXPECT_EQ(e.message(), helper_timeout().message()); // the message itself is unchanged
    EXPECT_EQ(e.hint,
              "see /s/clusters/web/web/serial.log; " + cloud_init_hint(kNoCloudInitConsole));
    auto bare = helper_timeout();
    bare.hint.clear();
    EXPECT_THAT(with_cloud_init_hint(bare, log).hint, StartsWith("the image may lack cloud-init"));
}

TEST(BootHint, LeftOutOtherwise) {
    test::ScratchDir dir;
    const std::string log = dir.file("serial.log");
    // No log at all, an empty one (nothing printed: the early-boot hang has its own words),
    // cloud-init's banner present: the hint stays as it was.
    EXPECT_EQ(with_cloud_init_hint(helper_timeout(), log).hint, helper_timeout().hint);
    write(log, "");
    EXPECT_EQ(with_cloud_init_hint(helper_timeout(), log).hint, helper_timeout().hint);
    write(log, std::string(kNoCloudInitConsole) + kCloudInitConsole);
    EXPECT_EQ(with_cloud_init_hint(helper_timeout(), log).hint, helper_timeout().hint);
    // Not a timeout: QEMU exiting or a seed failure says what it says.
    write(log, kNoCloudInitConsole);
    auto exited = helper_timeout();
    exited.kind = ErrorKind::ExternalCommand;
    EXPECT_EQ(with_cloud_init_hint(exited, log).hint, helper_timeout().hint);
}

} // namespace
} // namespace fleetbox::client

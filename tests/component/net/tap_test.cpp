// Persistent taps: created via /dev/net/tun, survive the creating fd, can be enslaved and
// brought up, can be attached to by name the way QEMU does, and delete cleanly.
#include "component/net/netns_fixture.hpp"
#include "net/netlink.hpp"
#include "net/tap.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::run_out;

class Taps : public NetnsTest {};

TEST_F(Taps, CreatedTapIsPersistentAfterItsFdIsClosed) {
    auto made = create_tap("fbt-0000aaaa");
    ASSERT_TRUE(made) << made.error().message();
    // create_tap closed its fd; a non-persistent tap would be gone now.
    auto info = link_info("fbt-0000aaaa");
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->kind, "tun");
    EXPECT_TRUE(info->master.empty());
    const std::string details = run_out({"ip", "-d", "link", "show", "fbt-0000aaaa"});
    EXPECT_NE(details.find("tun type tap"), std::string::npos) << details;
    EXPECT_NE(details.find("persist on"), std::string::npos) << details;
}

TEST_F(Taps, EnslavedAndUpOnABridge) {
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    ASSERT_TRUE(create_tap("fbt-0000aaaa"));
    auto attached = enslave("fbt-0000aaaa", "fbx-0000aaaa");
    ASSERT_TRUE(attached) << attached.error().message();
    ASSERT_TRUE(set_link_up("fbt-0000aaaa"));
    auto info = link_info("fbt-0000aaaa");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->master, "fbx-0000aaaa");
    EXPECT_TRUE(info->up);
    EXPECT_NE(run_out({"ip", "-o", "link", "show", "fbt-0000aaaa"}).find("master fbx-0000aaaa"),
              std::string::npos);
}

TEST_F(Taps, EnslaveToAMissingBridgeNamesIt) {
    ASSERT_TRUE(create_tap("fbt-0000aaaa"));
    auto attached = enslave("fbt-0000aaaa", "fbx-nothere");
    ASSERT_FALSE(attached);
    EXPECT_EQ(attached.error().kind, ErrorKind::NotFound);
    EXPECT_NE(attached.error().message().find("fbx-nothere"), std::string::npos);
}

TEST_F(Taps, QemuCanAttachByNameAfterWeClosedIt) {
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    ASSERT_TRUE(create_tap("fbt-0000aaaa"));
    ASSERT_TRUE(enslave("fbt-0000aaaa", "fbx-0000aaaa"));
    const int index = link_info("fbt-0000aaaa")->index;
    {
        auto fd = open_tap("fbt-0000aaaa"); // TUNSETIFF IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, like QEMU
        ASSERT_TRUE(fd) << fd.error().message();
        EXPECT_TRUE(fd->valid());
        auto info = link_info("fbt-0000aaaa");
        ASSERT_TRUE(info);
        EXPECT_EQ(info->index, index) << "attached to the same device, not a new one";
        EXPECT_EQ(info->master, "fbx-0000aaaa");
    }
    // Still there after the attacher closed it (QEMU exiting must not delete the tap).
    EXPECT_TRUE(link_exists("fbt-0000aaaa"));
    EXPECT_EQ(list_links_with_prefix("fbt-")->size(), 1U);
}

TEST_F(Taps, OpenOfAMissingTapDoesNotCreateOne) {
    auto fd = open_tap("fbt-0000aaaa");
    ASSERT_FALSE(fd);
    EXPECT_EQ(fd.error().kind, ErrorKind::NotFound);
    EXPECT_FALSE(link_exists("fbt-0000aaaa"));
}

TEST_F(Taps, ExistingNameIsRefusedAndLeftAlone) {
    ASSERT_TRUE(create_tap("fbt-0000aaaa"));
    auto again = create_tap("fbt-0000aaaa");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind, ErrorKind::AlreadyExists);
    EXPECT_TRUE(link_exists("fbt-0000aaaa"));

    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    auto over_bridge = create_tap("fbx-0000aaaa");
    ASSERT_FALSE(over_bridge);
    EXPECT_EQ(link_info("fbx-0000aaaa")->kind, "bridge");
}

TEST_F(Taps, DeleteRemovesAndMissingIsSuccess) {
    ASSERT_TRUE(create_bridge("fbx-0000aaaa"));
    ASSERT_TRUE(create_tap("fbt-0000aaaa"));
    ASSERT_TRUE(enslave("fbt-0000aaaa", "fbx-0000aaaa"));
    auto del = delete_tap("fbt-0000aaaa");
    ASSERT_TRUE(del) << del.error().message();
    EXPECT_FALSE(link_exists("fbt-0000aaaa"));
    EXPECT_TRUE(delete_tap("fbt-0000aaaa"));
    EXPECT_TRUE(link_exists("fbx-0000aaaa"));
}

TEST_F(Taps, NameLongerThanIfnamsizIsRejected) {
    auto made = create_tap("fbt-0123456789abcdef");
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().kind, ErrorKind::InvalidArgument);
}

} // namespace
} // namespace fleetbox

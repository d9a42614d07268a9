// Store failed boots: the logs of a new VM whose first boot failed are moved out of the
// member directory before it is removed, replace an earlier set as a whole, are listed by
// name, and go with forget_failed_boot. Nothing else of the member is kept.
#include "store_fixture.hpp"
#include "sys/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using test::StoreTest;

const std::vector<std::string> kLogs{"serial.log", "qemu.log", "helper.log"};

class FailedBoots : public StoreTest {
protected:
    std::string member_file(const std::string& name, const std::string& file) {
        return store().member_dir(name).value() + "/" + file;
    }
};

TEST_F(FailedBoots, KeepsTheLogsAndNothingElse) {
    create("web-1");
    test::write_text(member_file("web-1", "serial.log"), "boot output\n");
    test::write_text(member_file("web-1", "qemu.log"), "qemu said\n");
    test::write_text(member_file("web-1", "disk.qcow2"), "disk");
    auto kept = store().keep_failed_boot_logs("web-1", kLogs);
    ASSERT_TRUE(kept) << kept.error().message();
    EXPECT_EQ(*kept, root() + "/failed/web-1");
    EXPECT_EQ(read_file(*kept + "/serial.log").value(), "boot output\n");
    EXPECT_EQ(read_file(*kept + "/qemu.log").value(), "qemu said\n");
    EXPECT_EQ(list_dir(*kept).value(), (std::vector<std::string>{"qemu.log", "serial.log"}));
    EXPECT_EQ(test::mode_of(*kept), 0700);
    EXPECT_FALSE(path_exists(member_file("web-1", "serial.log"))) << "moved, not copied";
    EXPECT_TRUE(path_exists(member_file("web-1", "disk.qcow2")));
    ASSERT_TRUE(store().remove("web-1"));
    EXPECT_TRUE(path_exists(*kept + "/serial.log")) << "remove() leaves the kept logs";
    EXPECT_FALSE(store().exists("web-1"));
    EXPECT_EQ(store().list_failed_boots().value(), std::vector<std::string>{"web-1"});
}

TEST_F(FailedBoots, ALaterFailureReplacesTheEarlierSetWhole) {
    create("web-1");
    test::write_text(member_file("web-1", "serial.log"), "first\n");
    test::write_text(member_file("web-1", "helper.log"), "first helper\n");
    ASSERT_TRUE(store().keep_failed_boot_logs("web-1", kLogs));
    ASSERT_TRUE(store().remove("web-1"));

    create("web-1");
    test::write_text(member_file("web-1", "serial.log"), "second\n");
    auto kept = store().keep_failed_boot_logs("web-1", kLogs);
    ASSERT_TRUE(kept) << kept.error().message();
    EXPECT_EQ(read_file(*kept + "/serial.log").value(), "second\n");
    EXPECT_FALSE(path_exists(*kept + "/helper.log")) << "no file of the earlier attempt survives";
    EXPECT_EQ(list_dir(root() + "/failed").value(), std::vector<std::string>{"web-1"})
        << "no staging left";
}

TEST_F(FailedBoots, NoLogsMeansNothingKept) {
    create("web-1");
    auto kept = store().keep_failed_boot_logs("web-1", kLogs);
    ASSERT_TRUE(kept) << kept.error().message();
    EXPECT_EQ(*kept, "");
    EXPECT_TRUE(list_dir(root() + "/failed").value().empty()) << "the staging directory is removed";
    EXPECT_TRUE(store().list_failed_boots().value().empty());
}

TEST_F(FailedBoots, AnOpenWriterFollowsTheMove) {
    create("web-1");
    const std::string log = member_file("web-1", "helper.log");
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "before\n", 7), 7);
    auto kept = store().keep_failed_boot_logs("web-1", kLogs);
    ASSERT_TRUE(kept) << kept.error().message();
    ASSERT_EQ(::write(fd, "after\n", 6), 6); // a helper still exiting writes its last words
    ::close(fd);
    EXPECT_EQ(read_file(*kept + "/helper.log").value(), "before\nafter\n");
}

TEST_F(FailedBoots, ForgetRemovesThemAndIsIdempotent) {
    create("web-1");
    test::write_text(member_file("web-1", "serial.log"), "x");
    auto kept = store().keep_failed_boot_logs("web-1", kLogs).value();
    ASSERT_TRUE(store().forget_failed_boot("web-1"));
    EXPECT_FALSE(path_exists(kept));
    ASSERT_TRUE(store().forget_failed_boot("web-1"));
    ASSERT_TRUE(store().forget_failed_boot("never-failed"));
}

TEST_F(FailedBoots, ASymlinkPlantedAsTheDestinationIsReplacedNotFollowed) {
    create("web-1");
    test::write_text(member_file("web-1", "serial.log"), "x");
    const std::string outside = scratch_.path() + "/outside";
    ASSERT_TRUE(ensure_dir(outside));
    test::write_text(outside + "/precious", "keep me");
    ASSERT_TRUE(ensure_dir(root() + "/failed"));
    ASSERT_EQ(::symlink(outside.c_str(), (root() + "/failed/web-1").c_str()), 0);
    auto kept = store().keep_failed_boot_logs("web-1", kLogs);
    ASSERT_TRUE(kept) << kept.error().message();
    EXPECT_TRUE(is_directory(*kept));
    EXPECT_EQ(read_file(outside + "/precious").value(), "keep me");
}

TEST_F(FailedBoots, InvalidNamesAreRefused) {
    EXPECT_EQ(store().failed_boot_dir("../x").error().kind, ErrorKind::InvalidArgument);
    EXPECT_FALSE(store().keep_failed_boot_logs("../x", kLogs));
    EXPECT_FALSE(store().forget_failed_boot("a/b"));
}

} // namespace
} // namespace fleetbox

// Unit tests for sys/log_cap: a log over its cap is copied to <log>.1 (replacing an older
// one) and truncated in place, so a writer holding it O_APPEND goes on at the new end; a log
// under its cap is untouched; a symlink planted as the log, as <log>.1 or as the directory is
// never followed (its target keeps its content).
#include "support/test_support.hpp"
#include "sys/fd.hpp"
#include "sys/fs.hpp"
#include "sys/log_cap.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {
namespace {

using test::read_text;
using test::write_text;

void append(int fd, const std::string& text) {
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

TEST(LogCap, UnderTheCapNothingChanges) {
    test::ScratchDir dir;
    write_text(dir.file("serial.log"), "0123456789");
    auto capped = cap_log_in(dir.path(), "serial.log", 10);
    ASSERT_TRUE(capped) << capped.error().message();
    EXPECT_FALSE(*capped);
    EXPECT_EQ(read_text(dir.file("serial.log")), "0123456789");
    EXPECT_FALSE(path_exists(dir.file("serial.log.1")));
    auto missing = cap_log_in(dir.path(), "qemu.log", 10);
    ASSERT_TRUE(missing) << missing.error().message();
    EXPECT_FALSE(*missing);
}

TEST(LogCap, OverTheCapTheContentMovesToDotOneAndTheWriterGoesOnAtTheStart) {
    test::ScratchDir dir;
    Fd writer(
        ::open(dir.file("serial.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    ASSERT_TRUE(writer);
    write_text(dir.file("serial.log.1"), "an older rotation\n");
    append(writer.get(), "first line\nsecond line\n");
    auto capped = cap_log_in(dir.path(), "serial.log", 16);
    ASSERT_TRUE(capped) << capped.error().message();
    EXPECT_TRUE(*capped);
    EXPECT_EQ(read_text(dir.file("serial.log.1")), "first line\nsecond line\n");
    EXPECT_EQ(read_text(dir.file("serial.log")), "");
    append(writer.get(), "third\n");
    EXPECT_EQ(read_text(dir.file("serial.log")), "third\n") << "no hole before the new line";
    EXPECT_FALSE(path_exists(dir.file("serial.log.1.tmp")));
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("serial.log.1").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
}

TEST(LogCap, SymlinksAreNeverFollowed) {
    test::ScratchDir dir;
    test::ScratchDir elsewhere;
    const std::string victim = elsewhere.file("victim");
    write_text(victim, std::string(100, 'v'));

    // The log itself a symlink: left alone, the target neither read into .1 nor truncated.
    ASSERT_EQ(::symlink(victim.c_str(), dir.file("helper.log").c_str()), 0);
    auto planted = cap_log_in(dir.path(), "helper.log", 10);
    ASSERT_TRUE(planted) << planted.error().message();
    EXPECT_FALSE(*planted);
    EXPECT_EQ(read_text(victim), std::string(100, 'v'));
    EXPECT_FALSE(path_exists(dir.file("helper.log.1")));

    // <log>.1 a symlink: replaced by the rotation, its target untouched.
    write_text(dir.file("qemu.log"), std::string(50, 'q'));
    ASSERT_EQ(::symlink(victim.c_str(), dir.file("qemu.log.1").c_str()), 0);
    auto rotated = cap_log_in(dir.path(), "qemu.log", 10);
    ASSERT_TRUE(rotated) << rotated.error().message();
    EXPECT_TRUE(*rotated);
    EXPECT_EQ(read_text(victim), std::string(100, 'v'));
    struct stat st {};
    ASSERT_EQ(::lstat(dir.file("qemu.log.1").c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(read_text(dir.file("qemu.log.1")), std::string(50, 'q'));

    // The directory a symlink: refused.
    write_text(elsewhere.file("serial.log"), std::string(50, 's'));
    ASSERT_EQ(::symlink(elsewhere.path().c_str(), dir.file("linked").c_str()), 0);
    auto through = cap_log_in(dir.file("linked"), "serial.log", 10);
    EXPECT_FALSE(through && *through);
    EXPECT_EQ(read_text(elsewhere.file("serial.log")), std::string(50, 's'));
}

} // namespace
} // namespace fleetbox

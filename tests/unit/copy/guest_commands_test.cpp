// What a failed guest command means: the line chosen from its stderr and the error kind.
#include "copy/guest_commands.hpp"

#include <gtest/gtest.h>

namespace fleetbox::copy {
namespace {

Error error_of(std::string err, bool as_root = false, int code = 2) {
    guest::ExecResult r;
    r.exit_code = code;
    r.err = std::move(err);
    return guest_error(r, as_root);
}

TEST(GuestError, KindsFromTheReason) {
    auto full = error_of("tar: big.bin: Wrote only 2560 of 10240 bytes\n"
                         "/mnt/small/big.bin: No space left on device\n"
                         "tar: Exiting with failure status due to previous errors\n");
    EXPECT_EQ(full.kind, ErrorKind::NoSpace);
    EXPECT_EQ(full.message(), "guest tar: /mnt/small/big.bin: No space left on device");

    auto denied = error_of("mktemp: failed to create directory via template "
                           "'/root/.fleetbox-copy-XXXXXX': Permission denied\n");
    EXPECT_EQ(denied.kind, ErrorKind::Permission);
    EXPECT_NE(denied.hint.find("as_root"), std::string::npos);
    EXPECT_TRUE(error_of("sudo: a password is required\n", true, 1).hint.empty());
    EXPECT_EQ(error_of("sudo: a password is required\n", true, 1).kind, ErrorKind::Permission);

    auto missing = error_of("tar: nope: Cannot stat: No such file or directory\n"
                            "tar: Exiting with failure status due to previous errors\n");
    EXPECT_EQ(missing.kind, ErrorKind::NotFound);
    EXPECT_EQ(missing.message(), "guest tar: nope: Cannot stat: No such file or directory");

    auto other = error_of("tar: Ignoring unknown extended header keyword 'X'\n"
                          "tar: This does not look like a tar archive\n");
    EXPECT_EQ(other.kind, ErrorKind::ExternalCommand);
    EXPECT_EQ(other.message(), "guest tar: This does not look like a tar archive");
    EXPECT_EQ(error_of("", false, 9).message(), "guest tar: exited with status 9");
}

TEST(GuestCommands, QuotedPathsAndRoot) {
    auto dest = *parse_guest_path("/srv/it's here/x");
    auto up = upload_command(dest, "x", false);
    EXPECT_EQ(up.rfind("sh -c '", 0), 0U) << up;
    EXPECT_NE(up.find("it'\\''\\'\\'''\\''s here"), std::string::npos) << up;
    EXPECT_EQ(upload_command(dest, "x", true).rfind("sudo -n sh -c '", 0), 0U);
    auto down = download_command(*parse_guest_path("/etc/hostname"), false);
    EXPECT_NE(down.find("exec tar -c -f - -C '\\''/etc'\\'' -- '\\''hostname'\\''"),
              std::string::npos)
        << down;
    EXPECT_EQ(sentinel_for("app"), ".fleetbox-done");
    EXPECT_NE(sentinel_for(".fleetbox-done"), ".fleetbox-done");
}

} // namespace
} // namespace fleetbox::copy

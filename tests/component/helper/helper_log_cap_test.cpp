// The helper caps its own log: helper.log, which the launcher opens O_APPEND as the helper's
// stdout/stderr, is copied to helper.log.1 and truncated in place once it passes its cap, and
// the helper's next line lands at the start of the emptied file (no hole where the old content
// was). A symlink planted as helper.log is refused by the launcher, not followed.
#include "component/helper/helper_fixture.hpp"
#include "sys/fd.hpp"
#include "sys/log_cap.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class HelperLogCap : public HelperFixture {};

TEST_F(HelperLogCap, HelperLogIsRotatedInPlaceAndTheHelperWritesOnAtItsStart) {
    auto helper = launcher().spawn(store_, "web", client::HelperMode::Bound);
    ASSERT_TRUE(helper) << helper.error().message();
    const std::string log = helper->log_path();
    {
        Fd fd(::open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
        ASSERT_TRUE(fd);
        std::string junk(kHelperLogCap + 4096, 'j');
        ASSERT_EQ(::write(fd.get(), junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
    }
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!path_exists(log + ".1") && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(path_exists(log + ".1")) << "helper.log was never capped";
    EXPECT_GT(file_size(log + ".1").value_or(0), kHelperLogCap);
    ASSERT_TRUE(helper->client().status("web")); // one more line in the helper's log
    std::string text = read_text(log);
    EXPECT_LT(text.size(), kHelperLogCap);
    EXPECT_THAT(text, ::testing::Not(StartsWith(std::string(1, '\0'))))
        << "a hole before the new lines";
    EXPECT_THAT(text, HasSubstr("status web: ok"));
}

TEST_F(HelperLogCap, ASymlinkPlantedAsHelperLogIsNotFollowed) {
    ScratchDir elsewhere;
    write_text(elsewhere.file("victim"), "untouched\n");
    ASSERT_TRUE(store_.ensure_member_dir("web"));
    const std::string log = *store_.member_dir("web") + "/helper.log";
    ASSERT_EQ(::symlink(elsewhere.file("victim").c_str(), log.c_str()), 0);
    auto helper = launcher().spawn(store_, "web", client::HelperMode::Bound);
    EXPECT_FALSE(helper) << "the launcher wrote through a symlink";
    EXPECT_EQ(read_text(elsewhere.file("victim")), "untouched\n");
}

} // namespace
} // namespace fleetbox::test

// Component: `fleetbox cp` given bad input, run as a child process against a scratch store
// with the fake helper (no VM boots; as root, inside a private network namespace). Each case
// is one clear error line, exit 1, and nothing written on the host.
#include "e2e/vm/e2e_fixture.hpp"
#include "store/store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::test {
namespace {

using ::testing::IsEmpty;
using ::testing::StartsWith;

class CpErrors : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() == 0) {
            auto why = enter_private_netns();
            ASSERT_TRUE(why.empty()) << why;
        }
        store_ = std::make_unique<ScratchStore>();
        work_ = root() + "/work";
        ASSERT_TRUE(ensure_dir(work_));
    }
    void TearDown() override {
        if (store_) {
            EXPECT_THAT(store_processes(root()), IsEmpty()) << "a helper was left running";
        }
        store_.reset();
    }
    [[nodiscard]] const std::string& root() const { return store_->root(); }
    std::string error_of(std::vector<std::string> args) {
        CliOptions options;
        options.env_set.push_back("FLEETBOX_HELPER=" + built("tests/fleetbox-helper-fake"));
        options.timeout = std::chrono::seconds(60);
        args.insert(args.begin(), "cp");
        return the_error(run_fleetbox(root(), std::move(args), options));
    }
    std::unique_ptr<ScratchStore> store_;
    std::string work_;
};

TEST_F(CpErrors, ArgumentRules) {
    EXPECT_EQ(error_of({"a:/x", "b:/y"}),
              "error: VM-to-VM copy is not supported (one side must be a local path)");
    EXPECT_EQ(error_of({"a", "b"}), "error: either src or dst must use name:/path syntax");
    EXPECT_EQ(error_of({":/x", work_}), "error: invalid remote syntax: missing VM name before ':'");
    EXPECT_EQ(error_of({"web:etc/hostname", work_}),
              "error: guest path \"etc/hostname\" must be absolute");
    EXPECT_EQ(error_of({"web:/", work_}),
              "error: copying the guest root needs an explicit local destination path");
    EXPECT_EQ(*list_dir(work_), std::vector<std::string>{});
}

TEST_F(CpErrors, VmMissingOrStopped) {
    EXPECT_EQ(error_of({"web:/etc/hostname", work_}), "error: VM \"web\" does not exist");
    auto store = Store::open(root());
    ASSERT_TRUE(store) << store.error().message();
    ASSERT_TRUE(store->create(new_vm_config("web", 1, 1024, 20 * 1024, "debian-12")));
    EXPECT_EQ(error_of({work_, "web:/tmp/x"}), "error: VM \"web\" is not running");
    EXPECT_THAT(error_of({"Bad:/x", work_}), StartsWith("error: invalid VM name"));
    EXPECT_EQ(*list_dir(work_), std::vector<std::string>{});
}

} // namespace
} // namespace fleetbox::test

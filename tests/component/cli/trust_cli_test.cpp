// Component: the CLI never reads "I may not ask the helper" as "the VM is stopped" (issue 9).
//
// The reported bug, modelled exactly: the store belongs to a user, the VM's helper runs as
// root with its socket root's and 0600 (as `sudo fleetbox up` leaves it), and the user runs
// `fleetbox rm -f` without sudo. The user reaches run/ (it is theirs) but connect(2) on the
// socket fails with EACCES. That once counted as "no helper": rm deleted the running VM's
// directory and disk and unlinked the live helper's socket. Now rm fails with a permission
// error saying to use sudo, and nothing is touched; `ls` shows the VM's state as unknown.
// The other user is nobody (65534); the CLI runs as them through setpriv(1) (util-linux).
#include "client/helper_client.hpp"
#include "component/cli/fake_cli_fixture.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "store/store.hpp"
#include "support/as_user.hpp"

#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;

// lchown every file under `root` (and root) except sockets, which stay their creator's.
void give_tree_except_sockets(const std::string& root, uid_t uid, gid_t gid) {
    ASSERT_EQ(::lchown(root.c_str(), uid, gid), 0);
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root, ec)) {
        if (entry.is_socket())
            continue;
        ASSERT_EQ(::lchown(entry.path().c_str(), uid, gid), 0) << entry.path();
    }
    ASSERT_FALSE(ec) << ec.message();
}

class TrustCli : public FakeHelperCli {
protected:
    void SetUp() override {
        FakeHelperCli::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        if (find_program("setpriv").empty())
            GTEST_SKIP() << "setpriv (util-linux) is not installed";
        ASSERT_NO_FATAL_FAILURE(make_standin_image(root(), true));
    }
    void TearDown() override {
        remote_.reset();
        if (helper_ && helper_->running())
            helper_->kill(); // only when a test failed before stopping its VM
        FakeHelperCli::TearDown();
    }
    Store store() { return Store::open(root()).value(); }

    // web-1 running on a detached fake helper started by root, as `sudo fleetbox up` leaves it.
    void run_web1_as_root() {
        auto helper = spawn_detached_fake("web-1");
        ASSERT_TRUE(helper) << helper.error().message();
        helper_.emplace(std::move(*helper));
        auto s = store();
        auto remote = client::HelperClient::connect(
            s, "web-1", client::HelperClientOptions{std::chrono::seconds(10)});
        ASSERT_TRUE(remote) << remote.error().message();
        remote_ = std::move(*remote);
        ASSERT_TRUE(remote_->create_network({"web", "", {}}));
        auto reserved = remote_->reserve("web-1", "");
        ASSERT_TRUE(reserved) << reserved.error().message();
        VmConfig c = new_vm_config("web-1", 1, 512, 1024, "debian-12");
        c.ip = reserved->ip;
        c.provisioning = kMethodFleetboxSeed;
        ASSERT_TRUE(s.create(c));
        const std::string dir = s.member_dir("web-1").value();
        write_text(dir + "/disk.qcow2", "the guest's data\n");
        write_text(dir + "/seed.tar", "seed\n");
        auto booted = remote_->boot(standin_boot(s, "web-1"));
        ASSERT_TRUE(booted) << booted.error().message();
    }

    CliRun as_nobody(const std::vector<std::string>& args) {
        CliOptions options;
        options.env_set = {"FLEETBOX_HELPER=" + built("tests/fleetbox-helper-fake"),
                           "FLEETBOX_FAKE_RECORD=" + record_};
        options.timeout = std::chrono::seconds(90);
        options.prefix = {find_program("setpriv"), "--reuid=65534", "--regid=65534",
                          "--clear-groups", "--"};
        return run_fleetbox(root(), args, options);
    }

    std::optional<ChildProcess> helper_;
    std::unique_ptr<client::HelperClient> remote_;
};

TEST_F(TrustCli, RmWithoutSudoLeavesARunningVmAndItsDiskAndSaysWhy) {
    ASSERT_NO_FATAL_FAILURE(run_web1_as_root());
    // Opened while root still owns the store (an owner check may refuse it afterwards).
    Store s = store();
    const std::string dir = s.member_dir("web-1").value();
    const std::string socket = s.socket_path("web-1").value();
    ASSERT_NO_FATAL_FAILURE(give_tree_except_sockets(root(), kNobody, kNobody));
    struct stat st {};
    ASSERT_EQ(::stat(socket.c_str(), &st), 0);
    ASSERT_EQ(st.st_uid, 0U) << "the helper's socket is root's";

    auto rm = as_nobody({"rm", "-f", "web-1"});
    EXPECT_EQ(rm.code, 1) << rm;
    EXPECT_THAT(rm.err, HasSubstr("permission denied")) << rm;
    EXPECT_THAT(rm.err, HasSubstr("run with sudo")) << rm;
    EXPECT_TRUE(path_exists(dir + "/config.json")) << rm;
    EXPECT_EQ(read_text(dir + "/disk.qcow2"), "the guest's data\n") << rm;
    EXPECT_TRUE(path_exists(socket)) << "the live helper's socket was unlinked";
    auto status = remote_->status("web-1");
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(status->state, proto::MemberState::Running);
    auto fresh = client::HelperClient::connect(s, "web-1");
    EXPECT_TRUE(fresh) << "the helper no longer answers on its socket: " << fresh.error().message();

    // ls does not call it stopped either.
    auto ls = as_nobody({"ls"});
    EXPECT_EQ(ls.code, 0) << ls;
    EXPECT_THAT(ls.out, ::testing::ContainsRegex("web-1 +web +[0-9.-]+ +unknown")) << ls;
    EXPECT_THAT(ls.out, ::testing::Not(HasSubstr("stopped"))) << ls;
    EXPECT_THAT(ls.err, HasSubstr("warning: state of web-1 unknown")) << ls;
    EXPECT_THAT(ls.err, HasSubstr("run with sudo")) << ls;
    auto json = as_nobody({"ls", "-o", "json"});
    auto doc = nlohmann::json::parse(json.out, nullptr, false);
    ASSERT_TRUE(doc.is_array() && doc.size() == 1) << json;
    EXPECT_EQ(doc[0].value("state", ""), "unknown");

    // With the store back in root's hands (as under sudo), rm stops and deletes it.
    ASSERT_NO_FATAL_FAILURE(give_tree_except_sockets(root(), 0, 0));
    remote_.reset();
    auto rm_root = fleetbox({"rm", "-f", "web-1"});
    EXPECT_EQ(rm_root.code, 0) << rm_root;
    EXPECT_FALSE(path_exists(dir));
    EXPECT_TRUE(helper_->wait(std::chrono::seconds(10))) << "the helper outlived its last VM";
}

} // namespace
} // namespace fleetbox::test

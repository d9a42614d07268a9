// QemuBackend notices a QEMU that exits by itself at once: real QEMU booting a fake kernel
// (component/vm/fake_guest.hpp) on a real tap, inside the test's private network namespace.
// The member's "port 22" is a listener on its own address, added to `lo`, so the boot
// completes without a guest OS. Then QEMU ends as a guest poweroff ends it (a clean exit with
// status 0: here SIGTERM, which QEMU answers by exiting 0) or as a crash does (SIGKILL): the
// backend's handler hears of it without anyone asking, the tap is gone from the host and from
// the network record, the member reads stopped, or error naming the signal and both logs, and
// boots again. A detached helper's backend also drops its network when no member is left.
// A running member's serial.log and qemu.log are capped (sys/log_cap.hpp).
#include "backend_qemu/qemu_backend.hpp"
#include "component/net/netns_fixture.hpp"
#include "component/vm/fake_guest.hpp"
#include "net/network_record.hpp"
#include "store/store.hpp"
#include "support/test_support.hpp"
#include "sys/fd.hpp"
#include "sys/fs.hpp"
#include "sys/log_cap.hpp"

#include <arpa/inet.h>
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace fleetbox {
namespace {

using test::NetnsTest;
using test::run_out;
using ::testing::HasSubstr;

class QemuExit : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        if (find_program(kQemuProgram).empty())
            GTEST_SKIP() << "qemu-system-x86_64 not installed";
        auto store = Store::open(root_.path());
        ASSERT_TRUE(store) << store.error().message();
        store_.emplace(std::move(*store));
        ASSERT_TRUE(ensure_dir(store_->run_dir(), 0700));
        test::write_fake_kernel(root_.file("vmlinuz"), true);
        test::write_text(root_.file("initrd.img"), "not an initramfs\n");
    }
    void TearDown() override {
        if (listener_ >= 0)
            ::close(listener_);
    }

    std::unique_ptr<backend::QemuBackend> make(bool detached) {
        auto b = std::make_unique<backend::QemuBackend>(*store_, AccelChoice{}, nullptr, detached);
        b->on_member_exit([this](const backend::MemberExit& e) {
            std::lock_guard lock(mutex_);
            exits_.push_back(e);
            heard_.notify_all();
        });
        return b;
    }

    // Network, reservation, a listener standing in for the guest's sshd, and the boot.
    proto::Booted boot(backend::QemuBackend& b, const std::string& name) {
        auto net = b.create_network({"fake", "", {}});
        EXPECT_TRUE(net) << net.error().message();
        auto reserved = b.reserve(name, "");
        EXPECT_TRUE(reserved) << reserved.error().message();
        if (!reserved)
            return {};
        if (listener_ < 0) {
            run_out({"ip", "addr", "add", reserved->ip + "/32", "dev", "lo"});
            listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(22);
            ::inet_pton(AF_INET, reserved->ip.c_str(), &a.sin_addr);
            EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
            EXPECT_EQ(::listen(listener_, 16), 0);
        }
        proto::BootSpec spec;
        spec.name = name;
        spec.member_dir = *store_->ensure_member_dir(name);
        spec.kernel_path = root_.file("vmlinuz");
        spec.initrd_path = root_.file("initrd.img");
        spec.mac = "52:54:00:12:34:56";
        spec.cpus = 1;
        spec.memory_mb = 128;
        spec.boot_timeout_s = 120;
        auto booted = b.boot(spec);
        EXPECT_TRUE(booted) << booted.error().message();
        return booted ? *booted : proto::Booted{};
    }

    // The exits heard so far, waiting (bounded, generously) for at least `n`.
    std::vector<backend::MemberExit> heard(std::size_t n) {
        std::unique_lock lock(mutex_);
        heard_.wait_for(lock, std::chrono::seconds(60), [&] { return exits_.size() >= n; });
        return exits_;
    }

    std::vector<NetworkRecord> records() const {
        std::vector<NetworkRecord> out;
        auto paths = list_records(*store_->networks_dir()).value_or(std::vector<std::string>{});
        for (const auto& path : paths)
            if (auto r = read_record(path))
                out.push_back(*r);
        return out;
    }

    test::ScratchDir root_;
    std::optional<Store> store_;
    int listener_ = -1;
    std::mutex mutex_;
    std::condition_variable heard_;
    std::vector<backend::MemberExit> exits_;
};

TEST_F(QemuExit, ACleanExitIsStoppedACrashIsAnErrorAndTheMemberBootsAgain) {
    auto b = make(/*detached=*/false);
    auto first = boot(*b, "fake-1");
    ASSERT_GT(first.qemu_pid, 0);
    ASSERT_EQ(list_links_with_prefix("fbt-")->size(), 1U);
    ASSERT_EQ(records().at(0).taps.size(), 1U);

    // As after a guest poweroff: QEMU exits with status 0.
    ASSERT_EQ(::kill(first.qemu_pid, SIGTERM), 0);
    auto exits = heard(1);
    ASSERT_EQ(exits.size(), 1U) << "nobody asked, and the backend heard of it";
    EXPECT_EQ(exits[0].name, "fake-1");
    EXPECT_EQ(exits[0].state, proto::MemberState::Stopped);
    EXPECT_TRUE(exits[0].idle);
    EXPECT_TRUE(list_links_with_prefix("fbt-")->empty()) << "the tap stayed";
    EXPECT_TRUE(records().at(0).taps.empty()) << "the record still names the tap";
    auto status = b->status("fake-1");
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(status->state, proto::MemberState::Stopped);
    EXPECT_EQ(status->error, "");
    EXPECT_EQ(b->active_members(), 0);

    // Boots again, then crashes.
    auto second = boot(*b, "fake-1");
    ASSERT_GT(second.qemu_pid, 0);
    ASSERT_EQ(::kill(second.qemu_pid, SIGKILL), 0);
    exits = heard(2);
    ASSERT_EQ(exits.size(), 2U);
    EXPECT_EQ(exits[1].state, proto::MemberState::Error);
    const std::string dir = *store_->member_dir("fake-1");
    EXPECT_THAT(exits[1].error, HasSubstr("killed by SIGKILL"));
    EXPECT_THAT(exits[1].error, HasSubstr(dir + "/qemu.log"));
    EXPECT_THAT(exits[1].error, HasSubstr(dir + "/serial.log"));
    EXPECT_TRUE(list_links_with_prefix("fbt-")->empty());
    status = b->status("fake-1");
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(status->state, proto::MemberState::Error);
    EXPECT_EQ(status->error, exits[1].error);
    EXPECT_EQ(status->qemu_pid, 0);

    // stop() of the errored member cleans it up: stopped, no error.
    ASSERT_TRUE(b->stop("fake-1"));
    status = b->status("fake-1");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->state, proto::MemberState::Stopped);
    EXPECT_EQ(status->error, "");
    ASSERT_TRUE(b->shutdown());
    EXPECT_TRUE(records().empty());
}

TEST_F(QemuExit, ARunningMembersLogsAreCapped) {
    auto b = make(/*detached=*/false);
    auto booted = boot(*b, "fake-1");
    ASSERT_GT(booted.qemu_pid, 0);
    const std::string dir = *store_->member_dir("fake-1");
    // A guest that floods its console (appended as QEMU appends), and a chatty QEMU.
    auto flood = [](const std::string& path, std::size_t bytes) {
        Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
        ASSERT_TRUE(fd) << path;
        std::string chunk(1 << 20, 'x');
        for (std::size_t done = 0; done < bytes; done += chunk.size())
            ASSERT_EQ(::write(fd.get(), chunk.data(), chunk.size()),
                      static_cast<ssize_t>(chunk.size()));
    };
    ASSERT_NO_FATAL_FAILURE(flood(dir + "/serial.log", kSerialLogCap + (1 << 20)));
    ASSERT_NO_FATAL_FAILURE(flood(dir + "/qemu.log", kQemuLogCap + (1 << 20)));
    // Done once both copies exist and both logs were truncated: the copy is renamed into
    // place before the truncate (sys/log_cap.cpp), so seeing the copy alone is not the end.
    auto rotated = [&] {
        return path_exists(dir + "/serial.log.1") && path_exists(dir + "/qemu.log.1") &&
               file_size(dir + "/serial.log").value_or(0) <= kSerialLogCap &&
               file_size(dir + "/qemu.log").value_or(0) <= kQemuLogCap;
    };
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!rotated() && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_LE(file_size(dir + "/serial.log").value_or(0), kSerialLogCap);
    EXPECT_GT(file_size(dir + "/serial.log.1").value_or(0), kSerialLogCap);
    EXPECT_LE(file_size(dir + "/qemu.log").value_or(0), kQemuLogCap);
    EXPECT_GT(file_size(dir + "/qemu.log.1").value_or(0), kQemuLogCap);
    // The fake guest ignores the ACPI power button: end QEMU quickly rather than through stop.
    ASSERT_EQ(::kill(booted.qemu_pid, SIGKILL), 0);
    EXPECT_EQ(heard(1).size(), 1U);
}

TEST_F(QemuExit, ADetachedBackendDropsItsNetworkWhenItsLastQemuExits) {
    auto b = make(/*detached=*/true);
    auto booted = boot(*b, "fake-1");
    ASSERT_GT(booted.qemu_pid, 0);
    auto bridges = list_links_with_prefix("fbx-");
    ASSERT_EQ(bridges->size(), 1U);
    ASSERT_EQ(::kill(booted.qemu_pid, SIGKILL), 0);
    auto exits = heard(1);
    ASSERT_EQ(exits.size(), 1U);
    EXPECT_TRUE(exits[0].idle);
    // The handler hears of it once the network is gone, like the reply to the last stop.
    EXPECT_TRUE(list_links_with_prefix("fbx-")->empty()) << "the bridge stayed";
    EXPECT_TRUE(list_links_with_prefix("fbt-")->empty()) << "the tap stayed";
    EXPECT_TRUE(records().empty()) << "the record stayed";
}

} // namespace
} // namespace fleetbox

// Shared fixture for the helper component tests: a scratch store, the test-only
// fleetbox-helper-fake binary, the fake backend's call record, and process-liveness checks.
//
// Liveness: a process that exited but was not reaped (a zombie, e.g. a helper reparented to
// a PID 1 that does not reap) counts as gone; it holds no sockets and runs no code.
#pragma once

#include "client/helper_client.hpp"
#include "client/helper_launcher.hpp"
#include "proto/messages.hpp"
#include "store/store.hpp"
#include "support/test_support.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <csignal>
#include <dirent.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fleetbox::test {

inline bool process_gone(pid_t pid) {
    if (pid <= 0)
        return true;
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty())
        return true;
    auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

inline bool wait_gone(pid_t pid, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!process_gone(pid)) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// Live processes whose command line contains `text` (e.g. a store root passed as --store).
inline std::vector<pid_t> processes_mentioning(const std::string& text) {
    std::vector<pid_t> found;
    DIR* proc = ::opendir("/proc");
    if (!proc)
        return found;
    while (dirent* entry = ::readdir(proc)) {
        pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
        if (pid <= 0 || pid == ::getpid())
            continue;
        std::string cmdline = read_text(std::string("/proc/") + entry->d_name + "/cmdline");
        if (cmdline.find(text) != std::string::npos && !process_gone(pid))
            found.push_back(pid);
    }
    ::closedir(proc);
    return found;
}

class HelperFixture : public ::testing::Test {
protected:
    HelperFixture()
        : home_("FLEETBOX_HOME", scratch_.file("store")),
          record_("FLEETBOX_FAKE_RECORD", scratch_.file("record")),
          delay_("FLEETBOX_FAKE_BOOT_DELAY_MS", std::nullopt),
          fail_("FLEETBOX_FAKE_FAIL_BOOT", std::nullopt),
          helper_env_("FLEETBOX_HELPER", std::nullopt), store_(open_store()) {}

    ~HelperFixture() override {
        // Never leave a helper behind for the next test, even when an assertion failed.
        for (pid_t pid : processes_mentioning(store_.root()))
            ::kill(pid, SIGKILL);
    }

    Store open_store() {
        auto store = Store::open(scratch_.file("store"));
        if (!store)
            throw std::runtime_error(store.error().message());
        return std::move(*store);
    }

    static std::string fake_helper() { return built("tests/fleetbox-helper-fake"); }

    client::HelperLauncher launcher(client::LaunchOptions options = {}) const {
        return client::HelperLauncher(fake_helper(), std::move(options));
    }

    client::HelperHandle spawn(const std::string& member,
                               client::HelperMode mode = client::HelperMode::Bound) {
        auto handle = launcher().spawn(store_, member, mode);
        if (!handle)
            throw std::runtime_error(handle.error().message());
        return std::move(*handle);
    }

    // A boot spec whose every path is inside the store (the files need not exist).
    proto::BootSpec spec_for(const std::string& name) const {
        std::string dir = *store_.member_dir(name);
        proto::BootSpec spec;
        spec.name = name;
        spec.member_dir = dir;
        spec.disk_path = dir + "/disk.qcow2";
        spec.base_image_path = store_.images_dir() + "/debian-12/disk.qcow2";
        spec.seed_path = dir + "/seed.iso";
        spec.kernel_path = store_.images_dir() + "/debian-12/vmlinuz";
        spec.initrd_path = store_.images_dir() + "/debian-12/initrd.img";
        spec.mac = "52:54:00:12:34:56";
        spec.boot_timeout_s = 30;
        return spec;
    }

    // Network, reservation and boot of `name` through `backend` (a HelperClient, or a
    // backend::Backend driven in-process).
    template <typename Driver>
    static proto::Booted boot(Driver& backend, const proto::BootSpec& spec) {
        EXPECT_TRUE(backend.create_network({}));
        EXPECT_TRUE(backend.reserve(spec.name, ""));
        auto booted = backend.boot(spec);
        if (!booted)
            throw std::runtime_error(booted.error().message());
        return *booted;
    }

    // The fake backend's record: one {"call":..., "name":...} object per line.
    std::vector<nlohmann::json> recorded() const {
        std::vector<nlohmann::json> calls;
        for (const auto& line : split(read_text(scratch_.file("record")), '\n'))
            if (!line.empty())
                calls.push_back(nlohmann::json::parse(line));
        return calls;
    }

    int count_calls(const std::string& call, const std::string& name = {}) const {
        int n = 0;
        for (const auto& c : recorded())
            if (c.value("call", "") == call && (name.empty() || c.value("name", "") == name))
                ++n;
        return n;
    }

    std::string socket_of(const std::string& name) const { return *store_.socket_path(name); }

    ScratchDir scratch_;
    ScopedEnv home_;
    ScopedEnv record_;
    ScopedEnv delay_;
    ScopedEnv fail_;
    ScopedEnv helper_env_;
    Store store_;
};

} // namespace fleetbox::test

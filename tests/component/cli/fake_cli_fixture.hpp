// The base of CLI component tests that run the real fleetbox binary with the fake helper:
// root (the CLI's CAP_NET_ADMIN check comes first), a private netns, a scratch store, the
// fake's call record (FLEETBOX_FAKE_RECORD), and a stand-in debian-12 image: a real (empty)
// qcow2 base, placeholder kernel and initrd, and a manifest that either lists the fast path
// (an image built since ADR 0012) or says nothing about provisioning (an image built before
// it). Nothing boots it: the fake helper only records what it was asked.
#pragma once

#include "e2e/vm/e2e_fixture.hpp"
#include "image/manifest.hpp"
#include "proto/messages.hpp"
#include "store/store.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>

namespace fleetbox::test {

// Call with ASSERT_NO_FATAL_FAILURE.
inline void make_standin_image(const std::string& root, bool fast) {
    const std::string dir = root + "/images/debian-12";
    ASSERT_TRUE(ensure_dir(dir));
    ChildSpec create;
    create.argv = {"qemu-img", "create", "-q", "-f", "qcow2", dir + "/disk.qcow2", "64M"};
    ASSERT_TRUE(run_checked(create, std::chrono::seconds(30)));
    write_text(dir + "/vmlinuz", "kernel\n");
    write_text(dir + "/initrd.img", "initrd\n");
    image::Manifest m;
    m.alias = "debian-12";
    m.built_at = "2026-11-28T18:30:00Z";
    m.virtual_size = 64ULL << 20;
    for (const char* name : {"disk.qcow2", "vmlinuz", "initrd.img"})
        m.files.push_back({name, file_size(dir + "/" + name).value(), std::string(64, '0')});
    if (fast)
        m.provisioning = {{"fleetbox-seed", "fleetbox.seed=/dev/vdb cloud-init=disabled"},
                          {"nocloud", "nc-words"}};
    auto doc = nlohmann::json::parse(image::manifest_to_json(m));
    if (!fast)
        doc.erase("provisioning"); // exactly what a manifest from before the fast path holds
    write_text(dir + "/manifest.json", doc.dump(2));
}

class FakeHelperCli : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "the CLI's root check (CAP_NET_ADMIN) comes first";
        if (find_program("qemu-img").empty())
            GTEST_SKIP() << "qemu-img is not installed";
        auto why = enter_private_netns();
        ASSERT_TRUE(why.empty()) << why;
        store_ = std::make_unique<ScratchStore>();
        record_ = root() + "/record.jsonl";
    }
    void TearDown() override {
        if (store_) {
            EXPECT_TRUE(wait_no_store_processes(root(), std::chrono::seconds(10)))
                << "a helper was left running";
        }
        store_.reset();
    }
    [[nodiscard]] const std::string& root() const { return store_->root(); }

    // fleetbox ARGS with the fake helper and its record, plus `env` ("KEY=VALUE").
    CliRun fleetbox(const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {}) {
        CliOptions options;
        options.env_set = {"FLEETBOX_HELPER=" + built("tests/fleetbox-helper-fake"),
                           "FLEETBOX_FAKE_RECORD=" + record_};
        options.env_set.insert(options.env_set.end(), env.begin(), env.end());
        options.timeout = std::chrono::seconds(90);
        return run_fleetbox(root(), args, options);
    }
    // Every recorded call named `call`, in order.
    std::vector<nlohmann::json> calls(const std::string& call) const {
        std::vector<nlohmann::json> out;
        for (const auto& line : split(read_file(record_).value_or(""), '\n')) {
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_object() && j.value("call", "") == call)
                out.push_back(j);
        }
        return out;
    }

    // A detached fake helper serving `member`, started by this (root) process, as an earlier
    // `sudo fleetbox up` leaves one; `env` adds "KEY=VALUE" entries (e.g. fault injection).
    Result<ChildProcess> spawn_detached_fake(const std::string& member,
                                             const std::vector<std::string>& env = {}) {
        ChildSpec spec;
        spec.argv = {built("tests/fleetbox-helper-fake"),
                     "--store",
                     root(),
                     "--member",
                     member,
                     "--mode",
                     "detached"};
        spec.env_set = {"FLEETBOX_FAKE_RECORD=" + record_};
        spec.env_set.insert(spec.env_set.end(), env.begin(), env.end());
        spec.out = spec.err = Stream::Null;
        return ChildProcess::spawn(spec);
    }
    // The boot spec of `name` on the stand-in image (fast path: seed.tar).
    static proto::BootSpec standin_boot(const Store& s, const std::string& name) {
        proto::BootSpec boot;
        boot.name = name;
        boot.member_dir = s.member_dir(name).value();
        boot.disk_path = boot.member_dir + "/disk.qcow2";
        boot.seed_path = boot.member_dir + "/seed.tar";
        boot.kernel_path = s.images_dir() + "/debian-12/vmlinuz";
        boot.initrd_path = s.images_dir() + "/debian-12/initrd.img";
        boot.mac = "52:54:00:12:34:56";
        return boot;
    }

    std::unique_ptr<ScratchStore> store_;
    std::string record_;
};

} // namespace fleetbox::test

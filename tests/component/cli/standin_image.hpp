// A stand-in debian-12 image for CLI component tests with the fake helper: a real (empty)
// qcow2 base, placeholder kernel and initrd, and a manifest that either lists the fast path
// (an image built since ADR 0012) or says nothing about provisioning (an image built before
// it). Nothing boots it: the fake helper only records what it was asked.
#pragma once

#include "e2e/vm/e2e_fixture.hpp"
#include "image/manifest.hpp"

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

} // namespace fleetbox::test

// Read-only fixtures (Options::fixtures): host directories a VM sees read-only at fixed guest
// paths (reference §9, ADR 0019).
//
// Why these pieces live in the client: the set is checked and frozen when the client creates
// a VM (config.json records it), the images are built by the client as the invoking user
// (never root: a host directory is the user's, read with the user's rights), and the client
// is what reports a VM ready, so it is the one that makes sure every fixture is mounted
// before it does. The helper only attaches the images it is given (inside the member dir).
//
// Lifecycle of one fixture i of a VM:
//   create:       resolve_fixtures() checks the options (nothing is created on failure) and
//                 returns the entries config.json keeps (host path absolute, label FBFIX<i>);
//   every boot:   build_fixture_images() packs each host directory into
//                 <member dir>/fixture-<i>.img (fixture_image.cpp), the helper attaches it
//                 read-only (serial fbxfix<i>), the guest's seed unit mounts it (fast path),
//                 and ensure_fixture_mounts() checks over SSH that each guest path is a
//                 read-only mount, mounting it itself when the guest did not (cloud-init).
#pragma once

#include "guest/guest_shell.hpp"
#include "seed/cloud_config.hpp"
#include "store/config.hpp"
#include "util/error.hpp"

#include <chrono>
#include <cstddef>
#include <fleetbox/options.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::client {

// "FBFIX<i>": the ext4 volume label of fixture i (what the guest mounts by).
std::string fixture_label(std::size_t index);
// "fixture-<i>.img": the image's file name in the member directory.
std::string fixture_image_name(std::size_t index);
// A path in double quotes for a one-line message: '"' and '\\' escaped, control bytes as \xNN.
std::string quote_path(std::string_view path);

// Checks the options' fixtures and returns them as config.json records them. One
// InvalidArgument line naming the entry for: more than kMaxFixtures, a guest path that is
// not absolute, is "/", has "." or ".." components, whitespace or control characters, names
// a system directory the guest needs (/etc, /usr, /home, ...), is given twice, or nests in
// another; an empty host path or one that is not a directory. A missing host path is
// NotFound. Relative host paths are made absolute against `cwd` (empty: the process's).
Result<std::vector<StoredFixture>> resolve_fixtures(const std::vector<Fixture>& fixtures,
                                                    const std::string& cwd = {});

// The seed's mount lines for the stored fixtures (label, guest path).
std::vector<seed::SeedMount> seed_mounts(const std::vector<StoredFixture>& fixtures);

// Builds <member_dir>/fixture-<i>.img for each fixture from its host directory (see
// fixture_image.cpp); returns the image paths in order. Blocks for one mkfs.ext4 and one
// debugfs run per fixture (bounded by `timeout` each). On failure no image is left under a
// final name and the error names the fixture (NotFound: the host directory is gone;
// InvalidArgument: a special file or an unreadable entry in it; ExternalCommand: mkfs).
Result<std::vector<std::string>>
build_fixture_images(const std::vector<StoredFixture>& fixtures, const std::string& member_dir,
                     std::chrono::milliseconds timeout = std::chrono::minutes(5));

// The guest command that makes every fixture a read-only mount at its guest path (idempotent:
// a path that is already a mount point is left as it is) and prints one line per fixture,
// "<options>" of that mount as findmnt shows them. Run as root (it uses sudo -n).
std::string fixture_mount_command(const std::vector<StoredFixture>& fixtures);

// Runs fixture_mount_command over `shell` (bounded by `timeout`) and checks each reported
// mount is read-only: an error naming the guest path otherwise (Timeout, ExternalCommand).
Status ensure_fixture_mounts(guest::GuestShell& shell, const std::vector<StoredFixture>& fixtures,
                             std::chrono::milliseconds timeout);

} // namespace fleetbox::client

// How a VM's identity reaches its guest: the seed a VM gets at create, by method.
//
// Two implementations of one small interface (ADR 0012):
//  - NoCloud ("nocloud"): an ISO labelled cidata that cloud-init reads at boot. Works with any
//    image that has cloud-init: stock cloud images, and images built before the fast path.
//  - Fleetbox seed ("fleetbox-seed"): a tar of ready-made files (fast_seed.hpp) that a unit
//    baked into images fleetbox builds applies in well under a second; no cloud-init runs.
// Which one a VM uses is chosen at create from the image's manifest (the methods it supports,
// preferred first) and recorded in the VM's config.json, so every later boot of that disk
// takes the same path. The kernel command line words that select a method in the guest
// belong to the image and travel in its manifest; this layer only writes seeds.
#pragma once

#include "seed/cloud_config.hpp"
#include "util/error.hpp"
#include "util/provisioning_methods.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::seed {

enum class Provisioning { NoCloud, FleetboxSeed };

std::string_view to_string(Provisioning method);
// "nocloud" or "fleetbox-seed"; InvalidArgument listing both otherwise.
Result<Provisioning> parse_provisioning(std::string_view text);

class Provisioner {
public:
    virtual ~Provisioner() = default;
    [[nodiscard]] virtual Provisioning method() const = 0;
    // The seed's file name in the member directory, e.g. "seed.iso".
    [[nodiscard]] virtual const char* seed_file_name() const = 0;
    // Renders the identity and writes the seed atomically (0600: it holds the host key).
    [[nodiscard]] virtual Status write_seed(const SeedSpec& spec,
                                            const std::string& path) const = 0;
};

const Provisioner& provisioner_for(Provisioning method);

// The method for a new VM: `requested` when the image supports it, else the image's first.
// `supported` is the manifest's list in preference order (names as above; unknown names are
// skipped: a newer image may offer a method this binary does not know). An empty list means
// an image from before the fast path, which supports only NoCloud. Asking for a method the
// image lacks is InvalidArgument naming the image and what it supports.
Result<Provisioning> choose_provisioning(const std::vector<std::string>& supported,
                                         std::optional<Provisioning> requested,
                                         const std::string& image);

} // namespace fleetbox::seed

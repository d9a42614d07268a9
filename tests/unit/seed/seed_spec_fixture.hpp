// A valid SeedSpec for the seed tests (fresh keys each call).
#pragma once

#include "seed/cloud_config.hpp"
#include "ssh/keys.hpp"

#include <gtest/gtest.h>

namespace fleetbox::seed::testing {

inline SeedSpec valid_spec(std::string name = "web-1") {
    SeedSpec spec;
    spec.name = std::move(name);
    auto user = ssh::generate_ed25519("user@host");
    auto host = ssh::generate_ed25519("");
    EXPECT_TRUE(user && host);
    spec.user_public_key = user ? user->public_line : "";
    if (host)
        spec.host_key = *host;
    spec.mac = "52:54:00:AB:cd:01";
    spec.ip_cidr = "192.168.50.10/24";
    spec.gateway = "192.168.50.1";
    spec.nameservers = {"1.1.1.1", "8.8.8.8"};
    return spec;
}

} // namespace fleetbox::seed::testing

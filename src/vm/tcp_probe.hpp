// One bounded TCP connect, to tell whether a guest's port accepts connections yet.
//
// Why: SSH readiness is polled with a plain TCP connect to <ip>:22 before any SSH handshake
// (reference/boot-tcg.md: the guest answers RST once it has its address but before sshd
// listens, so "refused" and "unreachable" both just mean "not yet"). The connect runs in the
// caller's network namespace, which for fleetbox is the helper's.
#pragma once

#include "util/error.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace fleetbox {

// true: a connection was accepted (and closed again); false: refused, unreachable or no answer
// within `timeout`. An address that is not a literal IPv4/IPv6 address is InvalidArgument.
Result<bool> tcp_port_open(const std::string& ip, std::uint16_t port,
                           std::chrono::milliseconds timeout);

} // namespace fleetbox

// Bounded TCP connects to a guest: the socket libssh then speaks SSH over, and the bare
// probe that tells whether a guest's port accepts connections yet (reference/boot-tcg.md: the
// guest answers RST once it has its address but before sshd listens, so "refused" and
// "unreachable" both just mean "not yet").
//
// Why our own connect instead of libssh's: libssh reports a refused or timed-out connect only
// as a message string, while fleetbox must tell "nothing listens yet" (Network: keep polling)
// from "no answer at all" (Timeout) and name the VM. A non-blocking connect(2) + poll(2) for
// POLLOUT + SO_ERROR gives the exact errno; the connected socket is then handed to libssh
// (SSH_OPTIONS_FD). Connects run in the caller's network namespace.
//
// Addresses are numeric only (AI_NUMERICHOST): guests are always dialed by their assigned IP,
// and a name would mean a DNS query leaving the host, which fleetbox never makes.
#pragma once

#include "sys/fd.hpp"
#include "util/error.hpp"

#include <chrono>
#include <string>

namespace fleetbox {

// A connected, non-blocking, close-on-exec, TCP_NODELAY socket to host:port (a literal IPv4/IPv6
// address). `what` names the peer in errors, e.g. "VM web". Errors:
// refused / unreachable / reset → Network (with errno); no answer within `timeout` → Timeout;
// anything but a literal address → InvalidArgument.
Result<Fd> tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout,
                       const std::string& what);

// Connects and closes again: Ok when something accepts connections at host:port, else the
// error tcp_connect() would return.
Status tcp_probe(const std::string& host, int port, std::chrono::milliseconds timeout,
                 const std::string& what = "host");

// "192.168.5.2:22", "[fd00::2]:22".
std::string endpoint(const std::string& host, int port);

} // namespace fleetbox

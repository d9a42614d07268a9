// Running nft commands in-process through libnftables, with output and errors captured.
//
// Why the library and not the `nft` binary: no dependency on a program being on PATH, no
// output scraping of a human format (listings come back as JSON), and the kernel's error
// text is available as a string to turn into one fleetbox error line. Acts on the network
// namespace of the caller: each run opens a fresh context (and netlink socket).
#pragma once

#include "util/error.hpp"

#include <string>

namespace fleetbox {

// Run an nft script (one transaction). `operation` names the step in errors, e.g.
// "install firewall for fbx-1a2b3c4d". EPERM becomes a Permission error with the root hint.
Status nft_run(const std::string& operation, const std::string& script);
// Run a listing command ("list tables", "list table ip fbx_x") and return its JSON output.
Result<std::string> nft_list_json(const std::string& operation, const std::string& command);

} // namespace fleetbox

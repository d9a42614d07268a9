// The cluster block of a guest's /etc/hosts: the other members of its cluster, between two
// marker lines, kept current by the host (ADR 0014).
//
//   # fleetbox cluster begin (kept current by the host; edits inside are replaced)
//   192.168.50.11	web-2
//   # fleetbox cluster end
//
// Why a marked block: the host owns only these lines. The seed writes the whole file at boot
// (hosts_file.hpp), with the block; later the host replaces just the block over SSH when
// members come and go, so lines a test added elsewhere in /etc/hosts survive, and a reboot
// and a push leave the file in the same shape.
//
// The replacement runs in the guest as one command (cluster_block_command): a fixed POSIX sh
// program that takes the new block on stdin (data, never interpolated into the command) and
// the file as $1, writes a temporary file beside it and renames it over the original, so a
// reader sees the old file or the new one, never a mix. It refuses a block that does not end
// with the end marker (stdin cut short by a dropped connection). splice_cluster_block is the
// same edit as a pure function: the specification the program is tested against.
#pragma once

#include "seed/hosts_file.hpp"
#include "util/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::seed {

// A line starting with the begin marker opens the block; one starting with the end marker
// closes it.
inline constexpr std::string_view kClusterBlockBegin = "# fleetbox cluster begin";
inline constexpr std::string_view kClusterBlockEnd = "# fleetbox cluster end";

// The begin line, "<ip>\t<name>" per entry in order, the end line; each line ends with '\n'.
// InvalidArgument (validate_host_entries) for a malformed address or name.
Result<std::string> render_cluster_block(const std::vector<HostEntry>& entries);

// `hosts` (a whole /etc/hosts) with its cluster block replaced by `block`:
//  - the first block (begin line through end line, or through the end of the text when the
//    end line is missing) becomes `block`; any further block is dropped;
//  - without a block, `block` is appended;
//  - every other line is kept as it was; each output line ends with '\n'.
// `block` is expected to be render_cluster_block output (it is inserted as given).
std::string splice_cluster_block(std::string_view hosts, std::string_view block);

// The guest program (POSIX sh: dash, busybox sh) applying splice_cluster_block to the file
// named by $1 with the block read from stdin. Exit 0 when the file was replaced; non-zero with
// one line on stderr otherwise (malformed block, cannot write the directory).
std::string cluster_block_script();

// The command line for the guest user's login shell:
//   sudo -n /bin/sh -c '<script>' fleetbox-hosts <path>
// (without "sudo -n" when sudo is false). The block goes to the command's stdin.
std::string cluster_block_command(const std::string& hosts_path = "/etc/hosts", bool sudo = true);

} // namespace fleetbox::seed

// upload and download: one file or tree between the host and a guest, as a tar stream over
// one SSH channel of the VM's shared connection.
//
// Why tar over SSH: the guest needs nothing but sshd and GNU tar (both in every Debian
// image); one channel carries any tree with its modes and symlinks at SSH's throughput, with
// no temporary archive on either side (docs/adr/0017-copy-as-tar-over-ssh.md). Both
// directions are atomic at the destination: a temporary directory next to it, a rename on
// success, removal on failure. The host trusts nothing in a guest's stream (tar_extract.hpp).
#pragma once

#include "guest/guest_shell.hpp"
#include "util/error.hpp"

#include <string>

namespace fleetbox::copy {

struct CopySettings {
    bool as_root = false; // the guest's tar runs under `sudo -n`
    guest::StreamLimits limits;
};

// Host file/symlink/directory `host_path` becomes exactly guest `guest_path` (missing parents
// created; an existing file replaced; an existing directory replaced by a directory).
// Errors: InvalidArgument (guest path not absolute, a device node, "/" as destination),
// NotFound (host source missing), `guest tar: ...` with NoSpace/Permission/NotFound/
// ExternalCommand, Network, Timeout, Interrupted.
Status upload(guest::GuestShell& shell, const std::string& host_path, const std::string& guest_path,
              const CopySettings& settings);

// Guest `guest_path` becomes exactly host `host_path` (same rules). Errors as upload, plus
// Corrupt `unsafe tar entry ...` for a hostile stream, and the host's own file-system errors.
Status download(guest::GuestShell& shell, const std::string& guest_path,
                const std::string& host_path, const CopySettings& settings);

} // namespace fleetbox::copy

// SSH keys: the per-installation client identity and per-VM host keys, made with libssh.
//
// Why: every VM gets its own ed25519 host key in its cloud-init seed (cloud-init then skips
// its own slow RSA/ECDSA key generation, and fleetbox can pin the key in a per-VM known_hosts
// instead of disabling host-key checking), and the user logs in with one ed25519 key per
// installation (`<store>/id_ed25519`). Keys are generated and parsed by libssh's pki API;
// libssh 0.10 exports ed25519 private keys in the OpenSSH format that ssh(1) and cloud-init
// read. Nothing here writes key material by hand.
#pragma once

#include "util/error.hpp"

#include <string>
#include <string_view>

namespace fleetbox::ssh {

struct KeyPair {
    std::string private_openssh; // "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END ...-----\n"
    std::string public_line;     // "ssh-ed25519 AAAA... comment" (no trailing newline)
};

// A fresh ed25519 key pair, in memory. The comment (may be empty; no whitespace other than
// spaces, no newline) ends the public line.
Result<KeyPair> generate_ed25519(std::string_view comment);

// Parse an OpenSSH private key and derive its public line ("<type> <base64>[ <comment>]").
// Unparseable text is ErrorKind::Corrupt.
Result<KeyPair> key_pair_from_private(std::string_view private_openssh, std::string_view comment);

// Check that both halves parse and that the public line belongs to the private key
// (ErrorKind::Corrupt otherwise).
Status verify_key_pair(const KeyPair& pair);

// The per-installation identity at key_path (private, 0600) and key_path + ".pub" (0600,
// like every file in the store).
// Loads them when present (a key that does not parse, or a .pub that does not match it, is
// ErrorKind::Corrupt naming the file, with a hint to delete it); a private key without its
// .pub gets the .pub rewritten from it; otherwise generates a new key, written atomically
// (private key first). Holds an flock on key_path + ".lock" throughout, so concurrent first
// uses agree on one key. The parent directory must exist.
Result<KeyPair> ensure_identity(const std::string& key_path);

// "<host> <type> <base64>" for a known_hosts file (the comment is dropped). host is used as
// given (pass "[ip]:port" for a non-22 port); it must be non-empty and contain no whitespace.
Result<std::string> known_hosts_line(std::string_view host, const std::string& public_line);

// "SHA256:<unpadded base64>", as `ssh-keygen -lf` prints it.
Result<std::string> fingerprint_sha256(const std::string& public_line);

} // namespace fleetbox::ssh

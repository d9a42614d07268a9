// Key generation, parsing and fingerprints over libssh's pki API (ssh_pki_generate,
// ssh_pki_export_privkey_base64, ssh_pki_export_pubkey_base64, ssh_get_publickey_hash).
// libssh 0.10 exports ed25519 private keys in the OpenSSH format ("BEGIN OPENSSH PRIVATE KEY");
// generate_ed25519 checks that instead of assuming it, because ssh(1) and cloud-init's
// ssh_keys module both need that format. libssh returns C strings that must be released with
// ssh_string_free_char, and key handles with ssh_key_free: small RAII wrappers do that.
#include "ssh/keys.hpp"

#include "util/strings.hpp"

#include <libssh/libssh.h>
#include <memory>
#include <vector>

namespace fleetbox::ssh {

namespace {

constexpr std::string_view kOpensshHeader = "-----BEGIN OPENSSH PRIVATE KEY-----";

struct KeyDeleter {
    void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyHandle = std::unique_ptr<ssh_key_struct, KeyDeleter>;

struct CharDeleter {
    void operator()(char* s) const { ssh_string_free_char(s); }
};
using LibsshString = std::unique_ptr<char, CharDeleter>;

// Whitespace-separated fields of a public key line: type, base64 blob, optional comment.
struct PublicFields {
    std::string type;
    std::string blob;
};

Result<PublicFields> split_public_line(std::string_view line) {
    line = trim(line);
    auto type_end = line.find_first_of(" \t");
    if (type_end == std::string_view::npos)
        return fail(ErrorKind::Corrupt, "parse public key",
                    "expected \"<type> <base64> [comment]\"");
    std::string_view rest = trim(line.substr(type_end));
    auto blob_end = rest.find_first_of(" \t");
    return PublicFields{std::string(line.substr(0, type_end)),
                        std::string(rest.substr(0, blob_end))};
}

Result<KeyHandle> import_public(const std::string& public_line) {
    auto fields = FBX_TRY(split_public_line(public_line));
    enum ssh_keytypes_e type = ssh_key_type_from_name(fields.type.c_str());
    if (type == SSH_KEYTYPE_UNKNOWN)
        return fail(ErrorKind::Corrupt, "parse public key",
                    "unknown key type \"" + fields.type + "\"");
    ssh_key raw = nullptr;
    if (ssh_pki_import_pubkey_base64(fields.blob.c_str(), type, &raw) != SSH_OK)
        return fail(ErrorKind::Corrupt, "parse public key", "the base64 key blob does not decode");
    return KeyHandle(raw);
}

Result<KeyHandle> import_private(std::string_view private_openssh) {
    std::string text(private_openssh);
    ssh_key raw = nullptr;
    if (ssh_pki_import_privkey_base64(text.c_str(), nullptr, nullptr, nullptr, &raw) != SSH_OK)
        return fail(ErrorKind::Corrupt, "parse private key",
                    "not an unencrypted OpenSSH/PEM private key");
    return KeyHandle(raw);
}

Status check_comment(std::string_view comment) {
    for (char c : comment) {
        if (c == '\n' || c == '\r' || c == '\t' || c == '\0')
            return fail(ErrorKind::InvalidArgument, "make SSH key",
                        "the comment contains a control character");
    }
    return {};
}

// "<type> <base64>[ <comment>]" for the public half of key.
Result<std::string> public_line_of(ssh_key key, std::string_view comment) {
    char* b64 = nullptr;
    if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || b64 == nullptr)
        return fail(ErrorKind::Internal, "export public key", "libssh could not encode the key");
    LibsshString owned(b64);
    const char* type = ssh_key_type_to_char(ssh_key_type(key));
    if (type == nullptr)
        return fail(ErrorKind::Internal, "export public key", "unknown key type");
    std::string line = std::string(type) + " " + owned.get();
    if (!comment.empty())
        line += " " + std::string(comment);
    return line;
}

Result<std::string> export_private(ssh_key key) {
    char* b64 = nullptr;
    if (ssh_pki_export_privkey_base64(key, nullptr, nullptr, nullptr, &b64) != SSH_OK ||
        b64 == nullptr)
        return fail(ErrorKind::Internal, "export private key", "libssh could not encode the key");
    LibsshString owned(b64);
    std::string text = owned.get();
    if (!starts_with(text, kOpensshHeader))
        return fail(ErrorKind::Internal, "export private key",
                    "libssh did not produce the OpenSSH format (needs libssh >= 0.9)");
    if (text.back() != '\n')
        text += '\n';
    return text;
}

} // namespace

Result<KeyPair> generate_ed25519(std::string_view comment) {
    FBX_CHECK(check_comment(comment));
    ssh_key raw = nullptr;
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK)
        return fail(ErrorKind::Internal, "generate ed25519 key", "libssh key generation failed");
    KeyHandle key(raw);
    KeyPair pair;
    pair.private_openssh = FBX_TRY(export_private(key.get()));
    pair.public_line = FBX_TRY(public_line_of(key.get(), comment));
    return pair;
}

Result<KeyPair> key_pair_from_private(std::string_view private_openssh, std::string_view comment) {
    FBX_CHECK(check_comment(comment));
    KeyHandle key = FBX_TRY(import_private(private_openssh));
    KeyPair pair;
    pair.private_openssh = std::string(private_openssh);
    pair.public_line = FBX_TRY(public_line_of(key.get(), comment));
    return pair;
}

Status verify_key_pair(const KeyPair& pair) {
    KeyHandle priv = FBX_TRY(import_private(pair.private_openssh));
    KeyHandle pub = FBX_TRY(import_public(pair.public_line));
    if (ssh_key_cmp(priv.get(), pub.get(), SSH_KEY_CMP_PUBLIC) != 0)
        return fail(ErrorKind::Corrupt, "check SSH key pair",
                    "the public key does not belong to the private key");
    return {};
}

Result<std::string> known_hosts_line(std::string_view host, const std::string& public_line) {
    if (host.empty() || host.find_first_of(" \t\r\n") != std::string_view::npos)
        return fail(ErrorKind::InvalidArgument, "make known_hosts line",
                    "host \"" + std::string(host) + "\" is empty or contains whitespace");
    FBX_CHECK(import_public(public_line)); // reject a line ssh would not accept
    auto fields = FBX_TRY(split_public_line(public_line));
    return std::string(host) + " " + fields.type + " " + fields.blob;
}

Result<std::string> fingerprint_sha256(const std::string& public_line) {
    KeyHandle key = FBX_TRY(import_public(public_line));
    unsigned char* hash = nullptr;
    size_t hash_len = 0;
    if (ssh_get_publickey_hash(key.get(), SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_len) != SSH_OK)
        return fail(ErrorKind::Internal, "fingerprint public key", "libssh could not hash the key");
    LibsshString text(ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_len));
    ssh_clean_pubkey_hash(&hash);
    if (!text)
        return fail(ErrorKind::Internal, "fingerprint public key",
                    "libssh could not format the hash");
    return std::string(text.get());
}

} // namespace fleetbox::ssh

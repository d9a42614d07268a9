// ensure_identity: the per-installation SSH key (<store>/id_ed25519 and .pub), made lazily.
//
// Concurrency and crash safety rely on two kernel behaviors: flock(2) on <key>.lock
// serializes the check-and-generate of concurrent first uses (the loser finds the winner's
// key; the lock dies with its holder, so a crash never wedges it), and rename(2) through
// AtomicFile means a key file is either absent or complete. The private key is written before
// the .pub, so an interrupted first run leaves at worst a private key without .pub, which the
// next run completes from the private key rather than replacing the key. ssh(1) refuses a
// private key readable by others, and the store keeps every file owner-only (issue 9), so both
// key files are written 0600 and a key found with group/other bits is tightened to 0600
// through a descriptor opened with O_NOFOLLOW (a symlink in its place is refused, never
// followed). Whoever calls this is the store's owner (the CLI drops root under sudo first), so
// the files are the user's own, usable by `ssh -i` and later non-sudo runs.
#include "ssh/keys.hpp"
#include "sys/atomic_file.hpp"
#include "sys/fd.hpp"
#include "sys/file_lock.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::ssh {

namespace {

constexpr std::string_view kIdentityComment = "fleetbox";
constexpr mode_t kKeyFileMode = 0600;

Error corrupt_file(const std::string& path, Error why, std::string hint) {
    why.kind = ErrorKind::Corrupt;
    why.operation = "load SSH key " + path;
    why.hint = std::move(hint);
    return why;
}

Result<KeyPair> load_identity(const std::string& key_path, const std::string& pub_path) {
    std::string private_text = FBX_TRY(read_file(key_path));
    auto derived = key_pair_from_private(private_text, kIdentityComment);
    if (!derived)
        return fail(
            corrupt_file(key_path, derived.error(),
                         "delete " + key_path + " and " + pub_path +
                             " to get a new key (VMs made with the old key will refuse it)"));
    if (!path_exists(pub_path)) {
        FBX_CHECK(write_file_atomic(pub_path, derived->public_line + "\n", kKeyFileMode));
        return derived;
    }
    std::string pub_text = FBX_TRY(read_file(pub_path));
    KeyPair stored{std::move(private_text), std::string(trim(pub_text))};
    if (auto ok = verify_key_pair(stored); !ok)
        return fail(corrupt_file(pub_path, ok.error(),
                                 "delete " + pub_path + "; it is rewritten from " + key_path));
    return stored;
}

Result<KeyPair> create_identity(const std::string& key_path, const std::string& pub_path) {
    KeyPair pair = FBX_TRY(generate_ed25519(kIdentityComment));
    FBX_CHECK(write_file_atomic(key_path, pair.private_openssh, kKeyFileMode));
    FBX_CHECK(write_file_atomic(pub_path, pair.public_line + "\n", kKeyFileMode));
    return pair;
}

Status tighten_mode(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ELOOP)
        return fail(ErrorKind::Permission, "use SSH key " + path,
                    "it is a symbolic link, which fleetbox does not follow in its store",
                    "remove it (fleetbox makes a new key) or put the key file itself there");
    if (!fd)
        return fail_errno("open " + path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return fail_errno("stat " + path, errno);
    if ((st.st_mode & 077) == 0)
        return {};
    if (::fchmod(fd.get(), kKeyFileMode) != 0)
        return fail_errno("chmod 0600 " + path, errno);
    return {};
}

} // namespace

Result<KeyPair> ensure_identity(const std::string& key_path) {
    const std::string pub_path = key_path + ".pub";
    const std::string lock_path = key_path + ".lock";
    auto lock = FBX_TRY(FileLock::acquire(lock_path).map_error(
        [](Error e) { return std::move(e).wrap("prepare the SSH identity"); }));

    KeyPair pair = path_exists(key_path) ? FBX_TRY(load_identity(key_path, pub_path))
                                         : FBX_TRY(create_identity(key_path, pub_path));
    FBX_CHECK(tighten_mode(key_path));
    FBX_CHECK(tighten_mode(pub_path));
    return pair;
}

} // namespace fleetbox::ssh

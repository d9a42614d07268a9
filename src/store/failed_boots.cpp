// Store: keeping the logs of a failed first boot after the VM itself is rolled back.
//
// Why: a failed `up` of a NEW VM removes the member directory (nothing half-made remains),
// but the serial console and QEMU's stderr are exactly what the user needs to read next.
// Before the member goes, its logs are moved to failed/<name>/: into a fresh staging
// directory first, then renamed over the previous set, so failed/<name>/ always holds the
// complete logs of one attempt. rename(2) keeps any descriptor a still-exiting writer holds
// (the helper's own log), and both paths are under the store root, so nothing is copied.
#include "store/dirs.hpp"
#include "store/names.hpp"
#include "store/store.hpp"
#include "sys/fs.hpp"
#include "sys/temp_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox {

namespace {

// Removes `path` when present: a directory as a tree (never across mounts), anything else
// (a symlink planted there) as one entry.
Status remove_entry(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return errno == ENOENT ? Status{} : fail_errno("inspect " + path, errno);
    if (S_ISDIR(st.st_mode))
        return remove_tree(path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return fail_errno("remove " + path, errno);
    return {};
}

} // namespace

Result<std::string> Store::failed_boot_dir(std::string_view name) const {
    FBX_CHECK(validate_vm_name(name));
    return failed_boots_dir() + "/" + std::string(name);
}

Result<std::string> Store::keep_failed_boot_logs(std::string_view name,
                                                 const std::vector<std::string>& files) const {
    const std::string mdir = FBX_TRY(member_dir(name));
    const std::string dest = FBX_TRY(failed_boot_dir(name));
    const std::string what = "keep the logs of " + quote_name(name) + "'s failed boot";
    auto wrap = [&](Error e) { return fail(std::move(e).wrap(what)); };
    if (auto ok = make_dirs(failed_boots_dir(), kStoreDirMode); !ok)
        return wrap(std::move(ok).error());
    auto staging = TempDir::create(failed_boots_dir(), "." + std::string(name) + ".");
    if (!staging)
        return wrap(std::move(staging).error());
    // A file that cannot be moved (absent, or something odd like a mount point) is skipped:
    // aborting here would drop the staging directory and with it the logs already moved.
    bool kept_any = false;
    for (const auto& file : files) {
        const std::string from = mdir + "/" + file;
        if (::rename(from.c_str(), (staging->path() + "/" + file).c_str()) == 0)
            kept_any = true;
    }
    if (!kept_any)
        return std::string{}; // never got far enough to log anything: staging goes on drop
    if (::chmod(staging->path().c_str(), kStoreDirMode) != 0)
        return wrap(errno_error("chmod " + staging->path(), errno));
    if (auto ok = remove_entry(dest); !ok)
        return wrap(std::move(ok).error());
    if (::rename(staging->path().c_str(), dest.c_str()) != 0)
        return wrap(errno_error("rename " + staging->path() + " to " + dest, errno));
    staging->release();
    return dest;
}

Result<std::vector<std::string>> Store::list_failed_boots() const {
    std::vector<std::string> names;
    for (std::string& entry : FBX_TRY(list_dir(failed_boots_dir())))
        if (is_valid_vm_name(entry) && is_directory(failed_boots_dir() + "/" + entry))
            names.push_back(
                std::move(entry)); // staging directories start with '.': not valid names
    return names;
}

Status Store::forget_failed_boot(std::string_view name) const {
    const std::string dest = FBX_TRY(failed_boot_dir(name));
    if (auto ok = remove_entry(dest); !ok)
        return fail(std::move(ok).error().wrap("forget the failed boot of " + quote_name(name)));
    return {};
}

} // namespace fleetbox

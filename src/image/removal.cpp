// What leaves the image cache (see cache.hpp): `image rm` (an entry and the downloads kept
// for it), the staging and removal leftovers of a killed build (sweep_stale), and the
// downloads a pull keeps in images/.downloads/ (listed for `image ls`; those of another pin
// swept by the next pull of the same image).
//
// Why downloads are kept at all: a cut 600 MiB download is resumed, not fetched again, and a
// whole pinned download is reused when a later step failed (disk full while converting). Why
// they must not stay forever: an alias whose pin moved, or a URL given once, would otherwise
// hold its bytes until the user finds the dot-directory. File names are
//   <name>.download                      whole, unpinned (only while its pull runs)
//   <name>-<16 hex of the pin>.download  whole, pinned
//   ... .part and .part.validator        the fetch layer's resumable part and its validator
// so a name's files are told apart from those of a name that merely starts the same way
// ("debian-12" is not "debian-12-cloud") by the exact suffix shapes, as sweep_stale does.
#include "image/cache.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fleetbox::image {

namespace {

constexpr std::string_view kDownloadSuffix = ".download";
constexpr std::size_t kPinChars = 16;

struct DownloadFile {
    std::string base; // the name, or name-<pin16>
    bool part = false;
    bool validator = false;
};

std::optional<DownloadFile> parse_download_file(std::string_view file) {
    DownloadFile f;
    if (file.ends_with(".part.validator")) {
        f.validator = true;
        file.remove_suffix(std::string_view(".part.validator").size());
    } else if (file.ends_with(".part")) {
        f.part = true;
        file.remove_suffix(std::string_view(".part").size());
    }
    if (!file.ends_with(kDownloadSuffix) || file.size() == kDownloadSuffix.size())
        return std::nullopt;
    file.remove_suffix(kDownloadSuffix.size());
    f.base = std::string(file);
    return f;
}

bool is_pin_suffix(std::string_view s) {
    return s.size() == kPinChars + 1 && s.front() == '-' &&
           std::all_of(s.begin() + 1, s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The image a download's base name is for: "<name>" or "<name>-<pin16>".
std::string owner_of(std::string_view base) {
    if (base.size() > kPinChars + 1 && is_pin_suffix(base.substr(base.size() - kPinChars - 1)))
        return std::string(base.substr(0, base.size() - kPinChars - 1));
    return std::string(base);
}

bool belongs_to(std::string_view base, std::string_view name) {
    return base == name || (base.starts_with(name) && is_pin_suffix(base.substr(name.size())));
}

} // namespace

Result<Removed> ImageCache::remove(std::string_view alias,
                                   const std::function<Status()>& may_remove) {
    FBX_CHECK(check_image_name(alias));
    std::string dir = entry_dir(alias);
    if (!path_exists(dir) && FBX_TRY(kept_downloads(alias)).empty())
        return fail(ErrorKind::NotFound, fmt::format("remove image {}", alias), "it is not cached",
                    "`fleetbox image ls` lists the cached images");
    auto lock = FBX_TRY(lock_entry(alias, nullptr));
    Removed removed;
    if (path_exists(dir)) { // else removed by whoever held the lock
        if (may_remove)
            FBX_CHECK(may_remove());
        // Rename out of the way first: a crash mid-delete leaves a dot-dir, never a half entry.
        std::string doomed = fmt::format("{}/.rm-{}-{}", dir_, alias, ::getpid());
        if (::rename(dir.c_str(), doomed.c_str()) != 0)
            return fail_errno("remove image " + dir, errno);
        FBX_CHECK(remove_tree(doomed));
        (void)remove_tree(log_path(alias));
        removed.image = true;
    }
    auto downloads = FBX_TRY(remove_downloads(alias));
    removed.download_bytes = downloads.download_bytes;
    removed.downloads = downloads.downloads;
    return removed;
}

// .build-<alias>-XXXXXX (mkdtemp suffix) and .rm-<alias>-<pid>; the exact suffix shapes
// keep alias "debian" from matching the leftovers of "debian-12".
Status ImageCache::sweep_stale(std::string_view alias) const {
    auto names = FBX_TRY(list_dir(dir_));
    std::string build_prefix = fmt::format(".build-{}-", alias);
    std::string rm_prefix = fmt::format(".rm-{}-", alias);
    auto all_digits = [](std::string_view s) {
        return !s.empty() &&
               std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    for (const auto& n : names) {
        bool stale =
            (starts_with(n, build_prefix) && n.size() == build_prefix.size() + 6 &&
             n.find('-', build_prefix.size()) == std::string::npos) ||
            (starts_with(n, rm_prefix) && all_digits(std::string_view(n).substr(rm_prefix.size())));
        struct stat st {};
        // Not ours (root's, from an older fleetbox that built in the store): left alone, a
        // user cannot remove it and root never removes anything in a user's store.
        if (stale && ::lstat((dir_ + "/" + n).c_str(), &st) == 0 && st.st_uid == ::geteuid())
            FBX_CHECK(remove_tree(dir_ + "/" + n));
    }
    return {};
}

Result<std::vector<KeptDownload>> ImageCache::kept_downloads(std::string_view name) const {
    const std::string dir = dir_ + "/.downloads";
    std::vector<KeptDownload> out;
    if (!path_exists(dir))
        return out;
    for (const auto& file : FBX_TRY(list_dir(dir))) {
        auto parsed = parse_download_file(file);
        if (!parsed || parsed->validator || (!name.empty() && !belongs_to(parsed->base, name)))
            continue;
        struct stat st {};
        const std::string path = dir + "/" + file;
        if (::lstat(path.c_str(), &st) != 0) {
            if (errno == ENOENT)
                continue; // a pull just finished with it
            return fail_errno("stat " + path, errno);
        }
        if (!S_ISREG(st.st_mode))
            continue;
        out.push_back({owner_of(parsed->base), path, static_cast<unsigned long long>(st.st_size),
                       !parsed->part});
    }
    std::sort(out.begin(), out.end(),
              [](const KeptDownload& a, const KeptDownload& b) { return a.path < b.path; });
    return out;
}

Result<Removed> ImageCache::remove_downloads(std::string_view name, const std::string& keep) const {
    const std::string dir = dir_ + "/.downloads";
    Removed removed;
    if (!path_exists(dir))
        return removed;
    for (const auto& file : FBX_TRY(list_dir(dir))) {
        auto parsed = parse_download_file(file);
        const std::string path = dir + "/" + file;
        if (!parsed || !belongs_to(parsed->base, name) ||
            (!keep.empty() && starts_with(path, keep)))
            continue;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return fail_errno("remove the download " + path, errno);
        if (!parsed->validator) {
            removed.download_bytes += static_cast<unsigned long long>(st.st_size);
            ++removed.downloads;
        }
    }
    return removed;
}

} // namespace fleetbox::image

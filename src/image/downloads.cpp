// The downloads a pull keeps in images/.downloads/ (see cache.hpp): listed for `image ls`,
// removed by `image rm`, and those of another pin swept by the next pull of the same image.
//
// Why they are kept at all: a cut 600 MiB download is resumed, not fetched again, and a whole
// pinned download is reused when a later step failed (disk full while converting). Why they
// must not stay forever: an alias whose pin moved, or a URL given once, would otherwise hold
// its bytes until the user finds the dot-directory. File names are
//   <name>.download                  whole, unpinned (only while its pull runs)
//   <name>-<16 hex of the pin>.download   whole, pinned
//   ... .part and .part.validator    the fetch layer's resumable part and its validator
// so a name's files are told apart from those of a name that merely starts the same way
// ("debian-12" is not "debian-12-cloud") by the exact suffix shapes, as sweep_stale does.
#include "image/cache.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <sys/stat.h>

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

// Scratch placement (see scratch.hpp): statfs(2) for the filesystem type (TMPFS_MAGIC),
// statvfs(3) for mount flags (ST_NODEV, ST_NOEXEC) and free space, /proc/meminfo
// MemAvailable for RAM (tmpfs pages are RAM, and may not be swappable at all).
#include "image/scratch.hpp"

#include "image/manifest.hpp"
#include "sys/fs.hpp"
#include "sys/sha256.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>
#include <fstream>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

namespace fleetbox::image {

namespace {

std::uint64_t mem_available() {
    std::ifstream in("/proc/meminfo");
    for (std::string line; std::getline(in, line);) {
        if (!starts_with(line, "MemAvailable:"))
            continue;
        auto fields = split(std::string(trim(line.substr(13))), ' ');
        if (!fields.empty())
            return std::stoull(fields[0]) * 1024ULL;
    }
    return 0;
}

bool reject(std::string* why_not, std::string why) {
    if (why_not != nullptr)
        *why_not = std::move(why);
    return false;
}

} // namespace

bool suitable_tmpfs(const std::string& dir, std::uint64_t min_free, std::string* why_not) {
    struct statfs fs {};
    if (::statfs(dir.c_str(), &fs) != 0)
        return reject(why_not, dir + " is not available");
    if (fs.f_type != TMPFS_MAGIC)
        return reject(why_not, dir + " is not a tmpfs");
    struct statvfs vfs {};
    if (::statvfs(dir.c_str(), &vfs) != 0)
        return reject(why_not, dir + " is not available");
    if ((vfs.f_flag & (ST_NODEV | ST_NOEXEC)) != 0)
        return reject(why_not, dir + " is mounted nodev or noexec");
    std::uint64_t free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes < min_free)
        return reject(why_not, fmt::format("{} has only {} free", dir, format_bytes(free_bytes)));
    if (std::uint64_t ram = mem_available(); ram < min_free)
        return reject(why_not, fmt::format("only {} of RAM available", format_bytes(ram)));
    return true;
}

ScratchPlace choose_scratch(const std::string& requested, const std::string& tmpfs) {
    if (requested == "staging")
        return {"", "requested: the staging directory"};
    if (!requested.empty())
        return {requested, "requested: " + requested};
    std::string why_not;
    if (suitable_tmpfs(tmpfs, kScratchMinFree, &why_not))
        return {tmpfs, tmpfs + " is a suitable tmpfs"};
    return {"", "the staging directory (" + why_not + ")"};
}

std::string scratch_prefix(const std::string& images_dir, std::string_view alias) {
    return fmt::format("fleetbox-build-{}-{}-", sha256_hex(images_dir).substr(0, 8), alias);
}

Status sweep_scratch(const std::string& parent, const std::string& prefix) {
    auto names = list_dir(parent);
    if (!names)
        return {}; // nothing to sweep in a directory we cannot list
    for (const auto& n : *names)
        if (starts_with(n, prefix) && n.size() == prefix.size() + 6 &&
            n.find('-', prefix.size()) == std::string::npos)
            FBX_CHECK(remove_tree(parent + "/" + n));
    return {};
}

} // namespace fleetbox::image

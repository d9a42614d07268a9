// Read-only ext2/3/4 access with libext2fs (see ext_volume.hpp).
#include "diskimage/ext_volume.hpp"

#include <cstring>
#include <deque>
#include <ext2fs/ext2fs.h>
#include <fmt/format.h>
#include <mutex>
#include <utility>

// com_err.h has no extern "C" of its own.
extern "C" {
#include <et/com_err.h>
}

namespace fleetbox::diskimage {

namespace {

constexpr int kMaxHops = 40;
constexpr std::size_t kMaxLinkTarget = 4095;
constexpr std::size_t kMaxNameLen = 255;

std::string ext2_message(errcode_t err) {
    static std::once_flag once;
    std::call_once(once, [] { initialize_ext2_error_table(); });
    return error_message(err);
}

void split_into(std::string_view path, std::deque<std::string>& out, bool front) {
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos)
            j = path.size();
        if (j > i)
            parts.emplace_back(path.substr(i, j - i));
        i = j + 1;
    }
    if (front)
        out.insert(out.begin(), parts.begin(), parts.end());
    else
        out.insert(out.end(), parts.begin(), parts.end());
}

} // namespace

Result<ExtVolume> ExtVolume::open(const std::string& file, std::uint64_t offset,
                                  std::uint64_t size) {
    const std::string op = fmt::format("open ext filesystem at byte {}", offset);
    std::string options = fmt::format("offset={}", offset);
    // No EXT2_FLAG_RW: the channel is opened read-only and nothing is ever written back.
    const int flags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP;
    ext2_filsys fs = nullptr;
    // First the superblock alone: the group descriptor table is sized from its block count,
    // so a filesystem claiming more than its partition is refused before that allocation.
    errcode_t err = ext2fs_open2(file.c_str(), options.c_str(), flags | EXT2_FLAG_SUPER_ONLY, 0, 0,
                                 unix_io_manager, &fs);
    if (err != 0)
        return fail(ErrorKind::Corrupt, op, ext2_message(err));
    bool too_large = fs->blocksize == 0 || ext2fs_blocks_count(fs->super) > size / fs->blocksize;
    ext2fs_close_free(&fs);
    if (too_large)
        return fail(ErrorKind::Corrupt, op, "the filesystem is larger than its partition");
    err = ext2fs_open2(file.c_str(), options.c_str(), flags, 0, 0, unix_io_manager, &fs);
    if (err != 0)
        return fail(ErrorKind::Corrupt, op, ext2_message(err));
    return ExtVolume(fs);
}

ExtVolume::ExtVolume(ExtVolume&& other) noexcept : fs_(std::exchange(other.fs_, nullptr)) {}

ExtVolume& ExtVolume::operator=(ExtVolume&& other) noexcept {
    if (this != &other) {
        if (fs_ != nullptr)
            ext2fs_close_free(&fs_);
        fs_ = std::exchange(other.fs_, nullptr);
    }
    return *this;
}

ExtVolume::~ExtVolume() {
    if (fs_ != nullptr)
        ext2fs_close_free(&fs_);
}

std::optional<std::string> ExtVolume::read_link(std::uint32_t ino) const {
    struct ext2_inode inode {};
    if (ext2fs_read_inode(fs_, ino, &inode) != 0 || !LINUX_S_ISLNK(inode.i_mode))
        return std::nullopt;
    std::uint64_t size = EXT2_I_SIZE(&inode);
    if (size == 0 || size > kMaxLinkTarget)
        return std::nullopt;
    std::string target;
    if (ext2fs_is_fast_symlink(&inode) != 0) {
        if (size >= sizeof(inode.i_block))
            return std::nullopt;
        target.assign(reinterpret_cast<const char*>(inode.i_block), size);
    } else {
        ext2_file_t f = nullptr;
        if (ext2fs_file_open(fs_, ino, 0, &f) != 0)
            return std::nullopt;
        target.resize(size);
        unsigned int got = 0;
        errcode_t err = ext2fs_file_read(f, target.data(), static_cast<unsigned int>(size), &got);
        ext2fs_file_close(f);
        if (err != 0 || got != size)
            return std::nullopt;
    }
    if (target.find('\0') != std::string::npos)
        target.resize(target.find('\0'));
    return target;
}

std::optional<ExtNode> ExtVolume::walk(std::string_view path, bool follow_last) const {
    std::vector<ext2_ino_t> stack{EXT2_ROOT_INO}; // the directories from the root down
    std::deque<std::string> todo;
    split_into(path, todo, false);
    int hops = 0;
    std::optional<ext2_ino_t> last;
    while (!todo.empty()) {
        std::string name = std::move(todo.front());
        todo.pop_front();
        last.reset();
        if (name == ".")
            continue;
        if (name == "..") {
            if (stack.size() > 1) // never above this filesystem's root
                stack.pop_back();
            continue;
        }
        if (name.size() > kMaxNameLen)
            return std::nullopt;
        ext2_ino_t ino = 0;
        if (ext2fs_lookup(fs_, stack.back(), name.c_str(), static_cast<int>(name.size()), nullptr,
                          &ino) != 0)
            return std::nullopt;
        struct ext2_inode inode {};
        if (ext2fs_read_inode(fs_, ino, &inode) != 0)
            return std::nullopt;
        if (LINUX_S_ISLNK(inode.i_mode) && (!todo.empty() || follow_last)) {
            if (++hops > kMaxHops)
                return std::nullopt;
            auto target = read_link(ino);
            if (!target || target->empty())
                return std::nullopt;
            if ((*target)[0] == '/')
                stack.resize(1); // absolute: this filesystem's root, never the host's
            split_into(*target, todo, true);
            continue;
        }
        if (todo.empty()) {
            last = ino;
            break;
        }
        if (!LINUX_S_ISDIR(inode.i_mode))
            return std::nullopt;
        stack.push_back(ino);
    }
    ext2_ino_t ino = last ? *last : stack.back();
    struct ext2_inode inode {};
    if (ext2fs_read_inode(fs_, ino, &inode) != 0)
        return std::nullopt;
    ExtNode node;
    node.ino = ino;
    node.directory = LINUX_S_ISDIR(inode.i_mode);
    node.regular = LINUX_S_ISREG(inode.i_mode);
    node.size = EXT2_I_SIZE(&inode);
    return node;
}

std::optional<ExtNode> ExtVolume::resolve(std::string_view path) const {
    return walk(path, true);
}

std::string ExtVolume::link_target(std::string_view path) const {
    auto node = walk(path, false);
    if (!node)
        return {};
    return read_link(node->ino).value_or("");
}

namespace {

struct ListState {
    std::vector<std::string>* names;
    std::size_t max;
};

int list_entry(ext2_ino_t, int, struct ext2_dir_entry* dirent, int, int, char*, void* priv) {
    auto* state = static_cast<ListState*>(priv);
    int len = ext2fs_dirent_name_len(dirent);
    if (len <= 0 || static_cast<std::size_t>(len) > kMaxNameLen)
        return 0;
    std::string name(dirent->name, static_cast<std::size_t>(len));
    if (name == "." || name == "..")
        return 0;
    state->names->push_back(std::move(name));
    return state->names->size() >= state->max ? DIRENT_ABORT : 0;
}

} // namespace

std::vector<std::string> ExtVolume::list(const ExtNode& dir, std::size_t max) const {
    std::vector<std::string> names;
    if (!dir.directory)
        return names;
    ListState state{&names, max};
    ext2fs_dir_iterate2(fs_, dir.ino, 0, nullptr, list_entry, &state);
    return names;
}

Status ExtVolume::copy_impl(const ExtNode& file, std::uint64_t max, ChunkFn fn, void* ctx) const {
    if (!file.regular)
        return fail(ErrorKind::InvalidArgument, "read file from image", "not a regular file");
    ext2_file_t f = nullptr;
    errcode_t err = ext2fs_file_open(fs_, file.ino, 0, &f);
    if (err != 0)
        return fail(ErrorKind::Corrupt, "read file from image", ext2_message(err));
    __u64 size = 0;
    ext2fs_file_get_lsize(f, &size);
    if (size > max) {
        ext2fs_file_close(f);
        return fail(ErrorKind::InvalidArgument, "read file from image",
                    fmt::format("it has {} bytes, more than the limit of {}", size, max));
    }
    std::string buf(1 << 20, '\0');
    std::uint64_t done = 0;
    Status result;
    while (done < size) {
        unsigned int got = 0;
        err = ext2fs_file_read(f, buf.data(), static_cast<unsigned int>(buf.size()), &got);
        if (err != 0) {
            result = fail(ErrorKind::Corrupt, "read file from image", ext2_message(err));
            break;
        }
        if (got == 0)
            break;
        done += got;
        result = fn(ctx, std::string_view(buf.data(), got));
        if (!result)
            break;
    }
    ext2fs_file_close(f);
    if (result && done != size)
        return fail(ErrorKind::Corrupt, "read file from image", "it ends early");
    return result;
}

Result<std::string> ExtVolume::read(const ExtNode& file, std::size_t max) const {
    std::string out;
    FBX_CHECK(copy(file, max, [&out](std::string_view chunk) -> Status {
        out.append(chunk);
        return {};
    }));
    return out;
}

} // namespace fleetbox::diskimage

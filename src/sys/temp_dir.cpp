// TempDir over mkdtemp(3); removal uses remove_tree, which refuses to cross mount points.
#include "sys/temp_dir.hpp"

#include "sys/fs.hpp"

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace fleetbox {

Result<TempDir> TempDir::create(const std::string& parent, const std::string& prefix) {
    std::string templ = parent + "/" + prefix + "XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr)
        return fail_errno("create temporary directory in " + parent, errno);
    return TempDir(templ);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        (void)remove();
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

TempDir::~TempDir() {
    (void)remove();
}

std::string TempDir::release() {
    return std::exchange(path_, {});
}

Status TempDir::remove() {
    if (path_.empty())
        return {};
    auto st = remove_tree(path_);
    path_.clear();
    return st;
}

} // namespace fleetbox

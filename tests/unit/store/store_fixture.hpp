// Shared fixture for the Store tests: a store in a scratch directory, plus a snapshot of a
// directory tree to prove that a refused call wrote nothing.
#pragma once

#include "store/config.hpp"
#include "store/store.hpp"
#include "support/test_support.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <sys/stat.h>

namespace fleetbox::test {

// Every path under `dir` (relative), with its type; symlinks are listed, never followed.
inline std::set<std::string> tree(const std::string& dir) {
    namespace fs = std::filesystem;
    std::set<std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
        const char* type = it->is_symlink() ? "l" : it->is_directory() ? "d" : "f";
        out.insert(fs::relative(it->path(), dir).string() + ":" + type);
    }
    return out;
}

// Permission bits of a path (0 when it cannot be stat'ed).
inline mode_t mode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = Store::open(root());
        ASSERT_TRUE(opened) << opened.error().message();
        store_.emplace(std::move(*opened));
    }
    [[nodiscard]] std::string root() const { return scratch_.path() + "/fb"; }
    Store& store() { return *store_; }

public:
    static VmConfig config(const std::string& name) {
        return new_vm_config(name, 2, 2048, 10240, "debian-12");
    }
    void create(const std::string& name) {
        auto ok = store().create(config(name));
        ASSERT_TRUE(ok) << ok.error().message();
    }

protected:
    ScratchDir scratch_;
    std::optional<Store> store_;
};

} // namespace fleetbox::test

// Shared test helpers: scratch directories and environment overrides that undo themselves.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace fleetbox::test {

// A fresh directory under $TMPDIR (or /tmp), removed when the object goes away.
class ScratchDir {
public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Sets (or unsets, with nullopt) an environment variable for the scope.
class ScopedEnv {
public:
    ScopedEnv(std::string name, std::optional<std::string> value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

void write_text(const std::string& path, const std::string& text, int mode = 0644);
std::string read_text(const std::string& path);
// The value of one "Key:\tvalue" line of /proc/<pid>/status (e.g. "Uid", "CapEff"), trimmed;
// "missing" when the process or the line is not there.
std::string proc_status_field(pid_t pid, const std::string& key);
// Path of a built binary (e.g. "tools/fleetbox/fleetbox") under the build tree.
std::string built(const std::string& relative);

} // namespace fleetbox::test

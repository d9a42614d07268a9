// Process identity from /proc/<pid>/stat (see process_identity.hpp for why pid + start time).
// The second field (comm) is in parentheses and may itself contain spaces and ')', so the
// fields are counted from the LAST ')': state is field 3, starttime field 22.
#include "sys/process_identity.hpp"

#include "sys/fs.hpp"

#include <cerrno>
#include <charconv>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace fleetbox {

namespace {

struct StatFields {
    char state = '?';
    unsigned long long start_time = 0;
};

Result<StatFields> read_stat(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    const std::string op = "read the start time of process " + std::to_string(pid);
    if (pid <= 0)
        return fail(ErrorKind::InvalidArgument, op, "not a process id");
    auto text = read_file(path);
    if (!text) {
        if (text.error().err_no == ENOENT || text.error().err_no == ESRCH)
            return fail(ErrorKind::NotFound, op, "no such process");
        return fail(std::move(text).error().wrap(op));
    }
    const auto close = text->rfind(')');
    if (close == std::string::npos)
        return fail(ErrorKind::Corrupt, op, path + " has no command name");
    std::istringstream rest(text->substr(close + 1));
    std::vector<std::string> fields; // fields[0] is field 3 (state)
    for (std::string f; rest >> f;)
        fields.push_back(f);
    constexpr std::size_t kStartTime = 22 - 3;
    StatFields out;
    if (fields.size() <= kStartTime || fields[0].size() != 1)
        return fail(ErrorKind::Corrupt, op, path + " is too short");
    out.state = fields[0][0];
    const std::string& st = fields[kStartTime];
    auto [end, ec] = std::from_chars(st.data(), st.data() + st.size(), out.start_time);
    if (ec != std::errc() || end != st.data() + st.size())
        return fail(ErrorKind::Corrupt, op, path + " has a bad start time '" + st + "'");
    return out;
}

} // namespace

Result<unsigned long long> process_start_time(pid_t pid) {
    return FBX_TRY(read_stat(pid)).start_time;
}

Result<ProcessIdentity> identify_process(pid_t pid) {
    return ProcessIdentity{pid, FBX_TRY(process_start_time(pid))};
}

Result<ProcessIdentity> self_identity() {
    return identify_process(::getpid());
}

bool process_alive(const ProcessIdentity& id) {
    if (id.pid <= 0)
        return false;
    auto stat = read_stat(id.pid);
    return stat && stat->state != 'Z' && stat->state != 'X' && stat->start_time == id.start_time;
}

std::string process_cmdline(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    if (!text)
        return {};
    for (char& c : *text) {
        if (c == '\0')
            c = ' ';
    }
    while (!text->empty() && text->back() == ' ')
        text->pop_back();
    return *text;
}

} // namespace fleetbox

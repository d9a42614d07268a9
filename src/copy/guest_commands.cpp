// The guest scripts (see guest_commands.hpp). Every path reaches them single-quoted.
#include "copy/guest_commands.hpp"

#include "util/strings.hpp"

#include <array>
#include <sstream>

namespace fleetbox::copy {

namespace {

std::string wrap(const std::string& script, bool as_root) {
    return std::string(as_root ? "sudo -n " : "") + "sh -c " + shell_single_quote(script);
}

bool contains(const std::string& s, std::string_view needle) {
    return s.find(needle) != std::string::npos;
}

constexpr std::string_view kReasons[] = {"No space left on device",  "Disk quota exceeded",
                                         "Permission denied",        "Operation not permitted",
                                         "a password is required",   "Read-only file system",
                                         "No such file or directory"};

// The line that says what went wrong: the first naming a known reason, else the first that
// is not one of tar's warnings or its closing summary.
std::string first_line(const std::string& err) {
    std::istringstream scan(err);
    for (std::string line; std::getline(scan, line);)
        for (auto reason : kReasons)
            if (contains(line, reason))
                return line;
    std::istringstream in(err);
    std::string first;
    for (std::string line; std::getline(in, line);) {
        if (line.empty())
            continue;
        if (first.empty())
            first = line;
        if (contains(line, "Exiting with failure status") ||
            contains(line, "Ignoring unknown extended header") || contains(line, "in the future"))
            continue;
        return line;
    }
    return first;
}

} // namespace

std::string sentinel_for(const std::string& top) {
    return top == ".fleetbox-done" ? ".fleetbox-done-2" : ".fleetbox-done";
}

std::string upload_command(const GuestPath& dest, const std::string& top, bool as_root) {
    std::string s = "export LC_ALL=C\n";
    s += "d=" + shell_single_quote(dest.path) + " p=" + shell_single_quote(dest.dir) +
         " b=" + shell_single_quote(top) + " s=" + shell_single_quote(sentinel_for(top)) + "\n";
    s += R"(
if [ ! -d "$p" ]; then
  a=$p
  while [ ! -e "$a" ] && [ ! -L "$a" ]; do a=$(dirname -- "$a"); done
  [ -d "$a" ] || { echo "$a is not a directory" >&2; exit 1; }
  mkdir -p -- "$p" || exit 1
fi
t=$(mktemp -d -- "$p/.fleetbox-copy-XXXXXX") || exit 1
trap 'rm -rf -- "$t"' EXIT
trap 'exit 1' HUP INT TERM PIPE
mkdir -- "$t/x" || exit 1
if ! tar -x -f - -p --no-same-owner -C "$t/x"; then
  # GNU tar reports a full disk as "Wrote only N of M bytes", without the reason: say it.
  free=$(df -Pk -- "$t" 2>/dev/null | awk 'NR == 2 { print $4 }')
  [ -n "$free" ] && [ "$free" -lt 64 ] && echo "$d: No space left on device" >&2
  exit 2
fi
[ -f "$t/x/$s" ] || { echo "the copy was interrupted before its end" >&2; exit 1; }
n="$t/x/$b"
if [ -d "$d" ] && [ ! -L "$d" ]; then
  if [ ! -d "$n" ] || [ -L "$n" ]; then
    echo "$d is a directory: name the file to create in it" >&2; exit 1
  fi
  mv -T -- "$d" "$t/old" || exit 1
elif [ -d "$n" ] && [ ! -L "$n" ] && { [ -e "$d" ] || [ -L "$d" ]; }; then
  echo "$d exists and is not a directory" >&2; exit 1
fi
if ! mv -T -- "$n" "$d"; then
  [ -e "$t/old" ] && mv -T -- "$t/old" "$d"
  exit 1
fi
)";
    return wrap(s, as_root);
}

std::string download_command(const GuestPath& source, bool as_root) {
    std::string s = "export LC_ALL=C\nexec tar -c -f - -C " + shell_single_quote(source.dir) +
                    " -- " + shell_single_quote(source.base) + "\n";
    return wrap(s, as_root);
}

Error guest_error(const guest::ExecResult& result, bool as_root) {
    std::string line = first_line(result.err);
    if (line.rfind("tar: ", 0) == 0)
        line.erase(0, 5);
    if (line.empty())
        line = "exited with status " + std::to_string(result.exit_code);
    ErrorKind kind = ErrorKind::ExternalCommand;
    std::string hint;
    if (contains(line, "No space left on device") || contains(line, "Disk quota exceeded")) {
        kind = ErrorKind::NoSpace;
        hint = "free space in the guest (nothing was left under the destination's name)";
    } else if (contains(line, "Permission denied") || contains(line, "Operation not permitted") ||
               contains(line, "a password is required") ||
               contains(line, "Read-only file system")) {
        kind = ErrorKind::Permission;
        if (!as_root)
            hint = "copy as root (CopyOptions::as_root, fleetbox cp --root)";
    } else if (contains(line, "No such file or directory")) {
        kind = ErrorKind::NotFound;
    } else if (contains(line, "is not a directory") || contains(line, "is a directory: ")) {
        kind = ErrorKind::InvalidArgument; // the script's own checks of the destination
    }
    return Error{kind, 0, "guest tar", line, hint};
}

} // namespace fleetbox::copy

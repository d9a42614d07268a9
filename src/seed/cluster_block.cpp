// The cluster block (see cluster_block.hpp): rendering, the splice as a pure function, and
// the guest program that performs it. The program relies only on POSIX sh builtins (read,
// printf, case) plus cat, mktemp, chmod and mv, which every Debian guest has (coreutils is
// essential); rename(2) within one directory is what makes the replacement atomic.
#include "seed/cluster_block.hpp"

#include "util/strings.hpp"

namespace fleetbox::seed {

namespace {

bool starts(std::string_view line, std::string_view marker) {
    return line.substr(0, marker.size()) == marker;
}

} // namespace

Result<std::string> render_cluster_block(const std::vector<HostEntry>& entries) {
    FBX_CHECK(validate_host_entries(entries).map_error(
        [](Error e) { return std::move(e).wrap("render the cluster block"); }));
    std::string text = std::string(kClusterBlockBegin) +
                       " (kept current by the host; edits inside are replaced)\n";
    for (const auto& e : entries)
        text += e.ip + "\t" + e.name + "\n";
    text += std::string(kClusterBlockEnd) + "\n";
    return text;
}

std::string splice_cluster_block(std::string_view hosts, std::string_view block) {
    std::string out;
    bool inside = false;
    bool written = false;
    while (!hosts.empty()) {
        auto eol = hosts.find('\n');
        std::string_view line = hosts.substr(0, eol);
        hosts.remove_prefix(eol == std::string_view::npos ? hosts.size() : eol + 1);
        if (inside) {
            inside = !starts(line, kClusterBlockEnd);
        } else if (starts(line, kClusterBlockBegin)) {
            inside = true;
            if (!written)
                out += block;
            written = true;
        } else {
            out.append(line).push_back('\n');
        }
    }
    if (!written)
        out += block;
    return out;
}

std::string cluster_block_script() {
    // No data is ever interpolated here: the block arrives on stdin, the path as $1.
    return R"SH(set -eu
hosts=$1
begin=')SH" +
           std::string(kClusterBlockBegin) +
           R"SH('
end=')SH" + std::string(kClusterBlockEnd) +
           R"SH('
block=$(cat)
case $block in
"$begin"*"$end") ;;
*) echo "fleetbox-hosts: refusing a malformed cluster block (cut short?)" >&2; exit 2 ;;
esac
tmp=$(mktemp "$hosts.fleetbox-XXXXXX")
trap 'rm -f "$tmp"' EXIT
inside=0 written=0
{
    if [ -e "$hosts" ]; then
        while IFS= read -r line || [ -n "$line" ]; do
            if [ $inside = 1 ]; then
                case $line in "$end"*) inside=0 ;; esac
                continue
            fi
            case $line in
            "$begin"*)
                inside=1
                [ $written = 1 ] || printf '%s\n' "$block"
                written=1
                ;;
            *) printf '%s\n' "$line" ;;
            esac
        done < "$hosts"
    fi
    [ $written = 1 ] || printf '%s\n' "$block"
} > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$hosts"
)SH";
}

std::string cluster_block_command(const std::string& hosts_path, bool sudo) {
    std::vector<std::string> argv;
    if (sudo)
        argv = {"sudo", "-n"};
    for (const auto& word : {std::string("/bin/sh"), std::string("-c"), cluster_block_script(),
                             std::string("fleetbox-hosts"), hosts_path})
        argv.push_back(word);
    return shell_join(argv);
}

} // namespace fleetbox::seed

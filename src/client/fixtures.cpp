// Fixture options checked at create, and the guest-side mount check at every boot (see
// fixtures.hpp for the lifecycle).
//
// Why so strict about guest paths: each one becomes a mount point made with `mkdir -p` and
// `mount` as root in the guest and a line of the seed's mounts file (split at whitespace), so
// a path with "..", whitespace, or one that would hide /etc or the login user's home, could
// break the guest in ways that surface much later as a "VM never became ready". Nested guest
// paths are refused because the inner mount point cannot be created on the read-only outer
// fixture.
#include "client/fixtures.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fmt/format.h>
#include <sys/stat.h>
#include <thread>

namespace fleetbox::client {

namespace {

constexpr const char* kOp = "check fixtures";

// Guest directories whose contents the guest needs to boot or to let fleetbox log in.
bool is_system_dir(const std::string& path) {
    static const char* const kSystem[] = {
        "/bin",  "/boot", "/dev",  "/etc", "/home", "/lib", "/lib64", "/proc",
        "/root", "/run",  "/sbin", "/sys", "/tmp",  "/usr", "/var",   "/home/fleetbox"};
    for (const char* dir : kSystem)
        if (path == dir)
            return true;
    for (const char* virt : {"/dev/", "/proc/", "/sys/", "/home/fleetbox/"})
        if (starts_with(path, virt))
            return true;
    return false;
}

// The guest path with repeated and trailing slashes dropped, or an error.
Result<std::string> check_guest_path(const std::string& raw) {
    const std::string quoted = quote_path(raw);
    if (raw.empty() || raw.front() != '/')
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("fixture guest path {} must be absolute", quoted), {},
                    "give the directory inside the VM from the root, e.g. /srv/data");
    for (unsigned char c : raw)
        if (c <= 0x20 || c == 0x7f)
            return fail(
                ErrorKind::InvalidArgument,
                fmt::format("fixture guest path {} has whitespace or a control character", quoted),
                {}, "use a path like /srv/data");
    std::string path;
    for (const auto& part : split(raw, '/')) {
        if (part.empty())
            continue;
        if (part == "." || part == "..")
            return fail(
                ErrorKind::InvalidArgument,
                fmt::format("fixture guest path {} is not normalized (\"{}\")", quoted, part), {},
                "write it without . and .. components, e.g. /srv/data");
        path += "/" + part;
    }
    if (path.empty())
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("fixture guest path {} is the guest's root", quoted), {},
                    "mount it on a directory of its own, e.g. /srv/data");
    if (is_system_dir(path))
        return fail(
            ErrorKind::InvalidArgument,
            fmt::format("fixture guest path {} would hide a directory the guest needs", quoted), {},
            "mount it on a directory of its own, e.g. /srv/data");
    return path;
}

Result<std::string> check_host_path(const std::string& raw, const std::string& cwd) {
    const std::string quoted = quote_path(raw);
    if (raw.empty())
        return fail(ErrorKind::InvalidArgument, "fixture host path is empty", {},
                    "give the directory on this machine to show in the VM");
    std::filesystem::path p(raw);
    std::error_code ec;
    std::filesystem::path base =
        cwd.empty() ? std::filesystem::current_path(ec) : std::filesystem::path(cwd);
    if (ec)
        return fail_errno("find the current directory", ec.value());
    if (p.is_relative())
        p = base / p;
    std::string abs = p.lexically_normal().string();
    while (abs.size() > 1 && abs.back() == '/')
        abs.pop_back();
    struct stat st {};
    if (::stat(abs.c_str(), &st) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return fail(ErrorKind::NotFound,
                        fmt::format("fixture host path {} does not exist", quoted),
                        abs != raw ? "looked for " + abs : std::string{},
                        "create the directory, or fix the path");
        return fail_errno(fmt::format("fixture host path {}", quoted), e);
    }
    if (!S_ISDIR(st.st_mode))
        return fail(ErrorKind::InvalidArgument,
                    fmt::format("fixture host path {} is not a directory", quoted), {},
                    "a fixture is a directory: put the file in one and give that");
    return abs;
}

bool nests_in(const std::string& inner, const std::string& outer) {
    return starts_with(inner, outer + "/");
}

} // namespace

std::string quote_path(std::string_view path) {
    std::string out = "\"";
    for (char c : path) {
        const auto b = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (b < 0x20 || b == 0x7f) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(b));
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string fixture_label(std::size_t index) {
    return fmt::format("FBFIX{}", index);
}

std::string fixture_image_name(std::size_t index) {
    return fmt::format("fixture-{}.img", index);
}

Result<std::vector<StoredFixture>> resolve_fixtures(const std::vector<Fixture>& fixtures,
                                                    const std::string& cwd) {
    if (fixtures.size() > kMaxFixtures)
        return fail(
            ErrorKind::InvalidArgument,
            fmt::format("too many fixtures: {} (at most {} per VM)", fixtures.size(), kMaxFixtures),
            {}, "put the directories under one parent directory and give that");
    std::vector<StoredFixture> out;
    for (std::size_t i = 0; i < fixtures.size(); ++i) {
        std::string guest = FBX_TRY(check_guest_path(fixtures[i].guest_path));
        for (const auto& earlier : out) {
            if (earlier.guest_path == guest)
                return fail(ErrorKind::InvalidArgument,
                            fmt::format("duplicate fixture guest path {}", quote_path(guest)), {},
                            "give each fixture its own guest path");
            if (nests_in(guest, earlier.guest_path) || nests_in(earlier.guest_path, guest))
                return fail(ErrorKind::InvalidArgument,
                            fmt::format("fixture guest paths {} and {} are nested",
                                        quote_path(earlier.guest_path), quote_path(guest)),
                            {}, "a fixture is read-only: no mount point can be made inside it");
        }
        std::string host = FBX_TRY(check_host_path(fixtures[i].host_path, cwd));
        out.push_back({std::move(host), std::move(guest), fixture_label(i)});
    }
    return out;
}

std::vector<seed::SeedMount> seed_mounts(const std::vector<StoredFixture>& fixtures) {
    std::vector<seed::SeedMount> mounts;
    for (const auto& f : fixtures)
        mounts.push_back({f.label, f.guest_path});
    return mounts;
}

std::string fixture_mount_command(const std::vector<StoredFixture>& fixtures) {
    // A guest path that is a mount point already (the seed unit mounted it before sshd, or a
    // previous check) is left alone; otherwise it is mounted here. Either way the top mount's
    // options are printed, one line per fixture, in order.
    static const char* const kScript =
        "set -u\n"
        "while [ $# -ge 2 ]; do\n"
        "  if ! mountpoint -q \"$2\"; then\n"
        "    mkdir -p \"$2\" && mount -o ro \"LABEL=$1\" \"$2\" || exit 3\n"
        "  fi\n"
        "  opts=$(findmnt -n -o OPTIONS --mountpoint \"$2\" | tail -n 1)\n"
        "  echo \"${opts:-none}\"\n"
        "  shift 2\n"
        "done\n";
    std::string cmd = "sudo -n sh -c " + shell_quote(kScript) + " fleetbox-fixtures";
    for (const auto& f : fixtures)
        cmd += " " + shell_quote(f.label) + " " + shell_quote(f.guest_path);
    return cmd;
}

Status ensure_fixture_mounts(guest::GuestShell& shell, const std::vector<StoredFixture>& fixtures,
                             std::chrono::milliseconds timeout) {
    if (fixtures.empty())
        return {};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string cmd = fixture_mount_command(fixtures);
    Error last{ErrorKind::Timeout, 0, "mount fixtures", "no answer from the guest", {}};
    // The guest may still be settling (udev has not named a disk yet): retry until the deadline.
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            break;
        auto ran = shell.exec(cmd, std::max(left, std::chrono::milliseconds(1000)));
        if (!ran) {
            last = std::move(ran).error().wrap("mount fixtures");
        } else if (ran->exit_code != 0) {
            std::string why = last_line(ran->err);
            last = Error{ErrorKind::ExternalCommand, 0, "mount fixtures",
                         why.empty() ? fmt::format("exit status {}", ran->exit_code) : why,
                         "see serial.log in the VM's directory (fleetbox logs)"};
        } else {
            auto lines = split(std::string(trim(ran->out)), '\n');
            std::size_t bad = fixtures.size();
            for (std::size_t i = 0; i < fixtures.size() && bad == fixtures.size(); ++i) {
                auto opts = i < lines.size() ? split(std::string(trim(lines[i])), ',')
                                             : std::vector<std::string>{};
                if (std::find(opts.begin(), opts.end(), "ro") == opts.end())
                    bad = i;
            }
            if (bad == fixtures.size())
                return {};
            last = Error{ErrorKind::ExternalCommand,
                         0,
                         "mount fixtures",
                         fmt::format("{} is not a read-only mount in the guest (options: {})",
                                     fixtures[bad].guest_path,
                                     bad < lines.size() ? std::string(trim(lines[bad])) : "none"),
                         {}};
        }
        if (std::chrono::steady_clock::now() + std::chrono::seconds(1) >= deadline)
            break;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (last.kind != ErrorKind::Timeout)
        last.context += " (gave up waiting)";
    return fail(std::move(last));
}

} // namespace fleetbox::client

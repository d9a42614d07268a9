// Parser for apt's two sources formats (sources.list(5)): one-line `deb [opts] uri suite
// comp...` and deb822 paragraphs (Types/URIs/Suites/Components/Enabled). Only what is needed
// to pick the Debian archive entries of one suite family; options such as signed-by are
// dropped, because mmdebstrap finds the right keyring itself ("finding correct signed-by").
#include "image/apt_sources.hpp"

#include "image/catalog.hpp"
#include "sys/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <sstream>

namespace fleetbox::image {

namespace {

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::istringstream in{std::string(s)};
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

void parse_one_line(const std::string& text, const std::string& file, std::vector<AptSource>& out) {
    for (const auto& raw : split(text, '\n')) {
        std::string line(trim(raw.substr(0, raw.find('#'))));
        if (line.empty())
            continue;
        // Options in brackets may contain spaces: "deb [ arch=amd64 signed-by=x ] uri ...".
        if (auto open = line.find('['); open != std::string::npos) {
            auto close = line.find(']', open);
            if (close == std::string::npos)
                continue;
            line.erase(open, close - open + 1);
        }
        auto w = words(line);
        if (w.size() < 3 || (w[0] != "deb" && w[0] != "deb-src"))
            continue;
        AptSource s;
        s.types = {w[0]};
        s.uris = {w[1]};
        s.suites = {w[2]};
        s.components.assign(w.begin() + 3, w.end());
        s.file = file;
        out.push_back(std::move(s));
    }
}

void finish_paragraph(std::vector<std::pair<std::string, std::string>>& fields,
                      const std::string& file, std::vector<AptSource>& out) {
    AptSource s;
    s.file = file;
    bool enabled = true;
    for (const auto& [key, value] : fields) {
        auto k = lower(key);
        if (k == "types")
            s.types = words(value);
        else if (k == "uris")
            s.uris = words(value);
        else if (k == "suites")
            s.suites = words(value);
        else if (k == "components")
            s.components = words(value);
        else if (k == "enabled")
            enabled = lower(std::string(trim(value))) != "no";
    }
    fields.clear();
    if (enabled && !s.types.empty() && !s.uris.empty() && !s.suites.empty())
        out.push_back(std::move(s));
}

void parse_deb822(const std::string& text, const std::string& file, std::vector<AptSource>& out) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& raw : split(text, '\n')) {
        if (!raw.empty() && raw[0] == '#')
            continue;
        if (trim(raw).empty()) {
            finish_paragraph(fields, file, out);
            continue;
        }
        if ((raw[0] == ' ' || raw[0] == '\t') && !fields.empty()) { // continuation line
            fields.back().second += " " + std::string(trim(raw));
            continue;
        }
        auto colon = raw.find(':');
        if (colon == std::string::npos)
            continue;
        fields.emplace_back(std::string(trim(raw.substr(0, colon))),
                            std::string(trim(raw.substr(colon + 1))));
    }
    finish_paragraph(fields, file, out);
}

bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

void add_unique(std::vector<std::string>& v, const std::string& x) {
    if (!has(v, x))
        v.push_back(x);
}

// The suite family: "bookworm", "bookworm-updates", "bookworm-security" (not backports or
// proposed-updates, which would change the package set).
bool in_family(const std::string& s, const std::string& suite) {
    return s == suite || s == suite + "-updates" || s == suite + "-security";
}

// A Debian archive or its security archive: a URI path ending in /debian or /debian-security.
bool is_debian_archive(const std::string& uri) {
    std::string u = uri;
    while (!u.empty() && u.back() == '/')
        u.pop_back();
    auto ends = [&](std::string_view tail) {
        return u.size() >= tail.size() && u.compare(u.size() - tail.size(), tail.size(), tail) == 0;
    };
    return ends("/debian") || ends("/debian-security");
}

// The same role in the wanted release: "bookworm-security" -> "bullseye-security" for suite
// "bullseye", "bookworm" -> "bullseye"; "" for a suite outside a family (backports,
// proposed-updates, "bookworm/updates", "nodistro").
std::string same_role(const std::string& host_suite, const std::string& suite) {
    if (host_suite.find('/') != std::string::npos)
        return {};
    auto dash = host_suite.find('-');
    if (dash == std::string::npos)
        return suite;
    std::string role = host_suite.substr(dash);
    return role == "-updates" || role == "-security" ? suite + role : std::string();
}

std::string mirror_line(const std::string& uri, const std::string& suite,
                        const std::vector<std::string>& comps) {
    return fmt::format("deb {} {} {}", uri, suite, join(comps, " "));
}

} // namespace

std::vector<AptSource> parse_apt_sources(const std::string& text, const std::string& file_name) {
    std::vector<AptSource> out;
    bool deb822 =
        file_name.size() >= 8 && file_name.compare(file_name.size() - 8, 8, ".sources") == 0;
    if (deb822)
        parse_deb822(text, file_name, out);
    else
        parse_one_line(text, file_name, out);
    return out;
}

Result<std::vector<AptSource>> read_apt_sources(const std::string& apt_dir) {
    std::vector<std::string> files;
    if (path_exists(apt_dir + "/sources.list"))
        files.push_back(apt_dir + "/sources.list");
    auto names = FBX_TRY(list_dir(apt_dir + "/sources.list.d"));
    for (const auto& name : names) {
        auto ends = [&](std::string_view ext) {
            return name.size() > ext.size() &&
                   name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
        };
        if (ends(".list") || ends(".sources"))
            files.push_back(apt_dir + "/sources.list.d/" + name);
    }
    std::vector<AptSource> all;
    for (const auto& f : files) {
        auto text = read_file(f);
        if (!text)
            continue; // an unreadable file is apt's problem, not a reason to fail here
        auto parsed = parse_apt_sources(*text, f);
        all.insert(all.end(), parsed.begin(), parsed.end());
    }
    return all;
}

Result<MirrorSet> select_mirrors(const std::vector<AptSource>& sources, const std::string& suite,
                                 const std::vector<std::string>& components) {
    MirrorSet set;
    for (const auto& s : sources) {
        if (!has(s.types, "deb"))
            continue;
        for (const auto& uri : s.uris)
            for (const auto& su : s.suites) {
                if (!in_family(su, suite))
                    continue;
                add_unique(set.lines, mirror_line(uri, su, components));
                add_unique(set.uris, uri);
                add_unique(set.files, s.file);
            }
    }
    if (!set.lines.empty())
        return set;
    // No entry for this release: borrow the host's Debian archives, each suite in the same
    // role for ours (bookworm-security -> bullseye-security), so the image gets its release's
    // updates and security fixes too.
    for (const auto& s : sources) {
        if (!has(s.types, "deb"))
            continue;
        for (const auto& uri : s.uris) {
            if (!is_debian_archive(uri))
                continue;
            for (const auto& su : s.suites) {
                std::string ours = same_role(su, suite);
                if (ours.empty())
                    continue;
                add_unique(set.lines, mirror_line(uri, ours, components));
                add_unique(set.uris, uri);
                add_unique(set.files, s.file);
            }
        }
    }
    if (!set.lines.empty())
        return set;
    return fail(
        ErrorKind::NotFound, "find the Debian mirror",
        "no Debian archive (a URI ending in /debian) is configured in /etc/apt/sources.list "
        "or /etc/apt/sources.list.d/",
        "add the mirror apt should use, e.g. /etc/apt/sources.list.d/debian.sources with "
        "URIs: http://deb.debian.org/debian");
}

Result<MirrorSet> discover_mirrors(const std::string& suite,
                                   const std::vector<std::string>& components,
                                   const std::string& apt_dir) {
    auto sources = FBX_TRY(read_apt_sources(apt_dir));
    return select_mirrors(sources, suite, components);
}

Result<std::vector<std::string>> host_mirrors() {
    const auto* entry = FBX_TRY(find_alias(catalog().default_alias));
    auto set = FBX_TRY(discover_mirrors(entry->suite, entry->components));
    return set.lines;
}

} // namespace fleetbox::image

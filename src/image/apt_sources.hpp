// The host's configured Debian mirror, read from its apt sources, as mmdebstrap mirror lines.
//
// Why: images are built "from the host's configured Debian mirror" — the one apt on this
// machine already uses (often a local mirror or proxy; no internet is assumed). The host's
// files cannot be handed to mmdebstrap verbatim: they may name another release (a trixie
// host building bookworm) or carry third-party repositories that would be fetched into the
// image build. So both formats (one-line *.list and deb822 *.sources) are parsed, and only
// Debian entries of the wanted suite family (bookworm, bookworm-updates, bookworm-security)
// are kept. A host whose sources name only other releases still lends its Debian archives:
// each of their suites in the same role for the wanted release (a bookworm host building
// bullseye gets bullseye, bullseye-updates and bullseye-security from the same URIs).
#pragma once

#include "util/error.hpp"

#include <string>
#include <vector>

namespace fleetbox::image {

struct AptSource {
    std::vector<std::string> types; // "deb", "deb-src"
    std::vector<std::string> uris;
    std::vector<std::string> suites;
    std::vector<std::string> components;
    std::string file; // where it was read from
};

struct MirrorSet {
    std::vector<std::string> lines; // "deb URI SUITE COMPONENTS..." for mmdebstrap
    std::vector<std::string> uris;  // distinct URIs, for messages
    std::vector<std::string> files; // the host files they came from, for messages
};

// Parse one sources file's text; format chosen by name (*.sources = deb822, else one-line).
// Disabled entries (Enabled: no) and comments are skipped.
std::vector<AptSource> parse_apt_sources(const std::string& text, const std::string& file_name);

// All entries of <apt_dir>/sources.list and <apt_dir>/sources.list.d/*.{list,sources}.
Result<std::vector<AptSource>> read_apt_sources(const std::string& apt_dir = "/etc/apt");

// Mirror lines for `suite` from these sources; NotFound when no Debian archive is configured.
Result<MirrorSet> select_mirrors(const std::vector<AptSource>& sources, const std::string& suite,
                                 const std::vector<std::string>& components);

// The host's mirrors for `suite` (default bookworm), from /etc/apt (or apt_dir).
Result<MirrorSet> discover_mirrors(const std::string& suite = "bookworm",
                                   const std::vector<std::string>& components = {"main"},
                                   const std::string& apt_dir = "/etc/apt");

// Just the mmdebstrap mirror lines of discover_mirrors() for the default image's suite.
Result<std::vector<std::string>> host_mirrors();

} // namespace fleetbox::image

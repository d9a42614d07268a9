// CLI plumbing shared by the subcommands: error reporting and table output.
#include "cli.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/core.h>

namespace fleetbox::cli {

int report_error(const Error& error) {
    fmt::print(stderr, "error: {}\n", error.message());
    if (!error.hint.empty())
        fmt::print(stderr, "hint: {}\n", error.hint);
    return error.kind == ErrorKind::Interrupted ? 130 : 1;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size())
                line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        fmt::print("{}\n", line);
    }
}

} // namespace fleetbox::cli

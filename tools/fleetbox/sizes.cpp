// Size parsing for --mem/--disk (binary units: G = GiB, M = MiB).
#include "sizes.hpp"

#include <cctype>
#include <fmt/format.h>

namespace fleetbox::cli {

Result<std::uint64_t> parse_size_mib(const std::string& text, const std::string& flag) {
    auto bad = [&] {
        return fail(ErrorKind::InvalidArgument, fmt::format("invalid {} \"{}\"", flag, text),
                    "want a positive size such as 2G or 1536M");
    };
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
        ++digits;
    if (digits == 0 || digits > 9)
        return bad();
    std::uint64_t value = std::stoull(text.substr(0, digits));
    std::string unit = text.substr(digits);
    std::uint64_t mib = 0;
    if (unit.empty() || unit == "G" || unit == "g" || unit == "GiB" || unit == "GB")
        mib = value * 1024;
    else if (unit == "M" || unit == "m" || unit == "MiB" || unit == "MB")
        mib = value;
    else
        return bad();
    if (mib == 0)
        return fail(ErrorKind::InvalidArgument, fmt::format("invalid {} \"{}\"", flag, text),
                    "it must be more than 0");
    return mib;
}

} // namespace fleetbox::cli

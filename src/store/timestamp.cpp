// RFC 3339 formatting (gmtime_r) and strict parsing (fixed-width fields, then timegm(3), which
// turns broken-down UTC into seconds without the process's TZ getting involved).
#include "store/timestamp.hpp"

#include <cstdio>
#include <ctime>
#include <optional>

namespace fleetbox {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Reads exactly n digits at text[pos...]; advances pos.
std::optional<int> digits(std::string_view text, std::size_t& pos, std::size_t n) {
    if (pos + n > text.size())
        return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    pos += n;
    return value;
}

bool expect(std::string_view text, std::size_t& pos, std::string_view chars) {
    if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos)
        return false;
    ++pos;
    return true;
}

// Fractional seconds ".d..." (one digit or more) as nanoseconds; 0 when absent.
std::optional<long> fraction(std::string_view text, std::size_t& pos) {
    if (pos >= text.size() || text[pos] != '.')
        return 0L;
    ++pos;
    long nanos = 0;
    std::size_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (n < 9)
            nanos = nanos * 10 + (text[pos] - '0');
        ++n;
        ++pos;
    }
    if (n == 0)
        return std::nullopt; // digits past the 9th are dropped
    for (; n < 9; ++n)
        nanos *= 10;
    return nanos;
}

// "Z" -> 0, "+hh:mm"/"-hh:mm" -> offset east of UTC in seconds.
std::optional<long> zone(std::string_view text, std::size_t& pos) {
    if (expect(text, pos, "Zz"))
        return 0L;
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-'))
        return std::nullopt;
    const long sign = text[pos++] == '-' ? -1 : 1;
    auto hh = digits(text, pos, 2);
    if (!hh || !expect(text, pos, ":"))
        return std::nullopt;
    auto mm = digits(text, pos, 2);
    if (!mm || *hh > 23 || *mm > 59)
        return std::nullopt;
    return sign * (*hh * 3600L + *mm * 60L);
}

std::optional<TimePoint> parse(std::string_view text) {
    std::size_t pos = 0;
    std::tm tm{};
    auto year = digits(text, pos, 4);
    if (!year || !expect(text, pos, "-"))
        return std::nullopt;
    auto month = digits(text, pos, 2);
    if (!month || !expect(text, pos, "-"))
        return std::nullopt;
    auto day = digits(text, pos, 2);
    if (!day || !expect(text, pos, "Tt"))
        return std::nullopt;
    auto hour = digits(text, pos, 2);
    if (!hour || !expect(text, pos, ":"))
        return std::nullopt;
    auto minute = digits(text, pos, 2);
    if (!minute || !expect(text, pos, ":"))
        return std::nullopt;
    auto second = digits(text, pos, 2);
    if (!second)
        return std::nullopt;
    auto nanos = fraction(text, pos);
    auto offset = nanos ? zone(text, pos) : std::nullopt;
    if (!offset || pos != text.size())
        return std::nullopt;
    if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
        *second > 60)
        return std::nullopt;
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    const std::time_t utc = ::timegm(&tm) - *offset;
    return TimePoint(duration_cast<TimePoint::duration>(seconds(utc) + nanoseconds(*nanos)));
}

} // namespace

std::string format_rfc3339_utc(TimePoint t) {
    const auto since_epoch = duration_cast<microseconds>(t.time_since_epoch());
    auto secs = duration_cast<seconds>(since_epoch);
    auto micros = (since_epoch - secs).count();
    if (micros < 0) { // before 1970: floor, keep the fraction positive
        secs -= seconds(1);
        micros += 1000000;
    }
    const std::time_t tt = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long>(micros));
    return buf;
}

std::string now_rfc3339() {
    return format_rfc3339_utc(std::chrono::system_clock::now());
}

Result<TimePoint> parse_rfc3339(std::string_view text) {
    if (auto t = parse(text))
        return *t;
    return fail(ErrorKind::InvalidArgument, "parse time \"" + std::string(text) + "\"",
                "not an RFC 3339 date-time like 2026-11-28T18:00:00Z");
}

} // namespace fleetbox

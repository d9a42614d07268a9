// RFC 3339 timestamps for config.json's created_at.
//
// Why: the original wrote Go's time.Time (RFC3339Nano, any offset); `ls` shows the age from it
// and `ls -o json` prints it. fleetbox writes UTC with microseconds
// ("2026-11-28T18:00:00.123456Z") and reads any RFC 3339 time, so configs from the original
// (e.g. "2024-05-01T10:00:00.5+02:00") still load.
#pragma once

#include "util/error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace fleetbox {

using TimePoint = std::chrono::system_clock::time_point;

[[nodiscard]] std::string format_rfc3339_utc(TimePoint t);
[[nodiscard]] std::string now_rfc3339();
// InvalidArgument (with the text quoted) when it is not an RFC 3339 date-time.
Result<TimePoint> parse_rfc3339(std::string_view text);

} // namespace fleetbox

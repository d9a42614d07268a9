// RFC 3339 formatting (UTC, microseconds) and parsing (any offset, as the original wrote).
#include "store/timestamp.hpp"

#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using namespace std::chrono;

TimePoint at(long long secs, long long micros = 0) {
    return TimePoint(duration_cast<TimePoint::duration>(seconds(secs) + microseconds(micros)));
}

TEST(Timestamp, FormatsUtcWithMicroseconds) {
    EXPECT_EQ(format_rfc3339_utc(at(0)), "1970-01-01T00:00:00.000000Z");
    // 2026-11-28T18:00:00Z = 1795888800
    EXPECT_EQ(format_rfc3339_utc(at(1795888800, 123456)), "2026-11-28T18:00:00.123456Z");
    EXPECT_EQ(format_rfc3339_utc(at(-1, 500000)), "1969-12-31T23:59:59.500000Z");
}

TEST(Timestamp, ParsesWhatItFormats) {
    const TimePoint t = at(1795888800, 123456);
    auto parsed = parse_rfc3339(format_rfc3339_utc(t));
    ASSERT_TRUE(parsed) << parsed.error().message();
    EXPECT_EQ(*parsed, t);
    auto now = parse_rfc3339(now_rfc3339());
    ASSERT_TRUE(now);
}

TEST(Timestamp, ParsesOffsetsAndGoNanoseconds) {
    auto plus = parse_rfc3339("2026-11-28T20:00:00+02:00");
    ASSERT_TRUE(plus);
    EXPECT_EQ(*plus, at(1795888800));
    auto minus = parse_rfc3339("2026-11-28T17:30:00-00:30");
    ASSERT_TRUE(minus);
    EXPECT_EQ(*minus, at(1795888800));
    auto nano = parse_rfc3339("2026-11-28T18:00:00.123456789Z");
    ASSERT_TRUE(nano);
    EXPECT_EQ(duration_cast<nanoseconds>(nano->time_since_epoch()).count(), 1795888800123456789LL);
    EXPECT_TRUE(parse_rfc3339("2026-11-28t18:00:00z"));
    EXPECT_TRUE(parse_rfc3339("2026-11-28T18:00:00.5Z"));
}

TEST(Timestamp, RefusesOtherText) {
    for (const char* bad : {"", "2026-11-28", "2026-11-28T18:00:00", "2026-11-28 18:00:00Z",
                            "2026-13-01T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T18:00:00.Z",
                            "2026-11-28T18:00:00+0200", "2026-11-28T18:00:00Zjunk", "yesterday"}) {
        auto parsed = parse_rfc3339(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.error().kind, ErrorKind::InvalidArgument);
    }
}

} // namespace
} // namespace fleetbox

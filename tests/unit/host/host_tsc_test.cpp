// Unit tests for vm/host_tsc: the measured rate is plausible, stable across calls (cached),
// and agrees with the kernel's own figure when /proc/cpuinfo has one for a constant TSC.
#include "host/host_tsc.hpp"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <string>

namespace fleetbox {
namespace {

// "cpu MHz" of the first CPU, when the CPU has a constant-rate TSC whose rate the kernel knows.
double cpuinfo_tsc_mhz() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    double mhz = 0;
    bool known = false;
    while (std::getline(in, line)) {
        if (mhz == 0 && line.rfind("cpu MHz", 0) == 0)
            mhz = std::stod(line.substr(line.find(':') + 1));
        if (line.rfind("flags", 0) == 0) {
            known = line.find(" tsc_known_freq") != std::string::npos &&
                    line.find(" constant_tsc") != std::string::npos;
            break;
        }
    }
    return known ? mhz : 0;
}

TEST(HostTsc, MeasuresAPlausibleCachedRate) {
#if defined(__x86_64__)
    auto khz = host_tsc_khz();
    ASSERT_TRUE(khz) << khz.error().message();
    EXPECT_GE(*khz, 100'000ul);
    EXPECT_LE(*khz, 10'000'000ul);
    auto again = host_tsc_khz();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *khz);
#else
    GTEST_SKIP() << "x86 only";
#endif
}

TEST(HostTsc, AgreesWithTheKernelsKnownFrequency) {
    double mhz = cpuinfo_tsc_mhz();
    if (mhz == 0)
        GTEST_SKIP() << "no known constant TSC frequency in /proc/cpuinfo";
    auto khz = host_tsc_khz();
    ASSERT_TRUE(khz) << khz.error().message();
    // Within 2 %: a wrong pin would make the guest clock run visibly fast or slow.
    EXPECT_NEAR(static_cast<double>(*khz), mhz * 1000.0, mhz * 1000.0 * 0.02);
}

} // namespace
} // namespace fleetbox

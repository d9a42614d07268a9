// Measures the TSC rate against CLOCK_MONOTONIC_RAW (the unadjusted kernel clock): three
// ~20 ms windows, each end sampled as the (clock, rdtsc, clock) triple with the tightest
// bracket so that a preemption between the two reads cannot skew it; the median is kept.
#include "host/host_tsc.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define FBX_HAVE_TSC 1
#endif

namespace fleetbox {

namespace {

#ifdef FBX_HAVE_TSC
std::int64_t raw_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Sample {
    std::int64_t ns;
    std::uint64_t tsc;
};

Sample sample() {
    Sample best{};
    std::int64_t best_gap = INT64_MAX;
    for (int i = 0; i < 5; ++i) {
        std::int64_t before = raw_ns();
        std::uint64_t tsc = __rdtsc();
        std::int64_t after = raw_ns();
        if (after - before < best_gap) {
            best_gap = after - before;
            best = {before + (after - before) / 2, tsc};
        }
    }
    return best;
}

unsigned long measure() {
    std::array<unsigned long, 3> khz{};
    for (auto& k : khz) {
        Sample a = sample();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        Sample b = sample();
        auto ns = static_cast<double>(b.ns - a.ns);
        k = ns > 0 ? static_cast<unsigned long>(static_cast<double>(b.tsc - a.tsc) * 1e6 / ns) : 0;
    }
    std::sort(khz.begin(), khz.end());
    return khz[1];
}
#endif

} // namespace

Result<unsigned long> host_tsc_khz() {
#ifdef FBX_HAVE_TSC
    static const unsigned long cached = measure();
    // Anything outside 100 MHz .. 10 GHz is a broken measurement, not a TSC.
    if (cached < 100'000 || cached > 10'000'000)
        return fail(ErrorKind::NotFound, "measure the host TSC frequency",
                    "implausible result " + std::to_string(cached) + " kHz");
    return cached;
#else
    return fail(ErrorKind::NotFound, "measure the host TSC frequency", "not an x86 host");
#endif
}

} // namespace fleetbox

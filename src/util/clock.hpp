// Elapsed time for phase timings, progress lines and reports: one definition of "seconds
// since", on the steady clock (never moved by NTP or the user setting the date).
#pragma once

#include <chrono>

namespace fleetbox {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace fleetbox

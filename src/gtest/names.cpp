// VM names for tests (include/fleetbox/gtest.hpp): the reference's safeName, plus a suffix
// that keeps parallel runs of one test binary apart.
//
// Why random letters AND the pid AND a counter: the pid separates live processes, the counter
// separates calls within one process, and the random letters separate this run from an
// earlier one that had the same pid and left a VM behind (a kept VM, a killed run's disk):
// starting a name that already exists would reuse that VM. Letters first, so the suffix is
// never "<digits>" (the store derives a cluster by stripping one trailing "-<digits>"), and
// the counter is joined by 'x', never by '-', for the same reason.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <fleetbox/gtest.hpp>
#include <random>
#include <string>
#include <unistd.h>

namespace fleetbox::testing {

namespace {
constexpr std::size_t kSafeNameMax = 50;
constexpr std::size_t kVmNameMax = 63; // one DNS label
constexpr std::size_t kRandomLetters = 3;

std::string trim_dashes(std::string s) {
    auto first = s.find_first_not_of('-');
    if (first == std::string::npos)
        return {};
    auto last = s.find_last_not_of('-');
    return s.substr(first, last - first + 1);
}

std::string unique_suffix() {
    static std::atomic<unsigned> counter{0};
    unsigned n = ++counter;
    std::random_device device;
    std::uniform_int_distribution<int> letter(0, 25);
    std::string suffix;
    for (std::size_t i = 0; i < kRandomLetters; ++i)
        suffix += static_cast<char>('a' + letter(device));
    return suffix + std::to_string(::getpid()) + "x" + std::to_string(n);
}
} // namespace

std::string safe_name(std::string_view text) {
    std::string out;
    for (char raw : text) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
        if (c == '/' || c == '_')
            c = '-';
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
            out += c;
    }
    if (out.size() > kSafeNameMax)
        out.resize(kSafeNameMax);
    out = trim_dashes(out);
    return out.empty() ? std::string("test") : out;
}

std::string unique_name(std::string_view base, std::size_t reserve) {
    std::string suffix = unique_suffix();
    std::size_t room = kVmNameMax - std::min(kVmNameMax, suffix.size() + 1 + reserve);
    std::string head = safe_name(base);
    if (head.size() > room)
        head.resize(room);
    head = trim_dashes(head);
    return head.empty() ? suffix : head + "-" + suffix;
}

std::string current_test_name() {
    const auto* unit = ::testing::UnitTest::GetInstance();
    if (const auto* test = unit->current_test_info())
        return safe_name(std::string(test->test_suite_name()) + "-" + test->name());
    if (const auto* suite = unit->current_test_suite())
        return safe_name(suite->name());
    return "test";
}

bool keep_on_failure() {
    const char* env = std::getenv("FLEETBOX_KEEP_ON_FAILURE");
    if (env == nullptr)
        return false;
    std::string v(env);
    std::transform(v.begin(), v.end(), v.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return v == "1" || v == "true" || v == "yes";
}

} // namespace fleetbox::testing

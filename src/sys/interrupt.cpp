// Interrupt flag set from an async-signal-safe handler (a lock-free atomic store only).
#include "sys/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace fleetbox {

namespace {
std::atomic<int> g_signal{0};
void on_signal(int sig) {
    g_signal.store(sig);
}
} // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
}

bool interrupted() {
    return g_signal.load() != 0;
}
int interrupt_signal() {
    return g_signal.load();
}
void reset_interrupt() {
    g_signal.store(0);
}

} // namespace fleetbox

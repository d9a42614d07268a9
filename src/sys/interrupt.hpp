// Interrupt handling: turn SIGINT/SIGTERM/SIGHUP into a flag that long operations poll.
//
// Why: an interrupted image build must remove its temporary directory and kill its children
// before exiting, so the default "die immediately" disposition is replaced by a flag. The CLI
// installs the handlers; library callers who do not install them keep their own behavior.
#pragma once

namespace fleetbox {

void install_interrupt_handlers();
[[nodiscard]] bool interrupted();
// Signal number that set the flag (0 when none); the CLI re-raises it after cleanup.
[[nodiscard]] int interrupt_signal();
// For tests.
void reset_interrupt();

} // namespace fleetbox

// RAII owners for libssh objects (internal to src/guest).
//
// Why: libssh hands out raw pointers with per-type free functions; a unique_ptr with the right
// deleter frees them on every return path. Order matters for channels: a channel must be
// freed before its session, and channel callbacks must outlive the channel.
#pragma once

#include <libssh/libssh.h>
#include <memory>
#include <string>

namespace fleetbox::guest::detail {

// fleetbox connects the TCP socket itself and hands it over with SSH_OPTIONS_FD. Since 0.10,
// ssh_disconnect leaves such a socket open (the caller is meant to own it), yet libssh still
// closes it itself on some handshake errors. Clearing the option first makes libssh the one
// owner that closes it exactly once in every path (the libnetconf2 workaround).
struct SessionDeleter {
    void operator()(ssh_session s) const {
        ssh_options_set(s, SSH_OPTIONS_FD, nullptr); // "no user fd": sets opts.fd invalid
        ssh_disconnect(s);
        ssh_free(s);
    }
};
struct ChannelDeleter {
    void operator()(ssh_channel c) const { ssh_channel_free(c); }
};
struct KeyDeleter {
    void operator()(ssh_key k) const { ssh_key_free(k); }
};
struct EventDeleter {
    void operator()(ssh_event e) const { ssh_event_free(e); }
};

using SessionPtr = std::unique_ptr<ssh_session_struct, SessionDeleter>;
using ChannelPtr = std::unique_ptr<ssh_channel_struct, ChannelDeleter>;
using KeyPtr = std::unique_ptr<ssh_key_struct, KeyDeleter>;
using EventPtr = std::unique_ptr<ssh_event_struct, EventDeleter>;

// libssh's last error text for the session ("" when it has none).
inline std::string last_error(ssh_session s) {
    const char* text = ssh_get_error(s);
    return text != nullptr ? text : "";
}

} // namespace fleetbox::guest::detail

// member_status / ensure_member_down over HelperLauncher::attach (see member_state.hpp for why
// only "no helper answers" means stopped). A detached helper exits as soon as its last member
// is stopped, so a call that reached it may find it gone a moment later: a failed connect or
// request is read as "stopped" only when a fresh connect then finds no helper at all.
#include "client/member_state.hpp"

namespace fleetbox::client {

namespace {

proto::StatusInfo stopped(const std::string& name) {
    return proto::StatusInfo{name, proto::MemberState::Stopped, "", 0, 0, ""};
}

// True when, right now, no helper answers on the member's socket.
bool helper_gone(const Store& store, const HelperLauncher& launcher, const std::string& name) {
    auto again = launcher.attach(store, name);
    return !again && no_helper_answers(again.error());
}

} // namespace

Result<proto::StatusInfo> member_status(const Store& store, const HelperLauncher& launcher,
                                        const std::string& name) {
    auto remote = launcher.attach(store, name);
    if (!remote) {
        if (no_helper_answers(remote.error()) || helper_gone(store, launcher, name))
            return stopped(name);
        return fail(std::move(remote).error());
    }
    auto st = (*remote)->status(name);
    if (st)
        return *st;
    remote->reset();
    if (helper_gone(store, launcher, name))
        return stopped(name);
    return fail(std::move(st).error());
}

Status ensure_member_down(const Store& store, const HelperLauncher& launcher,
                          const std::string& name) {
    const std::string what = "stop " + name + " before deleting it";
    auto remote = launcher.attach(store, name);
    if (!remote) {
        if (no_helper_answers(remote.error()) || helper_gone(store, launcher, name))
            return {};
        return fail(std::move(remote).error().wrap(what));
    }
    auto st = (*remote)->status(name);
    if (!st) {
        remote->reset();
        if (helper_gone(store, launcher, name))
            return {};
        return fail(std::move(st).error().wrap(what));
    }
    if (st->state != proto::MemberState::Stopped) {
        // Only the helper's own "stopped" confirms it: a stop that failed (even one whose
        // helper vanished) leaves QEMU's fate unknown.
        FBX_CHECK(
            (*remote)->stop(name).map_error([&](Error e) { return std::move(e).wrap(what); }));
    }
    // A cluster's helper may still hold the stopped member's address: give it back.
    (void)(*remote)->release(name);
    return {};
}

} // namespace fleetbox::client

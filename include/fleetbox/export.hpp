// FLEETBOX_API marks what the installed libfleetbox exports.
//
// Why: the shared library is built with hidden visibility, so only the public API (this
// directory) is part of its ABI; the layers behind it (store, net, helper protocol...) stay
// private and can change without breaking programs linked against an installed fleetbox.
#pragma once

#define FLEETBOX_API __attribute__((visibility("default")))

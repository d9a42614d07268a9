// fleetbox: real Linux VMs as test fixtures. The one header to include for the whole API.
//
//   auto vm = fleetbox::start("web", {});            // create + boot, or reuse (vm.hpp)
//   auto r  = vm->ssh("uname -a");                   // {exit_code, out, err}
//   auto web = fleetbox::start_cluster("web", 3);    // web-1..web-3 on one network (cluster.hpp)
//
// Every call returns fleetbox::Result (error.hpp): either the value or an Error whose
// message() is one line saying what failed and why, and whose hint says what to do.
// Nothing here throws; handles (Vm, Cluster) own what they started and clean it up when
// they go away, even when the process is killed.
#pragma once

#include <fleetbox/cluster.hpp>
#include <fleetbox/error.hpp>
#include <fleetbox/host.hpp>
#include <fleetbox/options.hpp>
#include <fleetbox/prune.hpp>
#include <fleetbox/vm.hpp>

// fleetbox-helper: the process that holds a fleetbox network and its QEMU children and
// answers the control protocol on per-member sockets (docs/protocol.md). Everything but the
// backend choice lives in src/helper; the backend comes from make_backend() in backend.cpp.
#include "helper/helper_main.hpp"

int main(int argc, char** argv) {
    return fleetbox::helper::helper_main(argc, argv);
}

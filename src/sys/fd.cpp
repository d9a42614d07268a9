// Fd closing. close() is not retried on EINTR: on Linux the descriptor is gone either way.
#include "sys/fd.hpp"

#include <unistd.h>

namespace fleetbox {

void Fd::reset(int fd) {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = fd;
}

} // namespace fleetbox

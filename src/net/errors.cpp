// See errors.hpp: one Permission error shape for every CAP_NET_ADMIN failure.
#include "net/errors.hpp"

#include <cerrno>
#include <utility>

namespace fleetbox {

Error net_errno_error(std::string operation, int err_no) {
    Error e = errno_error(std::move(operation), err_no);
    if (err_no == EPERM || err_no == EACCES)
        e.hint = kNetAdminHint;
    return e;
}

} // namespace fleetbox

// libnl socket and error plumbing (see nl_common.hpp).
#include "net/nl_common.hpp"

#include "net/errors.hpp"

#include <cerrno>
#include <netlink/errno.h>

namespace fleetbox::nl {

int errno_of(int nlerr) {
    switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_PERM:
        return EPERM;
    case NLE_NOACCESS:
        return EACCES;
    case NLE_EXIST:
        return EEXIST;
    case NLE_NODEV:
        return ENODEV;
    case NLE_OBJ_NOTFOUND:
        return ENOENT;
    case NLE_BUSY:
        return EBUSY;
    case NLE_INVAL:
        return EINVAL;
    case NLE_NOMEM:
        return ENOMEM;
    case NLE_AGAIN:
        return EAGAIN;
    case NLE_INTR:
        return EINTR;
    case NLE_RANGE:
        return ERANGE;
    case NLE_OPNOTSUPP:
        return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT:
        return EAFNOSUPPORT;
    case NLE_NOADDR:
        return EADDRNOTAVAIL;
    case NLE_MSGSIZE:
        return EMSGSIZE;
    default:
        return 0;
    }
}

bool is_missing(int nlerr) {
    return nlerr == -NLE_NODEV || nlerr == -NLE_OBJ_NOTFOUND;
}

Error error(std::string operation, int nlerr) {
    if (const int e = errno_of(nlerr); e != 0)
        return net_errno_error(std::move(operation), e);
    return Error{ErrorKind::Io, 0, std::move(operation), nl_geterror(nlerr), {}};
}

Result<SockPtr> connect_route(const std::string& operation) {
    SockPtr sock(nl_socket_alloc());
    if (!sock)
        return fail_errno(operation + ": allocate netlink socket", ENOMEM);
    if (const int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0)
        return fail(error(operation + ": connect to rtnetlink", err));
    return sock;
}

} // namespace fleetbox::nl

// Formatting and construction of Error values (see error.hpp for why they exist).
#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace fleetbox {

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::Io:
        return "io";
    case ErrorKind::InvalidArgument:
        return "invalid-argument";
    case ErrorKind::NotFound:
        return "not-found";
    case ErrorKind::AlreadyExists:
        return "already-exists";
    case ErrorKind::Busy:
        return "busy";
    case ErrorKind::Timeout:
        return "timeout";
    case ErrorKind::MissingDependency:
        return "missing-dependency";
    case ErrorKind::ExternalCommand:
        return "external-command";
    case ErrorKind::Corrupt:
        return "corrupt";
    case ErrorKind::NoSpace:
        return "no-space";
    case ErrorKind::Network:
        return "network";
    case ErrorKind::Permission:
        return "permission";
    case ErrorKind::Interrupted:
        return "interrupted";
    case ErrorKind::Internal:
        return "internal";
    }
    return "unknown";
}

std::string Error::message() const {
    std::string why = context;
    if (err_no != 0) {
        std::string sys = std::strerror(err_no);
        why = why.empty() ? sys : why + " (" + sys + ")";
    }
    if (operation.empty())
        return why;
    if (why.empty())
        return operation;
    return operation + ": " + why;
}

Error Error::wrap(std::string_view outer) const& {
    Error copy = *this;
    return std::move(copy).wrap(outer);
}

Error Error::wrap(std::string_view outer) && {
    operation = operation.empty() ? std::string(outer) : std::string(outer) + ": " + operation;
    return std::move(*this);
}

Error Error::with_hint(std::string h) && {
    hint = std::move(h);
    return std::move(*this);
}

tl::unexpected<Error> fail(ErrorKind kind, std::string operation, std::string context,
                           std::string hint) {
    return tl::unexpected<Error>(
        Error{kind, 0, std::move(operation), std::move(context), std::move(hint)});
}

Error errno_error(std::string operation, int err_no) {
    ErrorKind kind = ErrorKind::Io;
    if (err_no == ENOENT)
        kind = ErrorKind::NotFound;
    else if (err_no == EEXIST)
        kind = ErrorKind::AlreadyExists;
    else if (err_no == ENOSPC || err_no == EDQUOT)
        kind = ErrorKind::NoSpace;
    else if (err_no == EACCES || err_no == EPERM)
        kind = ErrorKind::Permission;
    else if (err_no == EWOULDBLOCK || err_no == EBUSY)
        kind = ErrorKind::Busy;
    return Error{kind, err_no, std::move(operation), {}, {}};
}

tl::unexpected<Error> fail_errno(std::string operation, int err_no) {
    return tl::unexpected<Error>(errno_error(std::move(operation), err_no));
}

} // namespace fleetbox

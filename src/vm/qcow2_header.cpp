// qcow2 header check (see qcow2_header.hpp). Layout relied on (QEMU docs/interop/qcow2.txt):
// big-endian magic "QFI\xfb" at 0, version at 4; from version 3 on, incompatible_features
// (64 bits) at 72, whose bit 2 is "external data file". Version 2 images have no such bit.
#include "vm/qcow2_header.hpp"

#include "sys/fd.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <unistd.h>

namespace fleetbox {

namespace {

constexpr std::uint32_t kQcow2Magic = 0x514649fb;
constexpr std::uint64_t kExternalDataFile = 1ULL << 2;
constexpr size_t kIncompatibleOffset = 72;

std::uint64_t big_endian(const unsigned char* bytes, size_t n) {
    std::uint64_t value = 0;
    for (size_t i = 0; i < n; ++i)
        value = (value << 8) | bytes[i];
    return value;
}

} // namespace

Status check_qcow2_has_no_data_file(const std::string& path) {
    const std::string op = "check disk " + path;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return {}; // QEMU's own error is clearer ("Could not open ...")
    std::array<unsigned char, kIncompatibleOffset + 8> header{};
    ssize_t n = ::pread(fd.get(), header.data(), header.size(), 0);
    if (n < 0)
        return fail_errno(op, errno);
    if (n < 8 || big_endian(header.data(), 4) != kQcow2Magic)
        return fail(ErrorKind::InvalidArgument, op, "it is not a qcow2 image");
    const auto version = big_endian(header.data() + 4, 4);
    if (version < 3)
        return {};
    if (static_cast<size_t>(n) < header.size())
        return fail(ErrorKind::InvalidArgument, op, "its qcow2 header is truncated");
    if ((big_endian(header.data() + kIncompatibleOffset, 8) & kExternalDataFile) != 0)
        return fail(ErrorKind::InvalidArgument, op,
                    "the qcow2 header names an external data file (fleetbox never makes one)",
                    "recreate the VM: fleetbox rm, then fleetbox up");
    return {};
}

} // namespace fleetbox

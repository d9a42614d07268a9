// qcow2 header fields (see qcow2_header.hpp). Offsets from the qcow2 specification
// (docs/interop/qcow2.txt in QEMU): all integers big endian.
#include "diskimage/qcow2_header.hpp"

#include "diskimage/read_head.hpp"

#include <fmt/format.h>

namespace fleetbox::diskimage {

namespace {

std::uint64_t be(std::string_view bytes, std::size_t offset, std::size_t width) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i)
        v = (v << 8) | static_cast<unsigned char>(bytes[offset + i]);
    return v;
}

constexpr std::uint64_t kIncompatDataFile = 1U << 2;

std::string printable(std::string_view s) {
    std::string out;
    for (char c : s)
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

} // namespace

Result<Qcow2Header> parse_qcow2_header(std::string_view head) {
    if (head.size() < 72 || head.substr(0, 4) != std::string_view("QFI\xfb", 4))
        return fail(ErrorKind::Corrupt, "read qcow2 header", "the header is truncated");
    Qcow2Header h;
    h.version = static_cast<std::uint32_t>(be(head, 4, 4));
    h.backing_file_offset = be(head, 8, 8);
    h.backing_file_size = static_cast<std::uint32_t>(be(head, 16, 4));
    h.virtual_size = be(head, 24, 8);
    h.crypt_method = static_cast<std::uint32_t>(be(head, 32, 4));
    if (h.version >= 3) {
        if (head.size() < 80)
            return fail(ErrorKind::Corrupt, "read qcow2 header", "the header is truncated");
        h.incompatible_features = be(head, 72, 8);
    }
    // The backing file name is only quoted in the error; read it when it lies in `head`.
    if (h.backing_file_offset != 0 && h.backing_file_size <= 1023 &&
        h.backing_file_offset < head.size() &&
        head.size() - h.backing_file_offset >= h.backing_file_size)
        h.backing_name = printable(head.substr(h.backing_file_offset, h.backing_file_size));
    return h;
}

std::string self_contained_hint(const std::string& path) {
    return fmt::format("fleetbox needs a self-contained image; make one with: qemu-img convert "
                       "-O qcow2 {} self-contained.qcow2",
                       path);
}

Status refuse_unsafe_qcow2(const std::string& path, const Qcow2Header& header) {
    const std::string flatten = self_contained_hint(path);
    if (header.backing_file_offset != 0)
        return fail(ErrorKind::InvalidArgument, "",
                    header.backing_name.empty()
                        ? fmt::format("{} has a backing file", path)
                        : fmt::format("{} has a backing file ({})", path, header.backing_name),
                    flatten);
    if ((header.incompatible_features & kIncompatDataFile) != 0)
        return fail(ErrorKind::InvalidArgument, "",
                    fmt::format("{} keeps its data in an external data file", path), flatten);
    if (header.crypt_method != 0)
        return fail(ErrorKind::InvalidArgument, "", fmt::format("{} is encrypted", path),
                    kDecryptHint);
    return {};
}

Result<Qcow2Header> read_safe_qcow2_header(const std::string& path) {
    std::string head = FBX_TRY(read_head(path, 64 * 1024));
    auto header = parse_qcow2_header(head);
    if (!header)
        return fail(std::move(header).error().wrap(path));
    FBX_CHECK(refuse_unsafe_qcow2(path, *header));
    return header;
}

} // namespace fleetbox::diskimage

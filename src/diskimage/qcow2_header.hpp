// The few qcow2 header fields that decide whether an image is safe to hand to qemu-img.
//
// Why our own reading of them: a qcow2 header can name other host files (a backing file, an
// external data file). fleetbox refuses such an image before any qemu-img process sees it,
// so safety never depends on which qemu-img version is installed (older ones opened a named
// data file even for `qemu-img info`, CVE-2024-4467). Only the fixed header is read (big
// endian, at most 104 bytes plus the backing name); the rest of the format is qemu-img's.
#pragma once

#include "util/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace fleetbox::diskimage {

struct Qcow2Header {
    std::uint32_t version = 0;
    std::uint64_t backing_file_offset = 0;
    std::uint32_t backing_file_size = 0;
    std::uint32_t crypt_method = 0;
    std::uint64_t incompatible_features = 0; // version 3 only
    std::uint64_t virtual_size = 0;
    std::string backing_name; // printable form of the named backing file ("" when unreadable)
};

// The hint for an image that is not self-contained: how to flatten it with qemu-img.
std::string self_contained_hint(const std::string& path);
constexpr const char* kDecryptHint =
    "decrypt it first into a plain qcow2 or raw image (qemu-img convert --object secret,...)";

// Parses `head` (the file's first bytes, starting with "QFI\xfb"). Corrupt when too short.
Result<Qcow2Header> parse_qcow2_header(std::string_view head);

// InvalidArgument when the header names a backing file or an external data file, or the
// image is encrypted; "<path> has a backing file (base.qcow2)" + a hint to flatten it.
Status refuse_unsafe_qcow2(const std::string& path, const Qcow2Header& header);

// Reads the header of the qcow2 file at `path` and applies refuse_unsafe_qcow2.
Result<Qcow2Header> read_safe_qcow2_header(const std::string& path);

} // namespace fleetbox::diskimage

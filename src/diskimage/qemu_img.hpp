// How qemu-img is pointed at an untrusted image.
//
// Why a json: filename: a plain path is parsed by QEMU for a protocol prefix ("nbd:x",
// "ssh:x" in a relative file name would open a network connection), and the format would
// be probed without -f. The json: form names the driver and the file driver explicitly, with
// the absolute path taken literally, and for qcow2 sets "backing": null so even an image whose
// header names a backing file (refused earlier anyway, qcow2_header.hpp) opens none.
#pragma once

#include "diskimage/diskimage.hpp"

#include <string>

namespace fleetbox::diskimage {

// json:{"driver":"qcow2","backing":null,"file":{"driver":"file","filename":"/abs/path"}}
std::string qemu_img_source(const std::string& path, Format format);

constexpr const char* kQemuImgHint = "install it: sudo apt-get install qemu-utils";

} // namespace fleetbox::diskimage

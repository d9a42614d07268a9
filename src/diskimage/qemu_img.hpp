// How qemu-img is pointed at an untrusted image.
//
// Why a json: filename: a plain path is parsed by QEMU for a protocol prefix ("nbd:x",
// "ssh:x" in a relative file name would open a network connection), and the format would
// be probed without -f. The json: form names the driver and the file driver explicitly, with
// the absolute path taken literally, and for qcow2 sets "backing": null so even an image whose
// header names a backing file (refused earlier anyway, qcow2_header.hpp) opens none.
#pragma once

#include "diskimage/diskimage.hpp"
#include "sys/child_process.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace fleetbox::diskimage {

// json:{"driver":"qcow2","backing":null,"file":{"driver":"file","filename":"/abs/path"}}
std::string qemu_img_source(const std::string& path, Format format);

constexpr const char* kQemuImgHint = "install it: sudo apt-get install qemu-utils";

// Runs qemu-img (argv without the program name) to completion, stdout and stderr captured.
// In its own process group, killed when fleetbox dies; Ctrl-C (sys/interrupt.hpp) kills it
// and yields Interrupted, running past `limit` kills it and yields Timeout. A non-zero exit
// is not an error here: the caller reads the status and stderr.
// DiskFacts from `qemu-img info --output=json` output: InvalidArgument for a backing file,
// an external data file, encryption or a zero size; Corrupt for a format mismatch or the
// corrupt flag; ExternalCommand for output of the wrong shape.
Result<DiskFacts> facts_from_info(const std::string& path, Format format, std::string_view json);

Result<CommandOutput> run_qemu_img(const std::vector<std::string>& args,
                                   std::chrono::seconds limit);

} // namespace fleetbox::diskimage

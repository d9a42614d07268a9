// Placeholder definitions so the interface links while the layer is being written.
#include "diskimage/diskimage.hpp"

namespace fleetbox::diskimage {

const char* format_name(Format format) {
    return format == Format::Qcow2 ? "qcow2" : "raw";
}

Result<Format> sniff_format(const std::string& path) {
    return fail(ErrorKind::Internal, "sniff " + path, "not implemented yet");
}

Result<DiskFacts> check_disk(const std::string& path, Format) {
    return fail(ErrorKind::Internal, "check " + path, "not implemented yet");
}

Result<Inspection> inspect(const std::string& path, Format, const std::string&,
                           const std::string&) {
    return fail(ErrorKind::Internal, "inspect " + path, "not implemented yet");
}

} // namespace fleetbox::diskimage

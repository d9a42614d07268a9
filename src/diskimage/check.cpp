// check_disk (see diskimage.hpp): qemu-img info on the image, as the second of two checks
// for a qcow2 (the first reads the header ourselves, qcow2_header.hpp, before qemu-img ever
// runs). `qemu-img info` opens the image with BDRV_O_NO_BACKING and without --backing-chain
// never follows a backing file; the json: source also sets "backing": null (qemu_img.hpp).
// -U (force-share) is not passed: an image a running VM writes to is not one to inspect.
#include "diskimage/diskimage.hpp"
#include "diskimage/qcow2_header.hpp"
#include "diskimage/qemu_img.hpp"
#include "diskimage/read_head.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fleetbox::diskimage {

Result<DiskFacts> check_disk(const std::string& path, Format format) {
    const std::string op = "check image " + path;
    if (format == Format::Qcow2)
        FBX_TRY(read_safe_qcow2_header(path));
    else
        FBX_TRY(open_image(path)); // a regular file, readable

    auto ran = run_qemu_img({"info", "--output=json", qemu_img_source(path, format)},
                            std::chrono::minutes(2));
    if (!ran)
        return fail(std::move(ran).error().wrap(op));
    if (!ran->status.ok())
        return fail(ErrorKind::Corrupt, op,
                    fmt::format("qemu-img cannot read it as {}: {}", format_name(format),
                                last_line(ran->err)),
                    "download or copy the image again");

    auto facts = facts_from_info(path, format, ran->out);
    if (!facts && facts.error().kind != ErrorKind::InvalidArgument)
        return fail(std::move(facts).error().wrap(op));
    return facts;
}

Result<DiskFacts> facts_from_info(const std::string& path, Format format, std::string_view json) {
    // The JSON is qemu-img's, not the image's, but its shape is still checked (no exception
    // escapes: a type mismatch is an ExternalCommand error).
    try {
        nlohmann::json info = nlohmann::json::parse(json, nullptr, false);
        if (info.is_discarded() || !info.is_object() || !info.contains("virtual-size") ||
            !info["virtual-size"].is_number_unsigned())
            return fail(ErrorKind::ExternalCommand, "qemu-img info", "it printed no virtual size");
        if (info.value("format", "") != format_name(format))
            return fail(ErrorKind::Corrupt, "qemu-img info",
                        fmt::format("it reads the image as {}, not {}", info.value("format", "?"),
                                    format_name(format)));
        if (info.contains("backing-filename"))
            return fail(ErrorKind::InvalidArgument, "", fmt::format("{} has a backing file", path),
                        self_contained_hint(path));
        if (info.value("encrypted", false))
            return fail(ErrorKind::InvalidArgument, "", fmt::format("{} is encrypted", path),
                        kDecryptHint);
        const nlohmann::json empty = nlohmann::json::object();
        const nlohmann::json& specific = info.value("format-specific", empty);
        const nlohmann::json& data = specific.is_object() ? specific.value("data", empty) : empty;
        if (data.is_object()) {
            if (data.contains("data-file"))
                return fail(ErrorKind::InvalidArgument, "",
                            fmt::format("{} keeps its data in an external data file", path),
                            self_contained_hint(path));
            if (data.value("corrupt", false))
                return fail(ErrorKind::Corrupt, "qemu-img info", "it marks the image corrupt",
                            "download or copy the image again");
        }
        DiskFacts facts;
        facts.format = format;
        facts.virtual_size = info["virtual-size"].get<std::uint64_t>();
        if (facts.virtual_size == 0)
            return fail(ErrorKind::InvalidArgument, "", fmt::format("{} is an empty disk", path),
                        "use a disk image with an operating system on it");
        return facts;
    } catch (const nlohmann::json::exception& e) {
        return fail(ErrorKind::ExternalCommand, "qemu-img info",
                    fmt::format("unexpected output: {}", e.what()));
    }
}

} // namespace fleetbox::diskimage

// qemu-img invocation (see qemu_img.hpp).
#include "diskimage/qemu_img.hpp"

#include "sys/interrupt.hpp"

#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fleetbox::diskimage {

std::string qemu_img_source(const std::string& path, Format format) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec)
        abs = path;
    nlohmann::json spec = {{"driver", format_name(format)},
                           {"file", {{"driver", "file"}, {"filename", abs}}}};
    if (format == Format::Qcow2)
        spec["backing"] = nullptr;
    return "json:" + spec.dump();
}

Result<CommandOutput> run_qemu_img(const std::vector<std::string>& args,
                                   std::chrono::seconds limit) {
    ChildSpec spec;
    spec.argv = {"qemu-img"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env_set = {"LC_ALL=C.UTF-8"}; // stderr in English: "No space left on device"
    spec.out = Stream::Capture;
    spec.err = Stream::Capture;
    spec.own_process_group = true;
    spec.parent_death_signal = SIGKILL;
    spec.missing_hint = kQemuImgHint;
    auto child = FBX_TRY(ChildProcess::spawn(spec));
    const std::string what = "qemu-img " + args.at(0);
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
        auto waited = child.wait(std::chrono::milliseconds(200));
        if (waited)
            return CommandOutput{*waited, child.captured_stdout(), child.captured_stderr()};
        if (waited.error().kind != ErrorKind::Timeout)
            return fail(std::move(waited).error());
        if (interrupted()) {
            child.kill();
            return fail(ErrorKind::Interrupted, what, "interrupted");
        }
        if (std::chrono::steady_clock::now() > deadline) {
            child.kill();
            return fail(ErrorKind::Timeout, what,
                        fmt::format("still running after {} s", limit.count()));
        }
    }
}

} // namespace fleetbox::diskimage

// Tiny stand-in "kernels" for the vm component tests, so real QEMU can be driven without a
// guest image.
//
// Why: QEMU's x86 loader (and microvm's qboot) accept any file with a Linux boot-protocol
// header ("HdrS" at 0x202) and enter its real-mode setup code at offset 0x200. That code here is
// a jump to either `cli; hlt` (a guest that prints nothing: exactly what the early-boot TSC
// hang looks like from outside) or `out 0x3f8, 'X\n'` followed by the same halt (a guest that
// prints, so the boot watchdog is satisfied). Nothing ever answers on the network.
#pragma once

#include "support/test_support.hpp"
#include "vm/qemu_command.hpp"

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace fleetbox::test {

inline void write_fake_kernel(const std::string& path, bool prints) {
    std::vector<std::uint8_t> image(64 * 1024, 0);
    image[0x1f1] = 4;                         // setup_sects
    image[0x1fe] = 0x55, image[0x1ff] = 0xaa; // boot flag
    image[0x200] = 0xeb, image[0x201] = 0x7e; // jmp 0x280
    image[0x202] = 'H', image[0x203] = 'd', image[0x204] = 'r', image[0x205] = 'S';
    image[0x206] = 0x0c, image[0x207] = 0x02; // boot protocol 2.12
    image[0x211] = 0x01;                      // LOADED_HIGH
    image[0x22c] = 0xff, image[0x22d] = 0xff, image[0x22e] = 0xff,
    image[0x22f] = 0x37; // initrd_addr_max
    image[0x238] = 0xff; // cmdline_size
    std::vector<std::uint8_t> code;
    if (prints)
        code = {0xba, 0xf8, 0x03, 0xb0, 'X', 0xee, 0xb0, '\n', 0xee}; // mov dx,0x3f8; out 'X\n'
    code.insert(code.end(), {0xfa, 0xf4, 0xeb, 0xfd});                // cli; hlt; jmp hlt
    std::copy(code.begin(), code.end(), image.begin() + 0x280);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(image.data()),
               static_cast<std::streamsize>(image.size()));
}

// A small microvm under TCG booting a fake kernel, with every file inside `dir`.
inline QemuConfig fake_vm_config(const ScratchDir& dir, bool prints) {
    write_fake_kernel(dir.file("vmlinuz"), prints);
    write_text(dir.file("initrd.img"), "not an initramfs\n");
    QemuConfig c;
    c.name = "fake-1";
    c.kernel = dir.file("vmlinuz");
    c.initrd = dir.file("initrd.img");
    c.cpus = 1;
    c.memory_mb = 128;
    c.serial_log = dir.file("serial.log");
    c.qmp_socket = dir.file("qmp.sock");
    c.accel = AccelChoice::Tcg;
    return c;
}

} // namespace fleetbox::test

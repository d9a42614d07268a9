// Unit tests for the guest side of the fast path (image/guest_files.hpp) and how the recipe
// bakes it in: the kernel command line words of each method, the seed script (valid POSIX sh,
// checks the seed format, reads the fast seed's entries, prints the markers), the unit (no `$`,
// runs only with fleetbox.seed= and before sshd), and the hooks that install them (the
// printf'd files are byte-identical to the texts, the user and its sudo rule, the emptied
// machine-id, the preset, the switch-root marker).
#include "image/guest_files.hpp"
#include "image/recipe.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "util/console_markers.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::image {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const CatalogEntry& debian12() {
    return **find_alias("debian-12");
}

// The words of a kernel command line.
std::vector<std::string> words(const std::string& cmdline) {
    std::vector<std::string> out;
    for (auto& w : split(cmdline, ' '))
        if (!w.empty())
            out.push_back(w);
    return out;
}

CommandOutput run(std::vector<std::string> argv) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = Stream::Capture;
    spec.err = Stream::Capture;
    auto out = run_command(spec, std::chrono::seconds(30));
    EXPECT_TRUE(out) << (out ? "" : out.error().message());
    return out ? *out : CommandOutput{};
}

// `sh -n` on a script: the parser's complaint, empty when it parses.
std::string sh_syntax_errors(const std::string& script) {
    test::ScratchDir dir;
    test::write_text(dir.file("script"), script);
    auto out = run({"/bin/sh", "-n", dir.file("script")});
    return out.status.ok() ? std::string() : out.status.describe() + ": " + out.err;
}

// Splits a hook (commands joined by "; ") at the separators outside shell quotes.
std::vector<std::string> hook_commands(const std::string& hook) {
    std::vector<std::string> out;
    std::string cur;
    bool single = false, dbl = false;
    for (size_t i = 0; i < hook.size(); ++i) {
        char c = hook[i];
        if (!single && !dbl && c == ';' && i + 1 < hook.size() && hook[i + 1] == ' ') {
            out.push_back(cur);
            cur.clear();
            ++i;
            continue;
        }
        cur += c;
        if (single) {
            if (c == '\'')
                single = false;
        } else if (dbl) {
            if (c == '\\' && i + 1 < hook.size())
                cur += hook[++i];
            else if (c == '"')
                dbl = false;
        } else if (c == '\\' && i + 1 < hook.size()) {
            cur += hook[++i];
        } else if (c == '\'') {
            single = true;
        } else if (c == '"') {
            dbl = true;
        }
    }
    out.push_back(cur);
    return out;
}

// The hook's command that writes "$1/<path>" (empty when there is none).
std::string writer_of(const std::string& hook, const std::string& path) {
    for (const auto& cmd : hook_commands(hook))
        if (cmd.rfind("printf '", 0) == 0 && cmd.ends_with("> \"$1/" + path + "\""))
            return cmd;
    return {};
}

// Runs the hook's command writing `path` against a scratch root and returns what it wrote.
std::string written_by_hook(const std::string& hook, const std::string& path) {
    std::string cmd = writer_of(hook, path);
    EXPECT_FALSE(cmd.empty()) << "no command writes " << path;
    if (cmd.empty())
        return {};
    test::ScratchDir root;
    test::write_text(root.file(path), ""); // creates the parent directories
    auto out = run({"/bin/sh", "-c", cmd, "exec", root.path()});
    EXPECT_TRUE(out.status.ok()) << out.err;
    return test::read_text(root.file(path));
}

TEST(FastPathCmdline, SelectsTheSeedAndSilencesCloudInitAndIfupdown) {
    auto w = words(fast_path_cmdline("/dev/vdb"));
    EXPECT_THAT(w, ::testing::Contains("fleetbox.seed=/dev/vdb"));
    EXPECT_THAT(w, ::testing::Contains("cloud-init=disabled"));
    EXPECT_THAT(w, ::testing::Contains("net.ifnames=0"));
    EXPECT_THAT(w, ::testing::Contains("systemd.mask=networking.service"));
    EXPECT_THAT(w, ::testing::Contains("systemd.mask=ifupdown-pre.service"));
    EXPECT_THAT(fast_path_cmdline("/dev/vdc"), HasSubstr("fleetbox.seed=/dev/vdc"));
    EXPECT_THAT(fast_path_cmdline("/dev/vdb"), Not(HasSubstr("cloud-config")));
    EXPECT_EQ(fast_path_cmdline("/dev/vdb").find('\n'), std::string::npos);
}

TEST(NoCloudCmdline, MasksCloudConfigAndCloudFinalOnly) {
    auto w = words(nocloud_cmdline());
    EXPECT_THAT(w, ::testing::UnorderedElementsAre("systemd.mask=cloud-config.service",
                                                   "systemd.mask=cloud-final.service"));
}

TEST(SeedScript, IsValidPosixSh) {
    const std::string script = seed_script();
    EXPECT_EQ(script.rfind("#!/bin/sh\n", 0), 0u);
    EXPECT_EQ(sh_syntax_errors(script), "");
}

TEST(SeedScript, SyntaxCheckCatchesABrokenScript) {
    // The check above can fail: a truncated script does not parse.
    const std::string script = seed_script();
    EXPECT_NE(sh_syntax_errors(script.substr(0, script.find("done < \"$seed/network\""))), "");
}

TEST(SeedScript, ReportsSuccessAndFailureWithTheConsoleMarkers) {
    const std::string script = seed_script();
    EXPECT_THAT(script, HasSubstr(std::string("say \"") + kMarkerSeedFailed + " $*\""));
    EXPECT_THAT(script, HasSubstr(std::string("say \"") + kMarkerSeed + " uptime=$up\""));
    EXPECT_THAT(script, HasSubstr("> /dev/console"));
}

TEST(SeedScript, ChecksTheSeedFormatLine) {
    const std::string script = seed_script();
    EXPECT_THAT(script, HasSubstr("read -r format < \"$seed/format\""));
    EXPECT_THAT(script, HasSubstr("[ \"$format\" = \"fleetbox-seed 1\" ] || die"));
}

TEST(SeedScript, ReadsEveryFastSeedEntry) {
    const std::string script = seed_script();
    for (const char* entry : {"format", "hostname", "hosts", "network", "authorized_keys",
                              "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "mounts"})
        EXPECT_THAT(script, HasSubstr(std::string("\"$seed/") + entry + "\"")) << entry;
    for (const char* key : {"mac)", "address)", "gateway)", "dns)"})
        EXPECT_THAT(script, HasSubstr(key));
    EXPECT_THAT(script, HasSubstr("cmdline_value fleetbox.seed"));
    EXPECT_THAT(script, HasSubstr("install -m 0600 \"$seed/ssh_host_ed25519_key\""));
    EXPECT_THAT(script, HasSubstr("set -f")); // the kernel command line is split without globbing
}

TEST(SeedUnit, RunsOnlyOnTheFastPathAndBeforeSshd) {
    const std::string unit = seed_unit();
    EXPECT_THAT(unit, HasSubstr("\nConditionKernelCommandLine=fleetbox.seed\n"));
    EXPECT_THAT(unit, HasSubstr("\nDefaultDependencies=no\n"));
    std::string before;
    for (const auto& line : split(unit, '\n'))
        if (line.rfind("Before=", 0) == 0)
            before = line;
    EXPECT_THAT(words(before.substr(before.find('=') + 1)),
                ::testing::IsSupersetOf({"ssh.service", "sysinit.target"}));
    EXPECT_THAT(unit, HasSubstr(std::string("\nExecStart=/") + kSeedScriptPath + "\n"));
    EXPECT_THAT(unit, HasSubstr("\nType=oneshot\n"));
    EXPECT_THAT(unit, HasSubstr("\nWantedBy=sysinit.target\n"));
}

TEST(SeedUnit, HasNoDollar) {
    // systemd expands `$` in unit files.
    EXPECT_EQ(seed_unit().find('$'), std::string::npos);
}

TEST(GuestFiles, SudoersSshdAndPreset) {
    EXPECT_EQ(sudoers_file(), "fleetbox ALL=(ALL) NOPASSWD:ALL\n");
    EXPECT_THAT(sshd_config_dropin(), HasSubstr("\nHostKey /etc/ssh/ssh_host_ed25519_key\n"));
    const std::string preset = preset_file();
    EXPECT_THAT(preset, HasSubstr("\ndisable systemd-networkd.service\n"));
    EXPECT_THAT(preset, HasSubstr("\ndisable systemd-networkd.socket\n"));
    EXPECT_THAT(preset, Not(HasSubstr("enable ")));
}

TEST(Recipe, CustomizeHookInstallsTheFastPath) {
    const std::string hook = customize_hook(debian12());
    EXPECT_THAT(hook, HasSubstr("chroot \"$1\" useradd --create-home --shell /bin/bash "
                                "--user-group --uid 1000 fleetbox"));
    EXPECT_FALSE(writer_of(hook, "etc/sudoers.d/90-fleetbox").empty());
    EXPECT_THAT(hook, HasSubstr("chmod 0440 \"$1/etc/sudoers.d/90-fleetbox\""));
    EXPECT_THAT(hook, HasSubstr(": > \"$1/etc/machine-id\""));
    EXPECT_FALSE(writer_of(hook, "etc/systemd/system-preset/10-fleetbox.preset").empty());
    EXPECT_FALSE(writer_of(hook, "etc/ssh/sshd_config.d/fleetbox.conf").empty());
    EXPECT_FALSE(writer_of(hook, std::string("etc/systemd/system/") + kSeedUnitName).empty());
    EXPECT_THAT(hook, HasSubstr(std::string("chmod 0755 \"$1/") + kSeedScriptPath + "\""));
    EXPECT_THAT(hook, HasSubstr("sysinit.target.wants/fleetbox-seed.service"));
}

TEST(Recipe, TheSudoRuleIsWrittenBeforeItIsMadeReadOnly) {
    const auto cmds = hook_commands(customize_hook(debian12()));
    auto at = [&](const std::string& needle) {
        for (size_t i = 0; i < cmds.size(); ++i)
            if (cmds[i].find(needle) != std::string::npos)
                return i;
        return cmds.size();
    };
    size_t write = at("> \"$1/etc/sudoers.d/90-fleetbox\"");
    size_t chmod = at("chmod 0440 \"$1/etc/sudoers.d/90-fleetbox\"");
    size_t mkdir = at("\"$1/etc/sudoers.d\"");
    ASSERT_LT(chmod, cmds.size());
    EXPECT_LT(mkdir, write);
    EXPECT_LT(write, chmod);
}

TEST(Recipe, HookFilesAreByteIdenticalToTheTexts) {
    // printf escaping: the script has %, \ and ' in it.
    const std::string hook = customize_hook(debian12());
    EXPECT_EQ(written_by_hook(hook, kSeedScriptPath), seed_script());
    EXPECT_EQ(written_by_hook(hook, std::string("etc/systemd/system/") + kSeedUnitName),
              seed_unit());
    EXPECT_EQ(written_by_hook(hook, "etc/sudoers.d/90-fleetbox"), sudoers_file());
    EXPECT_EQ(written_by_hook(hook, "etc/ssh/sshd_config.d/fleetbox.conf"), sshd_config_dropin());
    EXPECT_EQ(written_by_hook(hook, "etc/systemd/system-preset/10-fleetbox.preset"), preset_file());
}

TEST(Recipe, HooksAreValidSh) {
    EXPECT_EQ(sh_syntax_errors(customize_hook(debian12())), "");
    EXPECT_EQ(sh_syntax_errors(setup_hook(debian12())), "");
}

TEST(Recipe, SetupHookPrintsTheSwitchRootMarker) {
    const std::string hook = setup_hook(debian12());
    EXPECT_THAT(hook, HasSubstr(kMarkerSwitchRoot));
    EXPECT_THAT(hook, HasSubstr("scripts/init-bottom/fleetbox-marker"));
    EXPECT_THAT(
        hook,
        HasSubstr("chmod 0755 \"$1/etc/initramfs-tools/scripts/init-bottom/fleetbox-marker\""));
    const std::string script =
        written_by_hook(hook, "etc/initramfs-tools/scripts/init-bottom/fleetbox-marker");
    EXPECT_THAT(script, HasSubstr(std::string("echo \"") + kMarkerSwitchRoot +
                                  " uptime=$up\" > /dev/console"));
    EXPECT_THAT(script, HasSubstr("read -r up _ < /proc/uptime")); // klibc has no cut
    EXPECT_EQ(sh_syntax_errors(script), "");
}

} // namespace
} // namespace fleetbox::image

// Component: how `fleetbox up` chooses the way a new guest is configured, through the real
// CLI and the fake helper (no VM boots; FLEETBOX_FAKE_RECORD shows the seed file and kernel
// command line words the client sent with boot-member). The image is a stand-in made here:
// a real (empty) qcow2 base, placeholder kernel and initrd, and a manifest that either lists
// the fast path (an image built since ADR 0012) or says nothing about provisioning (an image
// built before it, which must still boot through cloud-init's NoCloud seed).
// Bad input: an unknown method, or the fast path asked of an image that lacks it, is one
// error line, before "Starting", with nothing created.
#include "component/cli/fake_cli_fixture.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "image/manifest.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

class Provisioning : public FakeHelperCli {
protected:
    void make_image(bool fast) { make_standin_image(root(), fast); }
    // up NAME ARGS with the fake helper failing the boot (so nothing waits for SSH).
    CliRun up(const std::string& name, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"up", name};
        args.insert(args.end(), extra.begin(), extra.end());
        return fleetbox(args, {"FLEETBOX_FAKE_FAIL_BOOT=" + name});
    }
    // The recorded boot-member of NAME ({} when there was none).
    nlohmann::json boot_record(const std::string& name) const {
        nlohmann::json found;
        for (const auto& boot : calls("boot"))
            if (boot.value("name", "") == name)
                found = boot;
        return found;
    }
};

TEST_F(Provisioning, ABuiltImageBootsTheFastPathByDefault) {
    make_image(true);
    auto run = up("web");
    EXPECT_THAT(the_error(run), HasSubstr("injected boot failure")) << run;
    auto boot = boot_record("web");
    ASSERT_FALSE(boot.is_null()) << read_file(record_).value_or("(no record)");
    EXPECT_EQ(boot.value("seed", ""), "seed.tar");
    EXPECT_EQ(boot.value("kernel_cmdline_extra", ""), "fleetbox.seed=/dev/vdb cloud-init=disabled");
}

TEST_F(Provisioning, NoCloudCanBeAskedForOnABuiltImage) {
    make_image(true);
    auto run = up("web", {"--provisioning", "nocloud"});
    EXPECT_THAT(the_error(run), HasSubstr("injected boot failure")) << run;
    auto boot = boot_record("web");
    EXPECT_EQ(boot.value("seed", ""), "seed.iso");
    EXPECT_EQ(boot.value("kernel_cmdline_extra", ""), "nc-words");
}

TEST_F(Provisioning, AnImageFromBeforeTheFastPathBootsThroughNoCloud) {
    make_image(false);
    auto run = up("web");
    EXPECT_THAT(the_error(run), HasSubstr("injected boot failure")) << run;
    auto boot = boot_record("web");
    EXPECT_EQ(boot.value("seed", ""), "seed.iso");
    EXPECT_EQ(boot.value("kernel_cmdline_extra", ""),
              image::legacy_provisioning().front().kernel_cmdline);
    EXPECT_THAT(boot.value("kernel_cmdline_extra", ""),
                HasSubstr("systemd.mask=cloud-config.service"));
}

TEST_F(Provisioning, TheFastPathOnAnOldImageIsOneErrorWithTheRebuildHint) {
    make_image(false);
    auto run = up("web", {"--provisioning", "fleetbox-seed"});
    EXPECT_THAT(the_error(run),
                HasSubstr("the image does not support fleetbox-seed (it supports nocloud)"))
        << run;
    EXPECT_THAT(run.err, HasSubstr("hint: images built before the fast path need a rebuild: "
                                   "fleetbox image build --force debian-12"))
        << run;
    EXPECT_TRUE(boot_record("web").is_null()) << "nothing was booted";
    EXPECT_FALSE(path_exists(store_->member_dir("web"))) << "nothing was created";
}

TEST_F(Provisioning, AnUnknownMethodIsRefusedBeforeStarting) {
    make_image(true);
    auto run = up("web", {"--provisioning", "cloudinit"});
    EXPECT_THAT(the_error(run), HasSubstr("unknown method \"cloudinit\"")) << run;
    EXPECT_THAT(run.err, HasSubstr("hint: use fleetbox-seed or nocloud")) << run;
    EXPECT_THAT(run.out, Not(HasSubstr("Starting"))) << run;
    EXPECT_FALSE(path_exists(store_->member_dir("web")));
}

} // namespace
} // namespace fleetbox::test

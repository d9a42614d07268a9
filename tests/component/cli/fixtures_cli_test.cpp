// Component: `fleetbox up --fixture HOSTDIR:GUESTDIR` through the real CLI and the fake helper
// (no VM boots; FLEETBOX_FAKE_RECORD shows the fixture images sent with boot-member).
// Bad input is one error line and leaves nothing behind (no member directory, disk or seed);
// a new VM's fixtures are built into its directory and sent to the helper; an existing VM
// keeps the set it was created with (a later --fixture gets the "ignored" note).
#include "component/cli/fake_cli_fixture.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "store/store.hpp"
#include "util/provisioning_methods.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace fleetbox::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class FixturesCli : public FakeHelperCli {
protected:
    void SetUp() override {
        FakeHelperCli::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        ASSERT_NO_FATAL_FAILURE(make_standin_image(root(), true));
        data_ = root() + "/hostdata";
        ASSERT_TRUE(ensure_dir(data_ + "/sub"));
        write_text(data_ + "/sub/file.txt", "hello\n");
    }
    // up web ARGS with the fake helper failing the boot (so nothing waits for SSH).
    CliRun up(std::vector<std::string> extra) {
        std::vector<std::string> args{"up", "web"};
        args.insert(args.end(), extra.begin(), extra.end());
        return fleetbox(args, {"FLEETBOX_FAKE_FAIL_BOOT=web"});
    }
    void expect_nothing_created(const CliRun& run) {
        EXPECT_FALSE(path_exists(store_->member_dir("web"))) << run;
        EXPECT_TRUE(calls("boot").empty()) << run;
        EXPECT_TRUE(calls("reserve").empty()) << run;
    }
    std::string data_;
};

TEST_F(FixturesCli, BadInputIsOneLineAndCreatesNothing) {
    const std::string file = root() + "/plain-file";
    write_text(file, "not a directory\n");
    std::vector<std::string> nine;
    for (int i = 0; i < 9; ++i)
        nine.insert(nine.end(), {"--fixture", data_ + ":/f" + std::to_string(i)});
    struct Case {
        std::vector<std::string> args;
        std::string error;
    };
    const std::vector<Case> cases = {
        {{"--fixture", "nocolon"}, "invalid --fixture \"nocolon\": expected host:guest"},
        {{"--fixture", data_ + ":"}, "expected host:guest"},
        {{"--fixture", data_ + ":rel/path"},
         "invalid --fixture \"" + data_ + ":rel/path\": guest path \"rel/path\" must be absolute"},
        {{"--fixture", root() + "/missing:/data"},
         "fixture host path \"" + root() + "/missing\" does not exist"},
        {{"--fixture", file + ":/data"}, "fixture host path \"" + file + "\" is not a directory"},
        {{"--fixture", data_ + ":/data", "--fixture", data_ + ":/data/"},
         "duplicate fixture guest path \"/data\""},
        {{"--fixture", data_ + ":/data", "--fixture", data_ + ":/data/x"}, "are nested"},
        {{"--fixture", data_ + ":/"}, "is the guest's root"},
        {{"--fixture", data_ + ":/srv/../etc"}, "is not normalized"},
        {{"--fixture", data_ + ":/etc"}, "would hide a directory the guest needs"},
        {nine, "too many fixtures: 9 (at most 8 per VM)"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.error);
        auto run = up(c.args);
        EXPECT_THAT(the_error(run), HasSubstr(c.error)) << run;
        EXPECT_THAT(run.err, HasSubstr("hint: ")) << run;
        expect_nothing_created(run);
    }
}

TEST_F(FixturesCli, ANewVmGetsItsImagesBuiltAndAttached) {
    auto run = up({"--fixture", data_ + ":/srv/data"});
    EXPECT_THAT(the_error(run), HasSubstr("injected boot failure")) << run;
    auto boots = calls("boot");
    ASSERT_EQ(boots.size(), 1u) << read_file(record_).value_or("(no record)");
    const std::string dir = store_->member_dir("web");
    EXPECT_THAT(boots[0].value("fixtures", std::vector<std::string>{}),
                ElementsAre(dir + "/fixture-0.img"));
    EXPECT_FALSE(path_exists(dir)) << "the failed new VM is rolled back";
}

TEST_F(FixturesCli, TheSetIsFrozenAtCreate) {
    auto s = Store::open(root()).value();
    VmConfig c = new_vm_config("web", 1, 512, 1024, "debian-12");
    c.ip = "203.0.113.7";
    c.cluster = "web";
    c.provisioning = kMethodFleetboxSeed;
    c.fixtures = {{data_, "/srv/data", "FBFIX0"}};
    ASSERT_TRUE(s.create(c));
    const std::string dir = s.member_dir("web").value();
    write_text(dir + "/disk.qcow2", "data that must survive\n");
    write_text(dir + "/seed.tar", "seed\n");
    const std::string config_before = read_file(dir + "/config.json").value();

    const std::string other = root() + "/other";
    ASSERT_TRUE(ensure_dir(other));
    auto run = up({"--fixture", other + ":/other", "--fixture", "bad"});
    EXPECT_THAT(run.err, HasSubstr("invalid --fixture \"bad\"")) << "syntax is checked first";

    run = up({"--fixture", other + ":/other", "--fixture", root() + "/missing:/x"});
    EXPECT_THAT(run.err, HasSubstr("note: web already exists; "
                                   "--cpus/--mem/--disk/--image/--provisioning/--fixture ignored "
                                   "(rm + up to change)"))
        << run;
    EXPECT_THAT(the_error(run), HasSubstr("injected boot failure")) << run;
    EXPECT_THAT(run.err, Not(HasSubstr("missing"))) << "options of an existing VM are not checked";
    auto boots = calls("boot");
    ASSERT_EQ(boots.size(), 1u) << read_file(record_).value_or("(no record)");
    EXPECT_THAT(boots[0].value("fixtures", std::vector<std::string>{}),
                ElementsAre(dir + "/fixture-0.img"));
    EXPECT_EQ(read_file(dir + "/config.json").value(), config_before);
    EXPECT_EQ(read_file(dir + "/disk.qcow2").value(), "data that must survive\n");
    // Rebuilt at this boot from the stored host directory: a private, non-empty image.
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/fixture-0.img").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_GT(st.st_size, 0);
}

TEST_F(FixturesCli, AnUnsupportedFileInTheHostDirectoryFailsTheBootWithNoImageLeft) {
    ASSERT_EQ(::mkfifo((data_ + "/sub/pipe").c_str(), 0600), 0);
    auto run = up({"--fixture", data_ + ":/srv/data"});
    EXPECT_THAT(the_error(run),
                HasSubstr("fixture \"" + data_ + "/sub/pipe\": unsupported file type"))
        << run;
    EXPECT_TRUE(calls("boot").empty()) << run;
    EXPECT_FALSE(path_exists(store_->member_dir("web"))) << run;
}

} // namespace
} // namespace fleetbox::test

// Unit tests for vm/accel: the KVM-vs-TCG decision from a fake /dev/kvm and /sys/module tree,
// and the FLEETBOX_ACCEL override (including an invalid value).
#include "host/accel.hpp"
#include "support/test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox {
namespace {

using ::testing::HasSubstr;

struct FakeHost {
    test::ScratchDir dir;
    AccelProbe probe{dir.file("dev-kvm"), dir.file("sys-module")};
    FakeHost() { test::write_text(dir.file("sys-module/kvm/refcnt"), "0\n"); }
    void add_dev_kvm(int mode = 0666) { test::write_text(probe.dev_kvm, "", mode); }
    void load(const std::string& module) {
        test::write_text(probe.sys_module_dir + "/" + module + "/refcnt", "1\n");
    }
};

TEST(Accel, AutoUsesKvmWhenDevKvmOpensAndKvmIntelLoaded) {
    FakeHost host;
    host.add_dev_kvm();
    host.load("kvm_intel");
    auto choice = choose_accel("auto", host.probe);
    ASSERT_TRUE(choice) << choice.error().message();
    EXPECT_EQ(choice->kind, AccelChoice::Kvm);
    EXPECT_THAT(choice->reason, HasSubstr("kvm_intel"));
}

TEST(Accel, AutoUsesKvmWithKvmAmd) {
    FakeHost host;
    host.add_dev_kvm();
    host.load("kvm_amd");
    auto choice = choose_accel("", host.probe);
    ASSERT_TRUE(choice) << choice.error().message();
    EXPECT_EQ(choice->kind, AccelChoice::Kvm);
    EXPECT_THAT(choice->reason, HasSubstr("kvm_amd"));
}

TEST(Accel, AutoFallsBackToTcgWhenOnlyKvmPvmIsLoaded) {
    FakeHost host;
    host.add_dev_kvm();
    host.load("kvm_pvm");
    auto choice = choose_accel("auto", host.probe);
    ASSERT_TRUE(choice) << choice.error().message();
    EXPECT_EQ(choice->kind, AccelChoice::Tcg);
    EXPECT_THAT(choice->reason, HasSubstr("neither kvm_intel nor kvm_amd is loaded"));
    EXPECT_THAT(choice->reason, HasSubstr("kvm_pvm"));
    EXPECT_THAT(choice->reason, HasSubstr("using TCG software emulation"));
}

TEST(Accel, AutoFallsBackToTcgWithoutDevKvm) {
    FakeHost host;
    host.load("kvm_intel");
    auto choice = choose_accel("auto", host.probe);
    ASSERT_TRUE(choice) << choice.error().message();
    EXPECT_EQ(choice->kind, AccelChoice::Tcg);
    EXPECT_THAT(choice->reason, HasSubstr("does not exist"));
}

TEST(Accel, AutoFallsBackToTcgWhenDevKvmCannotBeOpened) {
    FakeHost host;
    host.load("kvm_intel");
    // A directory cannot be opened O_RDWR (EISDIR), even by root.
    test::write_text(host.probe.dev_kvm + "/x", "");
    auto choice = choose_accel("auto", host.probe);
    ASSERT_TRUE(choice) << choice.error().message();
    EXPECT_EQ(choice->kind, AccelChoice::Tcg);
    EXPECT_THAT(choice->reason, HasSubstr("cannot open"));
}

TEST(Accel, TcgOverrideSkipsTheProbe) {
    FakeHost host;
    host.add_dev_kvm();
    host.load("kvm_intel");
    auto choice = choose_accel("tcg", host.probe);
    ASSERT_TRUE(choice) << choice.error().message();
    EXPECT_EQ(choice->kind, AccelChoice::Tcg);
    EXPECT_THAT(choice->reason, HasSubstr("FLEETBOX_ACCEL=tcg"));
}

TEST(Accel, KvmOverrideIgnoresTheModuleCheck) {
    FakeHost host;
    host.add_dev_kvm();
    auto choice = choose_accel("kvm", host.probe);
    ASSERT_TRUE(choice) << choice.error().message();
    EXPECT_EQ(choice->kind, AccelChoice::Kvm);
}

TEST(Accel, KvmOverrideWithoutDevKvmIsAnError) {
    FakeHost host;
    auto choice = choose_accel("kvm", host.probe);
    ASSERT_FALSE(choice);
    EXPECT_EQ(choice.error().kind, ErrorKind::NotFound);
    EXPECT_THAT(choice.error().message(), HasSubstr("FLEETBOX_ACCEL=kvm"));
    EXPECT_FALSE(choice.error().hint.empty());
}

TEST(Accel, InvalidSettingIsRejected) {
    FakeHost host;
    auto choice = choose_accel("hvf", host.probe);
    ASSERT_FALSE(choice);
    EXPECT_EQ(choice.error().kind, ErrorKind::InvalidArgument);
    EXPECT_THAT(choice.error().message(), HasSubstr("\"hvf\""));
    EXPECT_THAT(choice.error().hint, HasSubstr("kvm, tcg or auto"));
}

TEST(Accel, ReadsTheEnvironmentVariable) {
    FakeHost host;
    host.add_dev_kvm();
    host.load("kvm_intel");
    {
        test::ScopedEnv env("FLEETBOX_ACCEL", "tcg");
        auto choice = choose_accel(host.probe);
        ASSERT_TRUE(choice) << choice.error().message();
        EXPECT_EQ(choice->kind, AccelChoice::Tcg);
    }
    {
        test::ScopedEnv env("FLEETBOX_ACCEL", std::nullopt);
        auto choice = choose_accel(host.probe);
        ASSERT_TRUE(choice) << choice.error().message();
        EXPECT_EQ(choice->kind, AccelChoice::Kvm);
    }
    {
        test::ScopedEnv env("FLEETBOX_ACCEL", "KVM!");
        EXPECT_FALSE(choose_accel(host.probe));
    }
}

TEST(Accel, KindNames) {
    EXPECT_EQ(to_string(AccelChoice::Kvm), "kvm");
    EXPECT_EQ(to_string(AccelChoice::Tcg), "tcg");
}

} // namespace
} // namespace fleetbox

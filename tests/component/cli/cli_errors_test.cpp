// Component: the fleetbox CLI given bad input or a damaged store, run as a child process
// against a scratch FLEETBOX_HOME. Every case must end in one clear error (or the documented
// output) and leave the store as it was: no member directory, no helper process. No VM boots.
//
// Network safety: the CLI runs with FLEETBOX_HELPER pointing at the test-only fake helper
// (it never touches the network), and as root every test first moves into a private network
// namespace, so even a CLI bug that reached a real helper could not create a bridge on the
// host. Cases that pass the CLI's root check (CAP_NET_ADMIN) need root and skip without it.
#include "e2e/vm/e2e_fixture.hpp"
#include "store/store.hpp"
#include "sys/fd.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/un.h>

namespace fleetbox::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

class CliErrors : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() == 0) {
            auto why = enter_private_netns();
            ASSERT_TRUE(why.empty()) << why;
        }
        store_ = std::make_unique<ScratchStore>();
    }
    void TearDown() override {
        if (store_) {
            EXPECT_THAT(store_processes(root()), IsEmpty()) << "a helper was left running";
        }
        store_.reset();
    }

    [[nodiscard]] const std::string& root() const { return store_->root(); }
    CliRun fbx(std::vector<std::string> args, CliOptions options = {}) {
        options.env_set.push_back("FLEETBOX_HELPER=" + built("tests/fleetbox-helper-fake"));
        options.timeout = std::chrono::seconds(60); // a hang is a failure, not a wait
        return run_fleetbox(root(), std::move(args), options);
    }
    static void require_root() {
        if (::geteuid() != 0)
            GTEST_SKIP() << "the CLI's root check (CAP_NET_ADMIN) comes first";
    }
    // A stopped VM in the scratch store (config.json only: nothing boots here).
    Store stored_vm(const std::string& name) {
        auto store = Store::open(root());
        EXPECT_TRUE(store) << store.error().message();
        auto created = store->create(new_vm_config(name, 1, 1024, 20 * 1024, "debian-12"));
        EXPECT_TRUE(created) << created.error().message();
        return *std::move(store);
    }
    // Names of the member directories under clusters/ (none: nothing was created).
    std::vector<std::string> members() {
        std::vector<std::string> found;
        std::error_code ec;
        for (const auto& cluster : std::filesystem::directory_iterator(root() + "/clusters", ec))
            for (const auto& member : std::filesystem::directory_iterator(cluster.path(), ec))
                found.push_back(member.path().filename());
        return found;
    }

    std::unique_ptr<ScratchStore> store_;
};

TEST_F(CliErrors, InvalidNamesWriteNothing) {
    for (const char* name : {"Web", "../x", "web_1", "x/y"}) {
        auto up = fbx({"up", name});
        EXPECT_THAT(the_error(up), StartsWith("error: invalid VM name")) << name;
        EXPECT_EQ(up.out, "") << name;
    }
    auto listed = list_dir(root());
    ASSERT_TRUE(listed);
    EXPECT_THAT(*listed, IsEmpty()) << "the store was touched";
}

TEST_F(CliErrors, BadSizesAndCpusCreateNothing) {
    struct Case {
        std::vector<std::string> args;
        const char* says;
    } cases[] = {
        {{"--mem", "0"}, "invalid --mem \"0\""},
        {{"--mem", "100M"}, "--mem must be at least 256 MiB, got 100 MiB"},
        {{"--mem", "lots"}, "invalid --mem \"lots\""},
        {{"--cpus", "0"}, "--cpus must be at least 1, got 0"},
        {{"--disk", "0"}, "invalid --disk \"0\""},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args{"up", "web"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        auto up = fbx(args);
        EXPECT_THAT(the_error(up), HasSubstr(c.says)) << up;
        EXPECT_THAT(up.out, Not(HasSubstr("Starting"))) << up;
    }
    EXPECT_THAT(members(), IsEmpty());
}

TEST_F(CliErrors, DiskSmallerThanTheImage) {
    require_root();
    if (find_program("qemu-system-x86_64").empty())
        GTEST_SKIP() << "qemu-system-x86_64 is not installed";
    if (auto linked = link_cached_image(root(), /*build_if_missing=*/false); !linked)
        GTEST_SKIP() << "no cached debian-12 image to link: " << linked.error().message();
    auto up = fbx({"up", "web", "--disk", "100M"});
    EXPECT_THAT(the_error(up),
                HasSubstr("requested disk size 100 MiB is smaller than the image debian-12"));
    EXPECT_THAT(up.err, HasSubstr("hint: use --disk "));
    EXPECT_THAT(members(), IsEmpty());
    EXPECT_FALSE(path_exists(store_->member_dir("web")));
}

TEST_F(CliErrors, AFailedFirstBootKeepsItsLogsUntilRm) {
    require_root();
    if (find_program("qemu-img").empty())
        GTEST_SKIP() << "qemu-img is not installed";
    if (auto linked = link_cached_image(root(), /*build_if_missing=*/false); !linked)
        GTEST_SKIP() << "no cached debian-12 image to link: " << linked.error().message();
    CliOptions options;
    options.env_set = {"FLEETBOX_FAKE_FAIL_BOOT=web"};
    auto up = fbx({"up", "web"}, options);
    EXPECT_THAT(the_error(up), HasSubstr("injected boot failure")) << up;
    EXPECT_THAT(members(), IsEmpty()) << "the new VM is rolled back";
    const std::string kept = root() + "/failed/web";
    EXPECT_TRUE(path_exists(kept + "/helper.log")) << up;
    EXPECT_FALSE(path_exists(kept + "/disk.qcow2")) << "only logs are kept";

    auto ls = fbx({"ls", "-q"});
    EXPECT_EQ(ls.out, "") << "a failed boot is not a VM: " << ls;
    auto logs = fbx({"logs", "web"});
    EXPECT_EQ(logs.code, 0) << logs;
    EXPECT_THAT(logs.err, HasSubstr("note: web does not exist; its failed first boot")) << logs;

    auto rm = fbx({"rm", "web"}); // no prompt: no disk is involved
    EXPECT_EQ(rm.code, 0) << rm;
    EXPECT_EQ(rm.out, "Removing the logs of web's failed boot...\n");
    EXPECT_FALSE(path_exists(kept));
    EXPECT_EQ(the_error(fbx({"logs", "web"})), "error: VM \"web\" does not exist");
}

TEST_F(CliErrors, RmAllTakesTheLogsOfFailedBootsToo) {
    auto store = Store::open(root());
    ASSERT_TRUE(store) << store.error().message();
    ASSERT_TRUE(store->ensure_member_dir("db"));
    write_text(store->member_file("db", "serial.log").value(), "console\n");
    ASSERT_TRUE(store->keep_failed_boot_logs("db", {"serial.log"}));
    ASSERT_TRUE(store->remove("db"));
    auto logs = fbx({"logs", "db"});
    EXPECT_EQ(logs.out, "console\n") << logs;
    auto rm = fbx({"rm", "--all", "-f"});
    EXPECT_EQ(rm.code, 0) << rm;
    EXPECT_THAT(rm.out, HasSubstr("Removing the logs of db's failed boot...")) << rm;
    EXPECT_FALSE(path_exists(root() + "/failed/db"));
}

TEST_F(CliErrors, AnImageInUseIsNeitherRemovedNorRebuilt) {
    stored_vm("web-1");
    stored_vm("web-2");
    ASSERT_TRUE(ensure_dir(root() + "/images/debian-12"));
    write_text(root() + "/images/debian-12/disk.qcow2", "base");
    auto rm = fbx({"image", "rm", "debian-12"});
    EXPECT_EQ(
        the_error(rm),
        "error: remove image debian-12: 2 VMs use it (web-1, web-2): VM disks are overlays on it")
        << rm;
    EXPECT_THAT(rm.err, HasSubstr("hint: remove them first: fleetbox rm web-1 web-2")) << rm;
    EXPECT_EQ(read_file(root() + "/images/debian-12/disk.qcow2").value_or(""), "base");
    auto rebuild = fbx({"image", "build", "debian-12", "--force", "-q"});
    EXPECT_THAT(the_error(rebuild),
                StartsWith("error: rebuild image debian-12: 2 VMs use it (web-1, web-2)"))
        << rebuild;
    EXPECT_EQ(read_file(root() + "/images/debian-12/disk.qcow2").value_or(""), "base");
    const auto entries = list_dir(root() + "/images").value();
    for (const auto& entry : entries)
        EXPECT_THAT(entry, Not(StartsWith(".build-"))) << "no build was started";
}

TEST_F(CliErrors, SshArgumentErrors) {
    EXPECT_EQ(the_error(fbx({"ssh"})), "error: usage: fleetbox ssh <name> [-- cmd]");
    auto no_name = fbx({"ssh", "--", "x"});
    EXPECT_EQ(the_error(no_name), "error: missing VM name");
    EXPECT_THAT(no_name.err, HasSubstr("hint: usage: fleetbox ssh <name> [-- cmd]"));
    EXPECT_EQ(the_error(fbx({"ssh", "web", "uname"})),
              "error: to run a command, use: fleetbox ssh <name> -- <cmd>");
    EXPECT_EQ(the_error(fbx({"ssh", "missing", "--", "true"})),
              "error: VM \"missing\" does not exist");
    EXPECT_THAT(the_error(fbx({"ssh", "Bad", "--", "true"})), StartsWith("error: invalid VM name"));
}

TEST_F(CliErrors, AnUnknownCommandIsNamed) {
    auto typo = fbx({"frob", "web"});
    EXPECT_EQ(typo.code, 2) << typo;
    EXPECT_EQ(typo.err, "error: unknown command \"frob\"\n"
                        "hint: run 'fleetbox --help' for the commands\n");
    auto none = fbx({});
    EXPECT_EQ(none.code, 2) << none;
    EXPECT_THAT(none.err, StartsWith("error: A subcommand is required")) << none;
    EXPECT_THAT(members(), IsEmpty());
}

TEST_F(CliErrors, DownAndRmNeedTargets) {
    for (const char* cmd : {"down", "rm"}) {
        auto none = fbx({cmd});
        EXPECT_EQ(the_error(none), "error: no VMs specified") << cmd;
        auto both = fbx({cmd, "--all", "web"});
        EXPECT_EQ(the_error(both), "error: cannot combine --all with explicit VM names") << cmd;
        auto unknown = fbx({cmd, "ghost"});
        EXPECT_EQ(unknown.code, 1) << unknown;
        EXPECT_THAT(unknown.err, HasSubstr("VM \"ghost\" not found")) << unknown;
    }
}

TEST_F(CliErrors, RmAnsweredNoKeepsTheVm) {
    auto store = stored_vm("web");
    CliOptions answer_no;
    answer_no.stdin_text = "n\n";
    auto rm = fbx({"rm", "web"}, answer_no);
    EXPECT_THAT(rm.out, HasSubstr("Will delete 1 VM: web\nContinue? [y/N] "));
    EXPECT_EQ(the_error(rm), "error: aborted");
    EXPECT_TRUE(store.exists("web"));

    auto no_stdin = fbx({"rm", "web"}); // EOF is not a yes either
    EXPECT_EQ(the_error(no_stdin), "error: aborted");
    EXPECT_TRUE(store.exists("web"));

    auto forced = fbx({"rm", "-f", "web"});
    EXPECT_EQ(forced.code, 0) << forced;
    EXPECT_FALSE(store.exists("web"));
    EXPECT_THAT(members(), IsEmpty());
}

// A PATH that has every program of the current PATH except qemu-system-x86_64.
std::string path_without_qemu(const std::string& dir) {
    std::filesystem::create_directories(dir);
    std::istringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin");
    std::error_code ec;
    for (std::string entry; std::getline(path, entry, ':');)
        for (const auto& program : std::filesystem::directory_iterator(entry, ec)) {
            std::string name = program.path().filename();
            if (name != "qemu-system-x86_64")
                std::filesystem::create_symlink(program.path(), dir + "/" + name, ec); // first wins
        }
    return dir;
}

TEST_F(CliErrors, QemuMissing) {
    test::ScratchDir bin;
    std::string path = path_without_qemu(bin.file("bin"));
    CliOptions options;
    options.env_set = {"PATH=" + path};
    auto up = fbx({"up", "web"}, options);
    EXPECT_EQ(the_error(up), "error: start VM: qemu-system-x86_64 is not installed");
    EXPECT_THAT(up.err, HasSubstr("hint: install it: sudo apt-get install qemu-system-x86"));
    EXPECT_THAT(members(), IsEmpty());
}

TEST_F(CliErrors, StaleSocketOfAStoppedVm) {
    auto store = stored_vm("web");
    auto socket_path = store.socket_path("web");
    ASSERT_TRUE(socket_path);
    { // bind, then close without listening: the file stays, nobody answers
        Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path->c_str());
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
            << std::strerror(errno);
    }
    ASSERT_TRUE(path_exists(*socket_path));

    auto ls = fbx({"ls"});
    EXPECT_EQ(ls.code, 0) << ls;
    auto rows = lines_starting(ls.out, "web ");
    ASSERT_THAT(rows, SizeIs(1)) << ls;
    EXPECT_THAT(rows[0], HasSubstr(" stopped ")) << ls;
    auto json = fbx({"ls", "-o", "json"});
    EXPECT_THAT(json.out, HasSubstr("\"state\": \"stopped\"")) << json;
    EXPECT_EQ(the_error(fbx({"ssh", "web", "--", "true"})), "error: VM \"web\" is not running");
    auto down = fbx({"down", "web"});
    EXPECT_EQ(down.code, 0) << down;
    EXPECT_EQ(down.out, "web is not running\n");
}

TEST_F(CliErrors, CorruptConfigIsSkippedAndNamed) {
    stored_vm("db");
    auto store = stored_vm("web");
    auto config = store.config_path("web");
    ASSERT_TRUE(config);
    write_text(*config, "{\"name\": \"web\", oops");

    auto json = fbx({"ls", "-o", "json"});
    EXPECT_EQ(json.code, 0) << json;
    auto listed = nlohmann::json::parse(json.out, nullptr, false);
    ASSERT_TRUE(listed.is_array()) << json.out;
    ASSERT_EQ(listed.size(), 1u) << json.out;
    EXPECT_EQ(listed[0].value("name", ""), "db");
    auto quiet = fbx({"ls", "-q"});
    EXPECT_EQ(quiet.out, "db\nweb\n") << "ls -q lists every member directory";

    if (::geteuid() == 0 && !find_program("qemu-system-x86_64").empty()) {
        auto up = fbx({"up", "web"});
        EXPECT_THAT(the_error(up), HasSubstr(*config)) << up;
        EXPECT_TRUE(path_exists(*config)) << "a failed up must not delete an existing VM";
    }
    auto rm = fbx({"rm", "-f", "web"});
    EXPECT_EQ(rm.code, 0) << rm << "\n(rm must still remove a VM whose config is unreadable)";
    EXPECT_THAT(members(), ElementsAre("db"));
}

} // namespace
} // namespace fleetbox::test

// e2e: booting an image that looks like a stock cloud image (ADR 0024), through the real
// fleetbox-helper, before the image cache knows about such images.
//
// The image is tests/e2e/images/make-cloud-like-image.sh's: GPT, root ext4 on partition 1
// (found by UUID), a BIOS boot partition with grub, cloud-init with its normal datasources,
// no fleetbox unit, marker or user. It is built once per CI run into a shared test-image cache
// ($FLEETBOX_TEST_IMAGES, else /var/tmp/fleetbox-test-images; keyed by the script's content)
// before the test enters its private network namespace (mmdebstrap needs the mirror),
// with the kernel and initrd copied out of its tree: what the disk inspection finds in a
// downloaded image. Each test then does by hand what `up --image URL` will do: the raw disk
// becomes a qcow2 base inside the scratch store, an overlay on it, a NoCloud seed ISO (the
// project's own writer), the VM's host key and known_hosts; the helper boots it with
// machine=q35 and kernel_root=UUID=... (or firmware_boot), and the guest layer logs in. The
// URL test instead goes the user's whole way, through the library's start_cluster.
//
// One VM per test, two in the URL test (a cluster: one download, siblings by name); each test
// process has its own network namespace, and the checks that can share a VM share it. Boot
// times are printed, never asserted.
#include "client/boot_hint.hpp"
#include "client/guest_phases.hpp"
#include "client/helper_launcher.hpp"
#include "e2e/vm/e2e_fixture.hpp"
#include "guest/ssh_session.hpp"
#include "guest/wait_for_ssh.hpp"
#include "image/cache.hpp"
#include "image/source.hpp"
#include "seed/provisioner.hpp"
#include "ssh/keys.hpp"
#include "support/http_server.hpp"
#include "support/test_support.hpp"
#include "sys/sha256.hpp"
#include "util/clock.hpp"
#include "util/console_markers.hpp"
#include "util/strings.hpp"

#include <fleetbox/fleetbox.hpp>
#include <fmt/format.h>
#include <future>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <iostream>

namespace fleetbox {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr auto kBootTimeout = 900s; // TCG, q35, a stock initrd and full cloud-init
constexpr const char* kVm = "stock-1";
constexpr const char* kSibling = "stock-2"; // the second member of the URL test's cluster

std::string test_image_cache() {
    const char* env = std::getenv("FLEETBOX_TEST_IMAGES");
    return env != nullptr && *env != '\0' ? env : "/var/tmp/fleetbox-test-images";
}

Status run(std::vector<std::string> argv, std::chrono::seconds timeout = 120s) {
    ChildSpec spec;
    spec.argv = std::move(argv);
    spec.out = spec.err = Stream::Capture;
    FBX_TRY(run_checked(spec, timeout));
    return {};
}

class StockBootTest : public test::VmTest {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root (the image build, a private network namespace)";
        for (const char* tool : {"mmdebstrap", "sfdisk", "mkfs.ext4", "qemu-img"})
            if (find_program(tool).empty())
                GTEST_SKIP() << tool << " is not installed (needed to build the test image)";
        // Built (or found) before the private namespace is entered: mmdebstrap needs the
        // mirror. Later calls of the script are cache hits and touch no network.
        ASSERT_NO_FATAL_FAILURE(make_image(true, scratch_.file("probe.raw"), ""));
        (void)remove_tree(scratch_.file("probe.raw"));
        test::VmTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto store = Store::open(root());
        ASSERT_TRUE(store) << store.error().message();
        stock_store_.emplace(std::move(*store));
        image_dir_ = root() + "/images/cloud-like";
        ASSERT_TRUE(ensure_dir(image_dir_, 0700));
    }
    void TearDown() override {
        helper_.reset(); // a bound helper stops its VMs and removes its network
        if (store_)
            expect_nothing_left();
        test::VmTest::TearDown();
    }

    // The script's variant as `out` (and its kernel, initrd and root= value in `extract`).
    static void make_image(bool cloud_init, const std::string& out, const std::string& extract) {
        std::vector<std::string> argv = {std::string(FLEETBOX_SOURCE_DIR) +
                                             "/tests/e2e/images/make-cloud-like-image.sh",
                                         "--cache", test_image_cache()};
        if (!extract.empty())
            argv.insert(argv.end(), {"--extract", extract});
        if (!cloud_init)
            argv.push_back("--no-cloud-init");
        argv.push_back(out);
        auto built = run(argv, 3600s);
        ASSERT_TRUE(built) << built.error().message() << "\n" << built.error().context;
    }

    // The test image (variant "cloud-init" or "no-cloud-init") as the store's base: a qcow2
    // converted from the raw disk, and the kernel, initrd and root= value beside it.
    void install_image(bool cloud_init) {
        auto t0 = Clock::now();
        ASSERT_NO_FATAL_FAILURE(make_image(cloud_init, image_dir_ + "/disk.raw", image_dir_));
        auto converted = run({"qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2",
                              image_dir_ + "/disk.raw", image_dir_ + "/disk.qcow2"});
        ASSERT_TRUE(converted) << converted.error().message();
        (void)remove_tree(image_dir_ + "/disk.raw");
        kernel_root_ = std::string(trim(test::read_text(image_dir_ + "/root")));
        ASSERT_THAT(kernel_root_, StartsWith("UUID="));
        std::cout << "[ timing ] test image ready (built or cached, converted): "
                  << seconds_since(t0) << " s\n";
    }

    // Member directory, overlay, identity, host key, known_hosts, NoCloud seed; the helper,
    // its network and the reservation. Returns the spec to boot (q35, direct kernel boot).
    proto::BootSpec prepare() {
        auto dir = stock_store_->ensure_member_dir(kVm);
        EXPECT_TRUE(dir) << dir.error().message();
        member_dir_ = dir.value_or("");
        serial_log_ = member_dir_ + "/serial.log";
        auto overlay = run({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                            image_dir_ + "/disk.qcow2", member_dir_ + "/disk.qcow2", "4G"});
        EXPECT_TRUE(overlay) << overlay.error().message();

        client::HelperLauncher launcher(test::built("tools/fleetbox/fleetbox-helper"));
        auto handle = launcher.spawn(*stock_store_, kVm, client::HelperMode::Bound);
        EXPECT_TRUE(handle) << handle.error().message();
        if (!handle)
            return {};
        helper_.emplace(std::move(*handle));
        auto& client = helper_->client();
        EXPECT_TRUE(client.has(proto::kCapBootStockImages));
        auto network = client.create_network({"stock", "", {}});
        EXPECT_TRUE(network) << network.error().message();
        auto reservation = client.reserve(kVm, "");
        EXPECT_TRUE(reservation) << reservation.error().message();
        if (!network || !reservation)
            return {};
        ip_ = reservation->ip;

        auto identity = ssh::ensure_identity(stock_store_->key_path());
        auto host_key = ssh::generate_ed25519(std::string("fleetbox-host-") + kVm);
        EXPECT_TRUE(identity && host_key);
        if (!identity || !host_key)
            return {};
        auto known = ssh::known_hosts_line(ip_, host_key->public_line);
        EXPECT_TRUE(known);
        test::write_text(member_dir_ + "/known_hosts", known.value_or("") + "\n", 0600);
        seed::SeedSpec seed;
        seed.name = kVm;
        seed.user_public_key = identity->public_line;
        seed.host_key = *host_key;
        seed.mac = reservation->mac;
        seed.ip_cidr = fmt::format("{}/{}", ip_, network->prefix);
        seed.gateway = network->gateway;
        auto written = seed::provisioner_for(seed::Provisioning::NoCloud)
                           .write_seed(seed, member_dir_ + "/seed.iso");
        EXPECT_TRUE(written) << written.error().message();

        proto::BootSpec spec;
        spec.name = kVm;
        spec.member_dir = member_dir_;
        spec.disk_path = member_dir_ + "/disk.qcow2";
        spec.base_image_path = image_dir_ + "/disk.qcow2";
        spec.seed_path = member_dir_ + "/seed.iso";
        spec.kernel_path = image_dir_ + "/vmlinuz";
        spec.initrd_path = image_dir_ + "/initrd.img";
        spec.mac = reservation->mac;
        spec.cpus = 2;
        spec.memory_mb = 1024;
        spec.boot_timeout_s = static_cast<int>(kBootTimeout.count());
        spec.machine = proto::kMachineQ35;
        spec.kernel_root = kernel_root_;
        return spec;
    }

    [[nodiscard]] guest::SshTarget target() const {
        guest::SshTarget t;
        t.vm_name = kVm;
        t.host = ip_;
        t.identity_path = stock_store_->key_path();
        t.known_hosts_path = member_dir_ + "/known_hosts";
        return t;
    }

    // Boots `spec`, logs in (the host key pinned: the seed's), prints where the time went.
    std::optional<guest::SshSession> boot_and_login(const proto::BootSpec& spec) {
        auto t0 = Clock::now();
        auto booted = helper_->client().boot(spec);
        EXPECT_TRUE(booted) << booted.error().message() << "\n" << test::read_text(serial_log_);
        if (!booted)
            return std::nullopt;
        double port_open = seconds_since(t0);
        guest::WaitForSshOptions wait;
        wait.serial_log = serial_log_;
        auto ready = guest::wait_for_ssh_session(target(), kBootTimeout, wait);
        EXPECT_TRUE(ready) << ready.error().message() << "\n" << test::read_text(serial_log_);
        if (!ready)
            return std::nullopt;
        std::cout << "[ timing ] " << (spec.firmware_boot ? "firmware boot" : "q35 kernel boot")
                  << ": port 22 open after " << port_open << " s, SSH ready after "
                  << seconds_since(t0) << " s (boot attempts " << booted->boot_attempts << ")\n";
        return std::move(ready->session);
    }

    // The output of `command` (exit status 0 expected).
    std::string guest_out(guest::SshSession& session, const std::string& command) {
        auto r = session.exec(command, 120s);
        EXPECT_TRUE(r) << command << ": " << r.error().message();
        if (!r)
            return {};
        EXPECT_EQ(r->exit_code, 0) << command << ": " << r->err;
        return r->out;
    }

    // A stock image is configured by cloud-init from the seed alone, exactly like debian-12
    // under nocloud: user + sudo, the login key, the host key (pinned: the login worked),
    // hostname, the static address; nothing of fleetbox's is in the image or on its console.
    void check_configured_by_cloud_init(guest::SshSession& session) {
        {
            SCOPED_TRACE("the root is partition 1, by UUID");
            EXPECT_EQ(trim(guest_out(session, "findmnt -no SOURCE /")), "/dev/vda1");
            EXPECT_EQ(trim(guest_out(session, "findmnt -no UUID /")),
                      kernel_root_.substr(std::string("UUID=").size()));
        }
        {
            SCOPED_TRACE("identity from the NoCloud seed");
            EXPECT_EQ(trim(guest_out(session, "hostname")), kVm);
            EXPECT_EQ(trim(guest_out(session, "id -un")), seed::kGuestUser);
            EXPECT_EQ(trim(guest_out(session, "sudo -n id -u")), "0");
            EXPECT_THAT(guest_out(session, "ip -4 -o addr show"), HasSubstr(" " + ip_ + "/"));
            EXPECT_THAT(guest_out(session, "cloud-init query v1.platform 2>/dev/null || "
                                           "cat /run/cloud-init/result.json"),
                        HasSubstr("nocloud"));
        }
        {
            SCOPED_TRACE("nothing of fleetbox's in the image or on its console");
            EXPECT_EQ(trim(guest_out(session, "ls /usr/lib/fleetbox /etc/systemd/system/"
                                              "fleetbox* 2>/dev/null | wc -l")),
                      "0");
            std::string console = test::read_text(serial_log_);
            EXPECT_THAT(console, Not(HasSubstr("fleetbox: stage=")));
            EXPECT_THAT(console, HasSubstr(client::kCloudInitBanner));
            EXPECT_THAT(client::guest_phases(console), IsEmpty());
        }
    }

    test::ScratchDir scratch_;
    std::optional<Store> stock_store_;
    std::optional<client::HelperHandle> helper_;
    std::string image_dir_;
    std::string member_dir_;
    std::string serial_log_;
    std::string kernel_root_;
    std::string ip_;
};

// The whole path a user takes (issue 11): `up stock-1 stock-2 --image
// http://.../disk.qcow2#sha256=HEX` served by a server on this test's loopback; the two
// members' concurrent pulls download it once (the second waits on the entry's lock), check
// the pin and find the kernel, initrd and root partition in the GPT image itself; both VMs
// boot on q35 in parallel and answer SSH (host keys pinned) with the identity cloud-init took
// from the seed; each reaches the other by name; copy works.
TEST_F(StockBootTest, PulledFromAPinnedUrlAClusterBootsAndRunsACommand) {
    ASSERT_NO_FATAL_FAILURE(install_image(true));
    auto sha = sha256_file_hex(image_dir_ + "/disk.qcow2");
    ASSERT_TRUE(sha) << sha.error().message();
    test::HttpServer server(image_dir_);
    Options options;
    options.store_root = root();
    options.cpus = 1; // two TCG guests on two host cores
    options.memory_mb = 1024;
    options.boot_timeout = kBootTimeout;
    options.image = server.url("/disk.qcow2") + "#sha256=" + *sha;
    auto t0 = Clock::now();
    auto cluster = fleetbox::start_cluster({kVm, kSibling}, options);
    ASSERT_TRUE(cluster)
        << cluster.error().message() << "\n"
        << read_file(root() + "/clusters/stock/" + kVm + "/serial.log").value_or("");
    std::cout << "[ timing ] up of two members --image URL (download, inspect, boot, SSH): "
              << seconds_since(t0) << " s\n";
    Vm* vm = cluster->vm(kVm);
    Vm* sibling = cluster->vm(kSibling);
    ASSERT_TRUE(vm != nullptr && sibling != nullptr);
    auto out_of = [](Vm& on, const std::string& command) {
        auto r = on.ssh(command, std::chrono::milliseconds(120s));
        EXPECT_TRUE(r) << command << ": " << (r ? "" : r.error().message());
        if (!r)
            return std::string();
        EXPECT_EQ(r->exit_code, 0) << command << "\n" << r->out << r->err;
        return r->out;
    };
    auto out = [&](const std::string& command) { return out_of(*vm, command); };
    {
        SCOPED_TRACE("a cluster: each member reaches the other by name, on SSH's port");
        EXPECT_EQ(trim(out_of(*sibling, "hostname")), kSibling);
        EXPECT_THAT(out("getent hosts " + std::string(kSibling)), StartsWith(sibling->ip() + " "));
        EXPECT_THAT(out_of(*sibling, "getent hosts " + std::string(kVm)),
                    StartsWith(vm->ip() + " "));
        out(fmt::format("timeout 20 bash -c '</dev/tcp/{}/22'", kSibling));
        out_of(*sibling, fmt::format("timeout 20 bash -c '</dev/tcp/{}/22'", kVm));
    }
    {
        SCOPED_TRACE("configured by cloud-init from the seed, root on partition 1 by UUID");
        EXPECT_EQ(trim(out("hostname")), kVm);
        EXPECT_EQ(trim(out("id -un")), seed::kGuestUser);
        EXPECT_EQ(trim(out("sudo -n id -u")), "0");
        EXPECT_EQ(trim(out("findmnt -no SOURCE /")), "/dev/vda1");
        EXPECT_THAT(out("cat /proc/cmdline"), HasSubstr("root=" + kernel_root_ + " "));
        EXPECT_THAT(out("cat /etc/os-release"), HasSubstr("bookworm"));
    }
    {
        SCOPED_TRACE("copy in and out");
        test::write_text(root() + "/hello.txt", "from the host\n");
        ASSERT_TRUE(vm->copy_to(root() + "/hello.txt", "/tmp/hello.txt"));
        EXPECT_EQ(out("cat /tmp/hello.txt"), "from the host\n");
        ASSERT_TRUE(vm->copy_from("/etc/hostname", root() + "/hostname.out"));
        EXPECT_EQ(trim(test::read_text(root() + "/hostname.out")), kVm);
    }
    {
        SCOPED_TRACE("one download; the cache entry says where it came from and how it boots");
        EXPECT_EQ(server.requests("/disk.qcow2"), 1);
        auto source = image::parse_image_source(options.image);
        ASSERT_TRUE(source);
        auto entry = image::ImageCache(root() + "/images").lookup(source->name);
        ASSERT_TRUE(entry && *entry);
        const auto& m = (*entry)->manifest;
        EXPECT_EQ(m.origin.kind, "url");
        EXPECT_EQ(m.origin.sha256, *sha);
        EXPECT_EQ(m.boot.machine, "q35");
        EXPECT_EQ(m.boot.root, kernel_root_);
        EXPECT_THAT(m.kernel_version, HasSubstr("cloud-amd64"));
    }
    {
        SCOPED_TRACE("nothing of fleetbox's in the image or on its console");
        EXPECT_EQ(trim(out("ls /usr/lib/fleetbox /etc/systemd/system/fleetbox* 2>/dev/null | "
                           "wc -l")),
                  "0");
        EXPECT_THAT(out("cloud-init query v1.platform 2>/dev/null || "
                        "cat /run/cloud-init/result.json"),
                    HasSubstr("nocloud"));
        auto console = vm->serial_log();
        ASSERT_TRUE(console);
        EXPECT_THAT(*console, Not(HasSubstr("fleetbox: stage=")));
        EXPECT_THAT(*console, HasSubstr(client::kCloudInitBanner));
        EXPECT_THAT(out("cat /proc/cmdline"), Not(HasSubstr("BOOT_IMAGE=")));
    }
    {
        SCOPED_TRACE("graceful stop: q35's ACPI powers the guest off");
        auto t1 = Clock::now();
        ASSERT_TRUE(vm->stop());
        std::cout << "[ timing ] stop: " << seconds_since(t1) << " s\n";
        auto console = vm->serial_log();
        ASSERT_TRUE(console);
        EXPECT_THAT(*console, HasSubstr("reboot: Power down"));
    }
    EXPECT_TRUE(cluster->destroy());
}

// The fallback: no kernel of ours; SeaBIOS boots the disk's grub, which boots the image's
// kernel with the image's own command line.
TEST_F(StockBootTest, BootsThroughFirmwareFromItsOwnBootLoader) {
    ASSERT_NO_FATAL_FAILURE(install_image(true));
    auto spec = prepare();
    ASSERT_FALSE(spec.name.empty());
    spec.firmware_boot = true;
    spec.kernel_path.clear();
    spec.initrd_path.clear();
    spec.kernel_root.clear();
    auto session = boot_and_login(spec);
    ASSERT_TRUE(session);
    check_configured_by_cloud_init(*session);
    EXPECT_THAT(guest_out(*session, "cat /proc/cmdline"), StartsWith("BOOT_IMAGE=/boot/vmlinuz-"));
}

// The fault: an image without cloud-init boots to a login prompt and never configures its
// network; the SSH wait runs out, and the error names the serial log and says the image may
// lack cloud-init.
TEST_F(StockBootTest, WithoutCloudInitTheErrorSaysSo) {
    ASSERT_NO_FATAL_FAILURE(install_image(false));
    auto spec = prepare();
    ASSERT_FALSE(spec.name.empty());
    auto& client = helper_->client();
    auto boot = std::async(std::launch::async, [&client, spec] { return client.boot(spec); });
    // Declared after the future, so destroyed first: an early return stops the VM, which ends
    // the boot wait the future's destructor waits for.
    struct StopOnReturn {
        client::HelperClient& client;
        ~StopOnReturn() { (void)client.stop(kVm); }
    } stop_on_return{client};
    // The guest is up once its console shows the login prompt (bounded: kBootTimeout).
    auto deadline = Clock::now() + kBootTimeout;
    while (Clock::now() < deadline &&
           read_file(serial_log_).value_or("").find(" login: ") == std::string::npos &&
           boot.wait_for(1s) == std::future_status::timeout) {
    }
    if (boot.wait_for(0s) != std::future_status::timeout) {
        auto ended = boot.get();
        FAIL() << "the boot ended before the guest showed its login prompt: "
               << (ended ? std::string("port 22 open") : ended.error().message())
               << "\n--- serial.log\n"
               << read_file(serial_log_).value_or("") << "\n--- qemu.log\n"
               << read_file(member_dir_ + "/qemu.log").value_or("");
    }
    ASSERT_THAT(test::read_text(serial_log_), HasSubstr(" login: "));

    guest::WaitForSshOptions wait;
    wait.serial_log = serial_log_;
    auto ready = guest::wait_for_ssh_session(target(), 5s, wait);
    ASSERT_FALSE(ready);
    auto error = client::with_cloud_init_hint(ready.error(), serial_log_);
    EXPECT_EQ(error.kind, ErrorKind::Timeout);
    EXPECT_THAT(error.message(), HasSubstr("VM stock-1 did not answer SSH at " + ip_ + ":22"));
    EXPECT_THAT(error.hint, HasSubstr("see its console log: " + serial_log_));
    EXPECT_THAT(error.hint, HasSubstr("the image may lack cloud-init"));
    std::cout << "[ message ] " << error.message() << "\n[ hint ] " << error.hint << "\n";

    ASSERT_TRUE(client.stop(kVm)); // ends the helper's boot wait
    auto ended = boot.get();
    ASSERT_FALSE(ended);
    EXPECT_EQ(ended.error().kind, ErrorKind::Interrupted) << ended.error().message();
}

} // namespace
} // namespace fleetbox

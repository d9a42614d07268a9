// Component: `fleetbox image pull|verify|ls|build` through the real CLI binary against a
// scratch FLEETBOX_HOME and an HTTP server on 127.0.0.1 the test starts: bad sources are one
// line each and create nothing; a pulled file shows in `image ls` with where it came from and
// its kernel; `image verify` passes a good entry and names the file of a damaged one. No VM
// boots.
#include "e2e/vm/e2e_fixture.hpp"
#include "support/http_server.hpp"
#include "sys/child_process.hpp"

#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class ImageCli : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_program("mkfs.ext4").empty() || find_program("qemu-img").empty())
            GTEST_SKIP() << "mkfs.ext4 and qemu-img are needed";
        store_ = std::make_unique<ScratchStore>();
    }
    [[nodiscard]] const std::string& root() const { return store_->root(); }
    CliRun fbx(std::vector<std::string> args) {
        CliOptions options;
        options.env_set.push_back("no_proxy=*");
        options.timeout = std::chrono::seconds(120);
        return run_fleetbox(root(), std::move(args), options);
    }
    // A whole-disk ext4 with a kernel and initrd under /boot and cloud-init.
    std::string disk_file() {
        const std::string tree = root() + "/tree";
        std::filesystem::create_directories(tree + "/boot");
        std::filesystem::create_directories(tree + "/etc");
        std::filesystem::create_directories(tree + "/usr/bin");
        write_text(tree + "/etc/os-release", "PRETTY_NAME=\"Testian 1\"\n");
        write_text(tree + "/boot/vmlinuz-6.1.0-9-test", std::string(8192, 'k'));
        write_text(tree + "/boot/initrd.img-6.1.0-9-test", std::string(4096, 'i'));
        write_text(tree + "/usr/bin/cloud-init", "#!/bin/sh\n", 0755);
        ChildSpec spec;
        spec.argv = {"mkfs.ext4", "-q", "-F", "-d", tree, root() + "/my disk.raw", "16M"};
        spec.out = Stream::Capture;
        EXPECT_TRUE(run_checked(spec));
        return root() + "/my disk.raw";
    }
    std::vector<std::string> entries() {
        std::vector<std::string> out;
        for (const auto& n : list_dir(root() + "/images").value_or(std::vector<std::string>{}))
            if (n.front() != '.')
                out.push_back(n);
        return out;
    }
    std::unique_ptr<ScratchStore> store_;
};

TEST_F(ImageCli, BadSourcesAreOneLineAndCreateNothing) {
    auto ftp = fbx({"image", "pull", "ftp://127.0.0.1/x.qcow2"});
    EXPECT_NE(ftp.code, 0);
    EXPECT_THAT(the_error(ftp), HasSubstr("not ftp")) << ftp;
    auto pin = fbx({"image", "pull", "http://127.0.0.1:1/x.qcow2#sha256=12"});
    EXPECT_THAT(the_error(pin), HasSubstr("64 hex digits")) << pin;
    auto built = fbx({"image", "pull", "debian-12"});
    EXPECT_THAT(the_error(built), HasSubstr("builds this image from Debian packages")) << built;
    EXPECT_THAT(built.err, HasSubstr("fleetbox image build debian-12")) << built;
    auto stock = fbx({"image", "build", "ubuntu-24.04"});
    EXPECT_THAT(the_error(stock), HasSubstr("stock cloud image")) << stock;
    EXPECT_THAT(stock.err, HasSubstr("fleetbox image pull ubuntu-24.04")) << stock;
    auto unknown = fbx({"image", "pull", "no-such-image"});
    EXPECT_THAT(the_error(unknown), StartsWith("error: unknown image \"no-such-image\""))
        << unknown;
    EXPECT_THAT(the_error(unknown), HasSubstr("ubuntu-24.04")) << unknown;
    auto missing = fbx({"image", "pull", "./nowhere.qcow2"});
    EXPECT_THAT(the_error(missing), HasSubstr("no such file")) << missing;
    HttpServer server;
    auto not_found = fbx({"image", "pull", server.url("/gone.qcow2")});
    EXPECT_THAT(the_error(not_found), HasSubstr("HTTP 404")) << not_found;
    auto refused = fbx({"image", "pull", "http://127.0.0.1:1/x.qcow2"});
    EXPECT_NE(refused.code, 0);
    EXPECT_THAT(the_error(refused), StartsWith("error: ")) << refused;
    EXPECT_THAT(entries(), IsEmpty());
}

TEST_F(ImageCli, APulledFileIsListedAndVerified) {
    const std::string file = disk_file();
    auto pulled = fbx({"image", "pull", "-q", file});
    ASSERT_EQ(pulled.code, 0) << pulled;
    ASSERT_EQ(entries().size(), 1U);
    const std::string name = entries().front();
    EXPECT_THAT(name, StartsWith("my-disk-"));

    auto table = fbx({"image", "ls"});
    ASSERT_EQ(table.code, 0) << table;
    EXPECT_THAT(table.out, HasSubstr("NAME"));
    EXPECT_THAT(table.out, HasSubstr("KERNEL"));
    EXPECT_THAT(table.out, HasSubstr(name));
    EXPECT_THAT(table.out, HasSubstr("file"));
    EXPECT_THAT(table.out, HasSubstr("Testian 1"));
    EXPECT_THAT(table.out, HasSubstr("6.1.0-9-test"));
    auto json = nlohmann::json::parse(fbx({"image", "ls", "-o", "json"}).out);
    ASSERT_EQ(json.size(), 1U);
    EXPECT_EQ(json[0]["source"], "file");
    EXPECT_EQ(json[0]["origin"]["path"], file);
    EXPECT_EQ(json[0]["boot"]["machine"], "q35");

    auto ok = fbx({"image", "verify"});
    EXPECT_EQ(ok.code, 0) << ok;
    EXPECT_THAT(ok.out, HasSubstr(name + ": ok"));
    // One flipped byte in the kernel (same size: lookups still accept it; verify does not).
    write_text(root() + "/images/" + name + "/vmlinuz", std::string(8191, 'k') + "X");
    auto bad = fbx({"image", "verify", name});
    EXPECT_EQ(bad.code, 1) << bad;
    EXPECT_THAT(the_error(bad), HasSubstr("vmlinuz has sha256")) << bad;
    EXPECT_THAT(bad.err, HasSubstr("fleetbox image rm " + name)) << bad;
    auto absent = fbx({"image", "verify", "not-cached"});
    EXPECT_THAT(the_error(absent), HasSubstr("not cached")) << absent;

    auto removed = fbx({"image", "rm", name});
    EXPECT_EQ(removed.code, 0) << removed;
    EXPECT_THAT(entries(), IsEmpty());
}

// A pull cut mid-transfer keeps its .part for the next pull; `image ls` says so (the table
// does not count it) and `image rm` takes it away.
TEST_F(ImageCli, AKeptDownloadIsShownAndRemoved) {
    const std::string file = disk_file();
    HttpServer server;
    HttpBehaviour cut;
    cut.cut_after = 4096;
    server.serve("/cut.raw", read_text(file), cut);
    auto pulled = fbx({"image", "pull", "-q", server.url("/cut.raw")});
    EXPECT_NE(pulled.code, 0) << pulled;
    EXPECT_THAT(entries(), IsEmpty());
    auto table = fbx({"image", "ls"});
    ASSERT_EQ(table.code, 0) << table;
    EXPECT_THAT(table.out, HasSubstr("No images found")) << table;
    EXPECT_THAT(table.err, HasSubstr("partial download (4.0 KiB) kept for its next pull to resume"))
        << table;
    const std::string prefix = "`fleetbox image rm ";
    const auto at = table.err.find(prefix);
    ASSERT_NE(at, std::string::npos) << table;
    const std::string name = table.err.substr(
        at + prefix.size(), table.err.find('`', at + prefix.size()) - at - prefix.size());
    EXPECT_THAT(name, StartsWith("cut-"));

    auto removed = fbx({"image", "rm", name});
    EXPECT_EQ(removed.code, 0) << removed;
    EXPECT_EQ(removed.out, "Removed the kept download of " + name + " (4.0 KiB)\n");
    EXPECT_THAT(list_dir(root() + "/images/.downloads").value_or(std::vector<std::string>{"?"}),
                IsEmpty());
    EXPECT_EQ(fbx({"image", "ls"}).err, "");
    auto again = fbx({"image", "rm", name});
    EXPECT_THAT(the_error(again), HasSubstr("not cached")) << again;
}

// `up --image` with a source that cannot be had: one line, no VM, no helper, no network.
TEST_F(ImageCli, UpWithAnImageThatCannotBeHadCreatesNothing) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "up needs root (CAP_NET_ADMIN)";
    auto why = enter_private_netns(); // the fake helper never networks; belt and braces
    ASSERT_TRUE(why.empty()) << why;
    HttpServer server;
    CliOptions options;
    options.env_set = {"no_proxy=*", "FLEETBOX_HELPER=" + built("tests/fleetbox-helper-fake")};
    options.timeout = std::chrono::seconds(120);
    for (const std::string& image : {server.url("/gone.qcow2"), std::string("./nowhere.qcow2"),
                                     std::string("nothing-cached")}) {
        SCOPED_TRACE(image);
        auto up = run_fleetbox(root(), {"up", "web-1", "--image", image}, options);
        EXPECT_NE(up.code, 0) << up;
        EXPECT_THAT(the_error(up), StartsWith("error: ")) << up;
        EXPECT_THAT(store_processes(root()), IsEmpty()) << "a helper was left running";
        std::error_code ec;
        EXPECT_FALSE(std::filesystem::exists(root() + "/clusters/web/web-1", ec)) << up;
    }
    EXPECT_THAT(entries(), IsEmpty());
}

} // namespace
} // namespace fleetbox::test

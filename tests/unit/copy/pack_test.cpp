// The upload direction: what pack_tree puts in the stream the guest's tar extracts. Every
// member must sit under the renamed top entry, the sentinel must come last, symlinks travel as
// links (never followed), modes are kept, owners are not, and device nodes are refused.
#include "copy/tar_pack.hpp"
#include "sys/fs.hpp"
#include "sys/temp_dir.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

namespace fleetbox::copy {
namespace {

namespace fs = std::filesystem;

struct Seen {
    std::string name;
    unsigned type = 0;
    mode_t perm = 0;
    std::string link;
    std::string data;
    la_int64_t uid = -1;
};

std::vector<Seen> read_back(const std::string& bytes) {
    std::vector<Seen> out;
    archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        Seen s{archive_entry_pathname(e),
               archive_entry_filetype(e),
               archive_entry_perm(e),
               archive_entry_symlink(e) ? archive_entry_symlink(e) : "",
               {},
               archive_entry_uid(e)};
        char buf[4096];
        for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;)
            s.data.append(buf, static_cast<std::size_t>(n));
        out.push_back(s);
    }
    archive_read_free(a);
    return out;
}

struct Pack : ::testing::Test {
    TempDir dir = *TempDir::create("/tmp", "fbx-pack-test-");
    std::string src = dir.path() + "/app";
    std::string bytes;
    Status pack(const std::string& path, const std::string& top,
                const std::string& sentinel = "S") {
        bytes.clear();
        return pack_tree(path, top, sentinel, [this](std::string_view d) -> Status {
            bytes.append(d);
            return {};
        });
    }
    void write(const std::string& rel, const std::string& text, mode_t mode) {
        std::ofstream(src + "/" + rel) << text;
        ASSERT_EQ(::chmod((src + "/" + rel).c_str(), mode), 0);
    }
};

TEST_F(Pack, TreeUnderTheRenamedTopWithTheSentinelLast) {
    ASSERT_TRUE(ensure_dir(src + "/sub"));
    write("run.sh", "#!/bin/sh\necho hi\n", 0755);
    write("sub/data", "d", 0600);
    fs::create_symlink("/etc/passwd", src + "/abs"); // the user's own link: kept as is
    fs::create_symlink("run.sh", src + "/rel");
    ASSERT_EQ(::mkfifo((src + "/pipe").c_str(), 0640), 0); // listed, never opened
    ASSERT_TRUE(pack(src, "bin"));
    auto seen = read_back(bytes);
    ASSERT_GE(seen.size(), 6U);
    EXPECT_EQ(seen.front().name, "bin/"); // the writer marks directories with a slash
    EXPECT_EQ(seen.front().type, static_cast<unsigned>(AE_IFDIR));
    EXPECT_EQ(seen.back().name, "S");
    EXPECT_EQ(seen.back().type, static_cast<unsigned>(AE_IFREG));
    std::map<std::string, Seen> by_name;
    for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
        EXPECT_TRUE(seen[i].name == "bin" || seen[i].name.rfind("bin/", 0) == 0) << seen[i].name;
        EXPECT_EQ(seen[i].uid, 0);
        by_name[seen[i].name] = seen[i];
    }
    EXPECT_EQ(by_name["bin/run.sh"].perm, 0755U);
    EXPECT_EQ(by_name["bin/run.sh"].data, "#!/bin/sh\necho hi\n");
    EXPECT_EQ(by_name["bin/sub/data"].perm, 0600U);
    EXPECT_EQ(by_name["bin/abs"].type, static_cast<unsigned>(AE_IFLNK));
    EXPECT_EQ(by_name["bin/abs"].link, "/etc/passwd");
    EXPECT_EQ(by_name["bin/rel"].link, "run.sh");
    EXPECT_TRUE(by_name["bin/abs"].data.empty()) << "a symlink must never be followed";
    EXPECT_EQ(by_name["bin/pipe"].type, static_cast<unsigned>(AE_IFIFO));
    EXPECT_EQ(by_name["bin/pipe"].perm, 0640U);
}

TEST_F(Pack, SingleFileAndSymlinkTop) {
    ASSERT_TRUE(ensure_dir(src));
    write("f", "content", 0640);
    ASSERT_TRUE(pack(src + "/f", "renamed", ""));
    auto seen = read_back(bytes);
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].name, "renamed");
    EXPECT_EQ(seen[0].data, "content");
    EXPECT_EQ(seen[0].perm, 0640U);
    fs::create_symlink("f", src + "/l");
    ASSERT_TRUE(pack(src + "/l", "link", ""));
    seen = read_back(bytes);
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].type, static_cast<unsigned>(AE_IFLNK));
    EXPECT_EQ(seen[0].link, "f");
}

TEST_F(Pack, SocketsAreSkipped) {
    ASSERT_TRUE(ensure_dir(src));
    write("keep", "k", 0644);
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string sock = src + "/sock";
    ASSERT_LT(sock.size(), sizeof addr.sun_path);
    std::copy(sock.begin(), sock.end(), addr.sun_path);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(s);
    ASSERT_TRUE(pack(src, "t", ""));
    for (const auto& e : read_back(bytes))
        EXPECT_NE(e.name, "t/sock");
}

TEST_F(Pack, DeviceNodesAreRefused) {
    ASSERT_TRUE(ensure_dir(src));
    if (::mknod((src + "/null").c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0)
        GTEST_SKIP() << "mknod needs root";
    auto r = pack(src, "t");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_NE(r.error().message().find("device node"), std::string::npos) << r.error().message();
}

TEST_F(Pack, MissingSourceAndSinkFailure) {
    auto r = pack(dir.path() + "/nope", "t");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::NotFound) << r.error().message();
    ASSERT_TRUE(ensure_dir(src));
    write("f", std::string(300000, 'a'), 0644);
    auto broken = pack_tree(src, "t", "S", [](std::string_view) -> Status {
        return fail(ErrorKind::Network, "ssh", "connection lost");
    });
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().message(), "ssh: connection lost");
}

} // namespace
} // namespace fleetbox::copy

// Host to host through a pipe: pack_tree on one thread, extract_tree on the other, the way a
// copy streams through an SSH channel. A 64 MiB file must arrive intact while the process
// holds only bounded buffers (the peak RSS grows by far less than the file).
#include "copy/host_place.hpp"
#include "copy/tar_extract.hpp"
#include "copy/tar_pack.hpp"
#include "sys/fs.hpp"
#include "sys/temp_dir.hpp"

#include <cerrno>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace fleetbox::copy {
namespace {

long peak_rss_kib() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

TEST(HostToHost, BigFileAndTreeThroughAPipe) {
    auto dir = *TempDir::create("/tmp", "fbx-stream-test-");
    std::string src = dir.path() + "/src";
    ASSERT_TRUE(ensure_dir(src + "/sub"));
    {
        std::ofstream big(src + "/big", std::ios::binary);
        std::mt19937_64 rng(42);
        std::vector<std::uint64_t> block(8192);
        for (int i = 0; i < 1024; ++i) { // 64 MiB
            for (auto& w : block)
                w = rng();
            big.write(reinterpret_cast<const char*>(block.data()),
                      static_cast<std::streamsize>(block.size() * sizeof(std::uint64_t)));
        }
    }
    std::ofstream(src + "/sub/x") << "x";
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    long before = peak_rss_kib();
    Status packed;
    std::thread writer([&] {
        packed = pack_tree(src, "src", "", [&](std::string_view d) -> Status {
            while (!d.empty()) {
                auto n = ::write(fds[1], d.data(), d.size());
                if (n < 0)
                    return fail_errno("write pipe", errno);
                d.remove_prefix(static_cast<std::size_t>(n));
            }
            return {};
        });
        ::close(fds[1]);
    });
    std::string dest = dir.path() + "/out/copy";
    auto scratch = Scratch::next_to(dest);
    ASSERT_TRUE(scratch);
    auto got = extract_tree(scratch->fd(), "data", "src",
                            [&](char* buf, std::size_t size) -> Result<std::size_t> {
                                auto n = ::read(fds[0], buf, size);
                                if (n < 0)
                                    return fail_errno("read pipe", errno);
                                return static_cast<std::size_t>(n);
                            });
    writer.join();
    ::close(fds[0]);
    ASSERT_TRUE(packed) << packed.error().message();
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_TRUE(scratch->commit("data", got->top_is_dir));
    long grown = peak_rss_kib() - before;
    EXPECT_LT(grown, 16 * 1024) << "peak RSS grew by " << grown << " KiB for a 64 MiB file";
    EXPECT_EQ(*read_file(src + "/big"), *read_file(dest + "/big"));
    EXPECT_EQ(*read_file(dest + "/sub/x"), "x");
}

} // namespace
} // namespace fleetbox::copy

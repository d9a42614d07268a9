// Unit tests for the cluster block of /etc/hosts: its rendering (markers, entries in order,
// validation), the splice (replace the first block, drop later ones, append when missing,
// keep every other line, idempotent), and the guest command's shape (fixed program, data
// only as arguments and stdin). The program itself runs in tests/component/seed.
#include "seed/cluster_block.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::seed {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kBegin =
    std::string(kClusterBlockBegin) + " (kept current by the host; edits inside are replaced)\n";
const std::string kEnd = std::string(kClusterBlockEnd) + "\n";

std::string block_of(const std::vector<HostEntry>& entries) {
    auto block = render_cluster_block(entries);
    EXPECT_TRUE(block) << block.error().message();
    return block.value_or("");
}

TEST(ClusterBlock, RendersMarkersAroundEntriesInOrder) {
    EXPECT_EQ(block_of({{"192.168.50.12", "web-3"}, {"192.168.50.11", "web-2"}}),
              kBegin + "192.168.50.12\tweb-3\n192.168.50.11\tweb-2\n" + kEnd);
}

TEST(ClusterBlock, AnEmptyClusterIsJustTheMarkers) {
    EXPECT_EQ(block_of({}), kBegin + kEnd);
}

TEST(ClusterBlock, RefusesEntriesThatCouldAddLines) {
    for (const HostEntry& bad : std::vector<HostEntry>{{"10.0.0.2", "a\n10.6.6.6 evil"},
                                                       {"10.0.0.2\n10.6.6.6", "evil"},
                                                       {"10.0.0.2", "# fleetbox cluster end"},
                                                       {"10.0.0.2", "$(reboot)"},
                                                       {"10.0.0.2", "a'b"}}) {
        auto block = render_cluster_block({bad});
        ASSERT_FALSE(block) << bad.name;
        EXPECT_EQ(block.error().kind, ErrorKind::InvalidArgument);
    }
}

const std::string kSeedFile = "# written by fleetbox at boot\n"
                              "127.0.0.1\tlocalhost\n"
                              "127.0.1.1\tweb-1\n";

TEST(ClusterBlockSplice, AppendsABlockToAFileWithoutOne) {
    auto block = block_of({{"10.0.0.2", "web-2"}});
    EXPECT_EQ(splice_cluster_block(kSeedFile, block), kSeedFile + block);
}

TEST(ClusterBlockSplice, ReplacesTheBlockInPlaceAndKeepsOtherLines) {
    std::string before =
        kSeedFile + block_of({{"10.0.0.2", "web-2"}}) + "10.9.9.9\tadded-by-a-test\n";
    auto block = block_of({{"10.0.0.2", "web-2"}, {"10.0.0.3", "web-3"}});
    EXPECT_EQ(splice_cluster_block(before, block),
              kSeedFile + block + "10.9.9.9\tadded-by-a-test\n");
}

TEST(ClusterBlockSplice, IsIdempotent) {
    auto block = block_of({{"10.0.0.2", "web-2"}});
    std::string once = splice_cluster_block(kSeedFile, block);
    EXPECT_EQ(splice_cluster_block(once, block), once);
}

TEST(ClusterBlockSplice, AnEmptyBlockRemovesTheEntriesButKeepsTheMarkers) {
    std::string before = kSeedFile + block_of({{"10.0.0.2", "web-2"}});
    std::string after = splice_cluster_block(before, block_of({}));
    EXPECT_EQ(after, kSeedFile + kBegin + kEnd);
    EXPECT_THAT(after, Not(HasSubstr("web-2")));
}

TEST(ClusterBlockSplice, DropsLaterBlocks) {
    std::string before = kBegin + "10.0.0.2\told\n" + kEnd + "keep\n" + kBegin +
                         "10.0.0.3\tolder\n" + kEnd + "keep too\n";
    auto block = block_of({{"10.0.0.4", "new"}});
    EXPECT_EQ(splice_cluster_block(before, block), block + "keep\nkeep too\n");
}

TEST(ClusterBlockSplice, ABlockWithoutEndRunsToTheEndOfTheFile) {
    std::string before = kSeedFile + kBegin + "10.0.0.2\tweb-2\n";
    auto block = block_of({{"10.0.0.3", "web-3"}});
    EXPECT_EQ(splice_cluster_block(before, block), kSeedFile + block);
}

TEST(ClusterBlockSplice, KeepsLinesByteForByteAndTerminatesTheLastOne) {
    std::string odd = "  10.1.1.1 spaced\t \n\n# comment with $(dollar) and 'quotes'\r\nno-newline";
    auto block = block_of({});
    EXPECT_EQ(splice_cluster_block(odd, block),
              "  10.1.1.1 spaced\t \n\n# comment with $(dollar) and 'quotes'\r\nno-newline\n" +
                  block);
}

TEST(ClusterBlockSplice, AnEmptyFileGetsJustTheBlock) {
    auto block = block_of({{"10.0.0.2", "web-2"}});
    EXPECT_EQ(splice_cluster_block("", block), block);
}

TEST(ClusterBlockCommand, RunsTheFixedProgramThroughSudoWithThePathAsAnArgument) {
    std::string command = cluster_block_command();
    EXPECT_THAT(command, StartsWith("sudo -n /bin/sh -c '"));
    EXPECT_THAT(command, ::testing::EndsWith("' fleetbox-hosts /etc/hosts"));
    EXPECT_EQ(command, shell_join({"sudo", "-n", "/bin/sh", "-c", cluster_block_script(),
                                   "fleetbox-hosts", "/etc/hosts"}));
    EXPECT_EQ(cluster_block_command("/tmp/x y", false),
              shell_join({"/bin/sh", "-c", cluster_block_script(), "fleetbox-hosts", "/tmp/x y"}));
}

TEST(ClusterBlockCommand, TheProgramReadsTheBlockFromStdinAndRenamesIntoPlace) {
    std::string script = cluster_block_script();
    EXPECT_THAT(script, HasSubstr("block=$(cat)"));
    EXPECT_THAT(script, HasSubstr("mktemp \"$hosts.fleetbox-XXXXXX\""));
    EXPECT_THAT(script, HasSubstr("mv -f \"$tmp\" \"$hosts\""));
    EXPECT_THAT(script, HasSubstr(std::string(kClusterBlockBegin)));
    EXPECT_THAT(script, HasSubstr(std::string(kClusterBlockEnd)));
}

} // namespace
} // namespace fleetbox::seed

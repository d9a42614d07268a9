// Unit tests for ssh/keys: generated keys are what OpenSSH itself reads and prints.
// ssh-keygen (openssh-client) is the oracle for the public line, fingerprint and known_hosts.
#include "ssh/keys.hpp"
#include "support/test_support.hpp"
#include "sys/child_process.hpp"
#include "util/strings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetbox::ssh {
namespace {

using test::ScratchDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// First two whitespace-separated fields of a public key line ("<type> <base64>").
std::string type_and_blob(const std::string& line) {
    auto fields = split(std::string(trim(line)), ' ');
    return fields.size() >= 2 ? fields[0] + " " + fields[1] : line;
}

CommandOutput ssh_keygen(std::vector<std::string> args) {
    ChildSpec spec;
    spec.argv = {"ssh-keygen"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.out = Stream::Capture;
    auto out = run_command(spec);
    EXPECT_TRUE(out) << out.error().message();
    return out ? *out : CommandOutput{};
}

TEST(GenerateEd25519, ProducesOpensshPrivateKeyAndPublicLineWithComment) {
    auto pair = generate_ed25519("me@host");
    ASSERT_TRUE(pair) << pair.error().message();
    EXPECT_THAT(pair->private_openssh, StartsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    EXPECT_THAT(pair->private_openssh, HasSubstr("-----END OPENSSH PRIVATE KEY-----\n"));
    EXPECT_THAT(pair->public_line, StartsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"));
    EXPECT_EQ(split(pair->public_line, ' ').back(), "me@host");
    EXPECT_EQ(pair->public_line.find('\n'), std::string::npos);
}

TEST(GenerateEd25519, EmptyCommentLeavesTwoFields) {
    auto pair = generate_ed25519("");
    ASSERT_TRUE(pair);
    EXPECT_EQ(split(pair->public_line, ' ').size(), 2u);
}

TEST(GenerateEd25519, EveryCallMakesANewKey) {
    auto a = generate_ed25519("x");
    auto b = generate_ed25519("x");
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->public_line, b->public_line);
    EXPECT_NE(a->private_openssh, b->private_openssh);
}

TEST(GenerateEd25519, RejectsCommentWithNewline) {
    auto pair = generate_ed25519("a\nb");
    ASSERT_FALSE(pair);
    EXPECT_EQ(pair.error().kind, ErrorKind::InvalidArgument);
}

TEST(GenerateEd25519, PublicLineMatchesWhatSshKeygenDerives) {
    ScratchDir dir;
    auto pair = generate_ed25519("c");
    ASSERT_TRUE(pair);
    test::write_text(dir.file("key"), pair->private_openssh, 0600);
    auto out = ssh_keygen({"-y", "-f", dir.file("key")});
    ASSERT_TRUE(out.status.ok()) << out.err;
    EXPECT_EQ(type_and_blob(out.out), type_and_blob(pair->public_line));
}

TEST(Fingerprint, MatchesSshKeygenSha256) {
    ScratchDir dir;
    auto pair = generate_ed25519("c");
    ASSERT_TRUE(pair);
    test::write_text(dir.file("key.pub"), pair->public_line + "\n");
    auto out = ssh_keygen({"-l", "-E", "sha256", "-f", dir.file("key.pub")});
    ASSERT_TRUE(out.status.ok()) << out.err;
    auto fields = split(std::string(trim(out.out)), ' '); // "256 SHA256:... c (ED25519)"
    ASSERT_GE(fields.size(), 2u);
    auto fp = fingerprint_sha256(pair->public_line);
    ASSERT_TRUE(fp) << fp.error().message();
    EXPECT_EQ(*fp, fields[1]);
    EXPECT_THAT(*fp, StartsWith("SHA256:"));
}

TEST(Fingerprint, RejectsGarbage) {
    auto fp = fingerprint_sha256("ssh-ed25519 not-base64!!");
    ASSERT_FALSE(fp);
    EXPECT_EQ(fp.error().kind, ErrorKind::Corrupt);
    EXPECT_FALSE(fingerprint_sha256("nospace"));
    EXPECT_FALSE(fingerprint_sha256("ssh-bogus AAAA"));
}

TEST(KnownHosts, LineIsHostTypeBlobAndSshKeygenFindsIt) {
    ScratchDir dir;
    auto pair = generate_ed25519("comment-dropped");
    ASSERT_TRUE(pair);
    auto line = known_hosts_line("192.168.50.10", pair->public_line);
    ASSERT_TRUE(line) << line.error().message();
    EXPECT_EQ(*line, "192.168.50.10 " + type_and_blob(pair->public_line));
    test::write_text(dir.file("known_hosts"), *line + "\n");
    auto found = ssh_keygen({"-F", "192.168.50.10", "-f", dir.file("known_hosts")});
    EXPECT_TRUE(found.status.ok()) << found.out << found.err;
    auto other = ssh_keygen({"-F", "192.168.50.11", "-f", dir.file("known_hosts")});
    EXPECT_FALSE(other.status.ok());
}

TEST(KnownHosts, RejectsBadHostOrKey) {
    auto pair = generate_ed25519("");
    ASSERT_TRUE(pair);
    EXPECT_EQ(known_hosts_line("", pair->public_line).error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(known_hosts_line("a b", pair->public_line).error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(known_hosts_line("h", "ssh-ed25519 %%%").error().kind, ErrorKind::Corrupt);
}

TEST(KeyPairFromPrivate, DerivesTheSamePublicLine) {
    auto pair = generate_ed25519("c");
    ASSERT_TRUE(pair);
    auto again = key_pair_from_private(pair->private_openssh, "c");
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->public_line, pair->public_line);
    EXPECT_EQ(again->private_openssh, pair->private_openssh);
}

TEST(KeyPairFromPrivate, GarbageIsCorrupt) {
    auto bad = key_pair_from_private("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", "");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::Corrupt);
}

TEST(VerifyKeyPair, AcceptsMatchingAndRejectsMixedHalves) {
    auto a = generate_ed25519("a");
    auto b = generate_ed25519("b");
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(verify_key_pair(*a));
    auto mixed = verify_key_pair(KeyPair{a->private_openssh, b->public_line});
    ASSERT_FALSE(mixed);
    EXPECT_EQ(mixed.error().kind, ErrorKind::Corrupt);
}

} // namespace
} // namespace fleetbox::ssh

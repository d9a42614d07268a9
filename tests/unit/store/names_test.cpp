// VM name validation and cluster-name derivation (reference §5 plus the new name rule).
#include "store/names.hpp"

#include <gtest/gtest.h>
#include <string>

namespace fleetbox {
namespace {

TEST(VmName, AcceptsLowercaseLabels) {
    const std::string accepted[] = {
        "a", "web-1", "0day", "web-1-2", "node-2024", "a1b2", "x-y-z", std::string(63, 'a'), "9"};
    for (const std::string& name : accepted) {
        EXPECT_TRUE(validate_vm_name(name)) << name;
        EXPECT_TRUE(is_valid_vm_name(name)) << name;
    }
}

TEST(VmName, RefusesEverythingElse) {
    const std::string refused[] = {"../x",
                                   "a/b",
                                   "Web",
                                   "",
                                   std::string(64, 'a'),
                                   "w\xc3\xa9"
                                   "b",
                                   "-5",
                                   "web-",
                                   "-",
                                   "a b",
                                   "a.b",
                                   "a_b",
                                   ".",
                                   "..",
                                   "a\nb",
                                   std::string("a\0b", 3),
                                   "WEB-1",
                                   "web-1\t"};
    for (const std::string& name : refused) {
        auto ok = validate_vm_name(name);
        ASSERT_FALSE(ok) << name;
        EXPECT_EQ(ok.error().kind, ErrorKind::InvalidArgument) << name;
        EXPECT_FALSE(is_valid_vm_name(name)) << name;
        const std::string msg = ok.error().message();
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
        EXPECT_NE(msg.find("invalid VM name"), std::string::npos) << msg;
        EXPECT_NE(msg.find("at most 63 characters"), std::string::npos) << msg;
    }
}

std::string message_for(const std::string& name) {
    return validate_vm_name(name).error().message();
}

TEST(VmName, ReasonIsTailored) {
    EXPECT_NE(message_for("").find("is empty"), std::string::npos);
    EXPECT_NE(message_for(std::string(64, 'a')).find("has 64 characters"), std::string::npos);
    EXPECT_NE(message_for("Web").find("'W' at position 1 is uppercase"), std::string::npos);
    EXPECT_NE(message_for("a/b").find("'/' at position 2 is not allowed"), std::string::npos);
    EXPECT_NE(message_for("w\xc3\xa9"
                          "b")
                  .find("non-ASCII character at position 2"),
              std::string::npos);
    EXPECT_NE(message_for("a b").find("space at position 2"), std::string::npos);
    EXPECT_NE(message_for("a\nb").find("control character \\x0a"), std::string::npos);
    EXPECT_NE(message_for("-5").find("starts with '-'"), std::string::npos);
    EXPECT_NE(message_for("web-").find("ends with '-'"), std::string::npos);
}

TEST(VmName, MessageQuotesTheName) {
    EXPECT_EQ(message_for("Web").rfind("invalid VM name \"Web\": ", 0), 0U) << message_for("Web");
    // Control characters are escaped, so the message stays one line.
    EXPECT_NE(message_for("a\nb").find("\"a\\x0ab\""), std::string::npos);
}

TEST(VmName, LongNamesAreCutInMessages) {
    const std::string huge(100000, 'X');
    const std::string msg = message_for(huge);
    EXPECT_LT(msg.size(), 400U);
    EXPECT_NE(msg.find("has 100000 characters"), std::string::npos);
    EXPECT_NE(msg.find("..."), std::string::npos);
}

TEST(QuoteName, DoesNotSplitUtf8) {
    std::string name(69, 'a');
    name += "\xc3\xa9"; // 'é' straddles the 70-byte cut
    name += "zzz";
    const std::string q = quote_name(name);
    EXPECT_EQ(q, "\"" + std::string(69, 'a') + "\"...");
    EXPECT_EQ(quote_name("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(ClusterName, StripsOneTrailingNumber) {
    EXPECT_EQ(cluster_name("web-3"), "web");
    EXPECT_EQ(cluster_name("web-12"), "web");
    EXPECT_EQ(cluster_name("web-1-2"), "web-1");
    EXPECT_EQ(cluster_name("node-2024"), "node");
    EXPECT_EQ(cluster_name("a-0"), "a");
}

TEST(ClusterName, LeavesOtherNamesUnchanged) {
    EXPECT_EQ(cluster_name("dev"), "dev");
    EXPECT_EQ(cluster_name("web-"), "web-");
    EXPECT_EQ(cluster_name("web-x"), "web-x");
    EXPECT_EQ(cluster_name("-5"), "-5");
    EXPECT_EQ(cluster_name("web-1x"), "web-1x");
    EXPECT_EQ(cluster_name("12"), "12");
    EXPECT_EQ(cluster_name(""), "");
}

TEST(ClusterName, OfAValidNameIsAValidName) {
    for (const std::string name : {"web-3", "web-1-2", "node-2024", "dev", "a-1", "0-1"}) {
        EXPECT_TRUE(is_valid_vm_name(cluster_name(name))) << name;
    }
}

} // namespace
} // namespace fleetbox

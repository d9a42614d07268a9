// The rules a guest's tar members must pass before anything is written.
#include "copy/entry_rules.hpp"

#include <gtest/gtest.h>

namespace fleetbox::copy {
namespace {

using Parts = std::vector<std::string>;

std::string why(std::string_view name, std::string_view top) {
    auto r = member_components(name, top);
    return r ? "ok" : r.error().message();
}

TEST(MemberName, UnderTheTop) {
    EXPECT_EQ(*member_components("web", "web"), Parts{});
    EXPECT_EQ(*member_components("web/", "web"), Parts{});
    EXPECT_EQ(*member_components("web/a/b", "web"), (Parts{"a", "b"}));
    EXPECT_EQ(*member_components("web/./a//b/", "web"), (Parts{"a", "b"}));
    EXPECT_EQ(*member_components("./etc/hosts", "."), (Parts{"etc", "hosts"}));
}

TEST(MemberName, RefusesUnsafeNames) {
    EXPECT_EQ(why("/etc/x", "web"), "unsafe tar entry \"/etc/x\": absolute path");
    EXPECT_EQ(why("web/../x", "web"), "unsafe tar entry \"web/../x\": \"..\" in the path");
    EXPECT_EQ(why("../x", "web"), "unsafe tar entry \"../x\": \"..\" in the path");
    EXPECT_EQ(why("other", "web"), "unsafe tar entry \"other\": not under \"web\"");
    EXPECT_EQ(why("webx/a", "web"), "unsafe tar entry \"webx/a\": not under \"web\"");
    EXPECT_EQ(why("", "web"), "unsafe tar entry \"\": empty name");
    auto r = member_components("/x", "web");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
}

std::string link(const Parts& rel, std::string_view target) {
    auto r = check_symlink_target("l", rel, target);
    return r ? "ok" : r.error().context;
}

TEST(SymlinkTarget, StaysInside) {
    EXPECT_EQ(link({"l"}, "file"), "ok");
    EXPECT_EQ(link({"l"}, "./sub/file"), "ok");
    EXPECT_EQ(link({"a", "l"}, "../file"), "ok");
    EXPECT_EQ(link({"a", "b", "l"}, "../../x/y"), "ok");
}

TEST(SymlinkTarget, RefusesWhatLeadsOutside) {
    EXPECT_EQ(link({"l"}, "/etc"), "symlink to \"/etc\" is absolute");
    EXPECT_EQ(link({"l"}, "../outside"), "symlink to \"../outside\" leads outside the destination");
    EXPECT_EQ(link({"a", "l"}, "../../outside"),
              "symlink to \"../../outside\" leads outside the destination");
    // ".." after a name could climb through another symlink: refused outright.
    EXPECT_EQ(link({"a", "l"}, "s/../x"), "symlink to \"s/../x\" climbs after a name");
    // The top itself: any target points beside the destination.
    EXPECT_EQ(link({}, "sibling"), "symlink to \"sibling\" leads outside the destination");
    EXPECT_EQ(link({"l"}, ""), "symlink with an empty target");
}

} // namespace
} // namespace fleetbox::copy

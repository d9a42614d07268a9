// facts_from_info on qemu-img info JSON: the size, and each refusal (backing file, external
// data file, encryption, corrupt flag, wrong format, wrong shape); the json: source.
#include "diskimage/qemu_img.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fleetbox::diskimage {
namespace {

using ::testing::HasSubstr;

TEST(QemuImgInfo, VirtualSizeOfAPlainImage) {
    auto facts = facts_from_info("d.qcow2", Format::Qcow2, R"({
        "virtual-size": 2361393152, "filename": "d.qcow2", "format": "qcow2",
        "format-specific": {"type": "qcow2", "data": {"compat": "1.1", "corrupt": false}}})");
    ASSERT_TRUE(facts) << facts.error().message();
    EXPECT_EQ(facts->virtual_size, 2361393152U);
    EXPECT_EQ(facts->format, Format::Qcow2);
}

TEST(QemuImgInfo, Refusals) {
    struct Case {
        const char* json;
        ErrorKind kind;
        const char* says;
    };
    const Case cases[] = {
        {R"({"virtual-size": 1, "format": "qcow2", "backing-filename": "/x"})",
         ErrorKind::InvalidArgument, "d.qcow2 has a backing file"},
        {R"({"virtual-size": 1, "format": "qcow2", "format-specific": {"data": {"data-file": "/x"}}})",
         ErrorKind::InvalidArgument, "external data file"},
        {R"({"virtual-size": 1, "format": "qcow2", "encrypted": true})", ErrorKind::InvalidArgument,
         "d.qcow2 is encrypted"},
        {R"({"virtual-size": 1, "format": "qcow2", "format-specific": {"data": {"corrupt": true}}})",
         ErrorKind::Corrupt, "corrupt"},
        {R"({"virtual-size": 1, "format": "raw"})", ErrorKind::Corrupt, "as raw, not qcow2"},
        {R"({"virtual-size": 0, "format": "qcow2"})", ErrorKind::InvalidArgument, "empty disk"},
        {R"({"format": "qcow2"})", ErrorKind::ExternalCommand, "no virtual size"},
        {R"({"virtual-size": 1, "format": 7})", ErrorKind::ExternalCommand, "unexpected output"},
        {R"({"virtual-size": 1, "format": "qcow2", "encrypted": "yes"})",
         ErrorKind::ExternalCommand, "unexpected output"},
        {"not json", ErrorKind::ExternalCommand, "no virtual size"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.json);
        auto facts = facts_from_info("d.qcow2", Format::Qcow2, c.json);
        ASSERT_FALSE(facts);
        EXPECT_EQ(facts.error().kind, c.kind);
        EXPECT_THAT(facts.error().message(), HasSubstr(c.says));
    }
}

TEST(QemuImgSource, NamesDriversAndAnAbsolutePath) {
    std::string source = qemu_img_source("/srv/nbd:host:1/x.qcow2", Format::Qcow2);
    ASSERT_EQ(source.rfind("json:", 0), 0U);
    auto spec = nlohmann::json::parse(source.substr(5));
    EXPECT_EQ(spec["driver"], "qcow2");
    EXPECT_TRUE(spec["backing"].is_null());
    EXPECT_EQ(spec["file"]["driver"], "file");
    EXPECT_EQ(spec["file"]["filename"], "/srv/nbd:host:1/x.qcow2");

    auto raw = nlohmann::json::parse(qemu_img_source("rel/x.raw", Format::Raw).substr(5));
    EXPECT_EQ(raw["driver"], "raw");
    EXPECT_FALSE(raw.contains("backing"));
    EXPECT_EQ(raw["file"]["filename"].get<std::string>().front(), '/');
}

} // namespace
} // namespace fleetbox::diskimage

// config.json: round trip, schema version, the provisioning method (absent reads as nocloud,
// an unknown one is refused), and one clear error naming the file when it is bad.
#include "store/config.hpp"
#include "store/mac.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>

namespace fleetbox {
namespace {

const std::string kPath = "/fb/clusters/web/web-1/config.json";

VmConfig sample() {
    VmConfig c;
    c.name = "web-1";
    c.mac = mac_for_name("web-1");
    c.cpus = 2;
    c.memory_mb = 2048;
    c.disk_mb = 10240;
    c.image = "debian-12";
    c.created_at = "2026-11-28T18:00:00.123456Z";
    c.cluster = "web";
    return c;
}

TEST(Config, TheClusterIsRecordedAndDefaultsToTheNames) {
    VmConfig c = sample();
    c.cluster = "a"; // `up a b c`: b is in cluster a
    c.name = "b";
    c.mac = mac_for_name("b");
    auto back = parse_config(serialize_config(c), "/fb/clusters/b/b/config.json");
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->cluster, "a");

    auto doc = nlohmann::json::parse(serialize_config(sample()));
    doc.erase("cluster"); // written before clusters were recorded
    back = parse_config(doc.dump(), kPath);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->cluster, "web");

    doc["cluster"] = "Not A Name";
    EXPECT_FALSE(parse_config(doc.dump(), kPath));
    EXPECT_EQ(new_vm_config("db-3", 1, 512, 1024, "debian-12").cluster, "db");
}

TEST(Config, RoundTrips) {
    VmConfig c = sample();
    auto back = parse_config(serialize_config(c), kPath);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, c);

    c.ip = "192.168.100.5";
    c.fixtures = {{"/tmp/data", "/mnt/data", "data"}, {"/tmp/x", "/x", ""}};
    back = parse_config(serialize_config(c), kPath);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, c);
}

TEST(Config, ProvisioningIsWrittenAndReadBack) {
    VmConfig c = sample();
    EXPECT_EQ(c.provisioning, "nocloud"); // the default
    for (const char* method : {kMethodFleetboxSeed, kMethodNoCloud}) {
        c.provisioning = method;
        const std::string text = serialize_config(c);
        EXPECT_EQ(nlohmann::json::parse(text)["provisioning"], method);
        auto back = parse_config(text, kPath);
        ASSERT_TRUE(back) << back.error().message();
        EXPECT_EQ(back->provisioning, method);
        EXPECT_EQ(*back, c);
    }
    EXPECT_STREQ(kMethodFleetboxSeed, "fleetbox-seed");
    EXPECT_STREQ(kMethodNoCloud, "nocloud");
}

TEST(Config, ProvisioningComesAfterIpAndBeforeFixtures) {
    VmConfig c = sample();
    c.ip = "192.168.100.5";
    c.provisioning = kMethodFleetboxSeed;
    c.fixtures = {{"/tmp/data", "/mnt/data", "data"}};
    const std::string text = serialize_config(c);
    EXPECT_LT(text.find("\"ip\""), text.find("\"provisioning\""));
    EXPECT_LT(text.find("\"provisioning\""), text.find("\"fixtures\""));
}

TEST(Config, WithoutProvisioningReadsAsNoCloud) {
    VmConfig c = sample();
    c.provisioning = kMethodFleetboxSeed;
    auto doc = nlohmann::json::parse(serialize_config(c));
    doc.erase("provisioning");
    auto back = parse_config(doc.dump(), kPath);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->provisioning, "nocloud");
}

TEST(Config, CheckRefusesAnUnknownProvisioning) {
    for (const char* bad : {"cloud-init", "NoCloud", "fleetbox_seed", " nocloud"}) {
        VmConfig c = sample();
        c.provisioning = bad;
        auto ok = check_config(c);
        ASSERT_FALSE(ok) << bad;
        EXPECT_EQ(ok.error().kind, ErrorKind::InvalidArgument);
        EXPECT_NE(ok.error().message().find("field \"provisioning\""), std::string::npos)
            << ok.error().message();
    }
}

TEST(Config, IsIndentedWithFieldsInOrderAndEmptyOnesOmitted) {
    const std::string text = serialize_config(sample());
    EXPECT_EQ(text.rfind("{\n  \"version\": 1,\n  \"name\": \"web-1\",\n  \"mac\": ", 0), 0U)
        << text;
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find("\"ip\""), std::string::npos);
    EXPECT_EQ(text.find("\"fixtures\""), std::string::npos);
    const auto doc = nlohmann::json::parse(text);
    for (const char* key :
         {"version", "name", "mac", "cpus", "memory_mb", "disk_mb", "image", "created_at"})
        EXPECT_TRUE(doc.contains(key)) << key;
    EXPECT_LT(text.find("\"cpus\""), text.find("\"created_at\""));
}

TEST(Config, NewConfigDerivesMacAndTime) {
    VmConfig c = new_vm_config("db-1", 1, 512, 4096, "debian-12");
    EXPECT_EQ(c.mac, mac_for_name("db-1"));
    EXPECT_EQ(c.version, kConfigVersion);
    EXPECT_TRUE(check_config(c));
}

TEST(Config, MissingVersionReadsAsOne) {
    auto doc = nlohmann::json::parse(serialize_config(sample()));
    doc.erase("version");
    auto back = parse_config(doc.dump(), kPath);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->version, 1);
}

TEST(Config, UnknownFieldsAreIgnored) {
    auto doc = nlohmann::json::parse(serialize_config(sample()));
    doc["future_field"] = {{"x", 1}};
    EXPECT_TRUE(parse_config(doc.dump(), kPath));
}

TEST(Config, NewerSchemaIsRefused) {
    auto doc = nlohmann::json::parse(serialize_config(sample()));
    doc["version"] = 2;
    auto back = parse_config(doc.dump(), kPath);
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().kind, ErrorKind::Corrupt);
    const std::string msg = back.error().message();
    EXPECT_NE(msg.find(kPath), std::string::npos) << msg;
    EXPECT_NE(msg.find("written by a newer fleetbox (schema version 2"), std::string::npos) << msg;
    EXPECT_NE(back.error().hint.find("upgrade"), std::string::npos);
}

// Every way a config can be bad gives one Corrupt line that names the file and the problem.
void expect_corrupt(const std::string& text, const std::string& problem) {
    auto back = parse_config(text, kPath);
    ASSERT_FALSE(back) << text;
    EXPECT_EQ(back.error().kind, ErrorKind::Corrupt) << text;
    const std::string msg = back.error().message();
    EXPECT_EQ(msg.rfind("read config " + kPath + ": ", 0), 0U) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << "want '" << problem << "' in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(back.error().hint, "remove the VM with `fleetbox rm web-1` or fix the file");
}

std::string with(const char* key, const nlohmann::json& value) {
    auto doc = nlohmann::json::parse(serialize_config(sample()));
    doc[key] = value;
    return doc.dump();
}

std::string without(const char* key) {
    auto doc = nlohmann::json::parse(serialize_config(sample()));
    doc.erase(key);
    return doc.dump();
}

TEST(Config, BadJsonNamesTheFileAndPlace) {
    expect_corrupt("", "invalid JSON");
    expect_corrupt("{\"name\": \"web-1\",", "invalid JSON");
    expect_corrupt("{\"name\": \"web-1\" x}", "column 18");
    expect_corrupt("{\"name\": \"w\xff\"}", "invalid JSON");
    expect_corrupt("[1, 2]", "expected a JSON object, found array");
    expect_corrupt("null", "expected a JSON object, found null");
}

TEST(Config, MissingFieldsAreNamed) {
    for (const char* key : {"name", "mac", "cpus", "memory_mb", "disk_mb", "image", "created_at"})
        expect_corrupt(without(key), std::string("field \"") + key + "\" is missing");
}

TEST(Config, WrongTypesAndValuesAreNamed) {
    expect_corrupt(with("cpus", "two"), "field \"cpus\" must be an integer");
    expect_corrupt(with("cpus", 2.5), "field \"cpus\" must be an integer");
    expect_corrupt(with("cpus", 0), "field \"cpus\" must be an integer from 1");
    expect_corrupt(with("memory_mb", -1), "field \"memory_mb\" must be an integer");
    expect_corrupt(with("disk_mb", 1e30), "field \"disk_mb\"");
    expect_corrupt(with("name", 5), "field \"name\" must be a string");
    expect_corrupt(with("name", "Web"), "invalid VM name \"Web\"");
    expect_corrupt(with("mac", "nope"), "field \"mac\"");
    expect_corrupt(with("created_at", "yesterday"), "field \"created_at\"");
    expect_corrupt(with("ip", "300.1.1.1"), "field \"ip\"");
    expect_corrupt(with("image", ""), "field \"image\" is empty");
    expect_corrupt(with("version", 0), "field \"version\" must be a positive integer");
    expect_corrupt(with("version", "1"), "field \"version\" must be a positive integer");
    expect_corrupt(with("provisioning", "teleport"),
                   "field \"provisioning\" must be \"fleetbox-seed\" or \"nocloud\"");
    expect_corrupt(with("provisioning", 1), "field \"provisioning\" must be a string");
    expect_corrupt(with("fixtures", "x"), "field \"fixtures\" must be a list");
    expect_corrupt(with("fixtures", nlohmann::json::array({1})), "must be an object");
    expect_corrupt(with("fixtures", nlohmann::json::array({{{"host_path", "/a"}}})),
                   "fixtures: field \"guest_path\" is missing");
}

TEST(Config, CheckRefusesBadValuesBeforeWriting) {
    VmConfig c = sample();
    c.cpus = 0;
    auto ok = check_config(c);
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().kind, ErrorKind::InvalidArgument);
    c = sample();
    c.name = "../x";
    EXPECT_FALSE(check_config(c));
    c = sample();
    c.fixtures = {{"", "/x", ""}};
    EXPECT_FALSE(check_config(c));
}

TEST(Config, ReadConfigMissingFileIsNotFound) {
    auto back = read_config("/nonexistent-fleetbox-dir/config.json");
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().kind, ErrorKind::NotFound);
}

} // namespace
} // namespace fleetbox

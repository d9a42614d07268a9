// Unit tests for vm/qmp against a scripted in-process QMP peer on a socketpair: handshake,
// replies matched by id, events skipped and recorded, QMP errors, EOF and garbage.
#include "vm/qmp.hpp"

#include <functional>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <thread>

namespace fleetbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr const char* kGreeting = R"({"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, )"
                                  R"("major": 7}, "package": ""}, "capabilities": ["oob"]}})";

// Answers each request with the lines `script` returns; an empty list closes the connection.
class FakeQmp {
public:
    using Script = std::function<std::vector<std::string>(const json& request)>;

    explicit FakeQmp(Script script, std::string greeting = kGreeting) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw std::runtime_error("socketpair");
        client_ = Fd(sv[0]);
        server_ = Fd(sv[1]);
        thread_ = std::thread([this, script = std::move(script), greeting = std::move(greeting)] {
            if (!write_line(server_.get(), greeting))
                return;
            LineReader reader(server_.get());
            while (true) {
                auto line = reader.read_line(10s);
                if (!line || !*line)
                    return;
                json request = json::parse(**line);
                requests_.push_back(request);
                auto replies = script(request);
                if (replies.empty()) {
                    ::shutdown(server_.get(), SHUT_RDWR);
                    return;
                }
                for (const auto& r : replies)
                    if (!write_line(server_.get(), r))
                        return;
            }
        });
    }
    ~FakeQmp() {
        ::shutdown(server_.get(), SHUT_RDWR);
        thread_.join();
    }
    Fd take_client() { return std::move(client_); }
    const std::vector<json>& requests() const { return requests_; }

private:
    Fd client_;
    Fd server_;
    std::thread thread_;
    std::vector<json> requests_;
};

std::string ok(const json& request, json value = json::object()) {
    return json{{"return", value}, {"id", request["id"]}}.dump();
}

std::string event(const std::string& name) {
    return json{{"event", name}, {"timestamp", {{"seconds", 1}, {"microseconds", 2}}}}.dump();
}

FakeQmp::Script standard() {
    return [](const json& r) -> std::vector<std::string> {
        std::string cmd = r["execute"];
        if (cmd == "query-status")
            return {ok(r, {{"status", "running"}, {"running", true}, {"singlestep", false}})};
        if (cmd == "system_powerdown")
            return {event("POWERDOWN"), ok(r)};
        if (cmd == "quit")
            return {event("SHUTDOWN"), ok(r)};
        return {ok(r)};
    };
}

TEST(Qmp, HandshakeNegotiatesCapabilitiesAndReadsVersion) {
    FakeQmp peer(standard());
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    EXPECT_EQ(qmp->qemu_version(), "7.2.22");
    auto status = qmp->query_status();
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(*status, "running");
    ASSERT_GE(peer.requests().size(), 1u);
    EXPECT_EQ(peer.requests()[0]["execute"], "qmp_capabilities");
}

TEST(Qmp, EventsAreSkippedAndRecorded) {
    FakeQmp peer(standard());
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    ASSERT_TRUE(qmp->system_powerdown());
    EXPECT_TRUE(qmp->saw_event("POWERDOWN"));
    EXPECT_FALSE(qmp->saw_event("SHUTDOWN"));
    ASSERT_TRUE(qmp->quit());
    EXPECT_THAT(qmp->events(), ElementsAre("POWERDOWN", "SHUTDOWN"));
}

TEST(Qmp, StaleRepliesWithAnotherIdAreIgnored) {
    FakeQmp peer([](const json& r) -> std::vector<std::string> {
        if (r["execute"] == "query-status")
            return {json{{"return", {{"status", "stale"}}}, {"id", 999}}.dump(),
                    ok(r, {{"status", "paused"}})};
        return {ok(r)};
    });
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    auto status = qmp->query_status();
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_EQ(*status, "paused");
}

TEST(Qmp, ArgumentsAreSentWhenGiven) {
    FakeQmp peer(standard());
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    ASSERT_TRUE(qmp->execute("human-monitor-command", {{"command-line", "info version"}}));
    ASSERT_TRUE(qmp->execute("stop"));
    const auto& reqs = peer.requests();
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(reqs[1]["arguments"]["command-line"], "info version");
    EXPECT_FALSE(reqs[2].contains("arguments"));
    EXPECT_NE(reqs[1]["id"], reqs[2]["id"]);
}

TEST(Qmp, ErrorRepliesCarryClassAndDescription) {
    FakeQmp peer([](const json& r) -> std::vector<std::string> {
        if (r["execute"] == "bogus")
            return {json{
                {"error",
                 {{"class", "CommandNotFound"}, {"desc", "The command bogus has not been found"}}},
                {"id", r["id"]}}
                        .dump()};
        return {ok(r)};
    });
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    auto r = qmp->execute("bogus");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::ExternalCommand);
    EXPECT_THAT(r.error().message(), HasSubstr("QMP bogus"));
    EXPECT_THAT(r.error().message(),
                HasSubstr("CommandNotFound: The command bogus has not been found"));
}

TEST(Qmp, NoGreetingIsCorrupt) {
    FakeQmp peer(standard(), R"({"hello": 1})");
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_FALSE(qmp);
    EXPECT_EQ(qmp.error().kind, ErrorKind::Corrupt);
}

TEST(Qmp, GarbageReplyIsCorrupt) {
    FakeQmp peer([](const json& r) -> std::vector<std::string> {
        if (r["execute"] == "query-status")
            return {"this is not json"};
        return {ok(r)};
    });
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    auto st = qmp->query_status();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::Corrupt);
}

TEST(Qmp, ClosedConnectionIsAnErrorExceptForQuit) {
    FakeQmp peer([](const json& r) -> std::vector<std::string> {
        if (r["execute"] == "qmp_capabilities")
            return {ok(r)};
        return {}; // close without replying
    });
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    EXPECT_TRUE(qmp->quit()); // QEMU may exit before answering quit
    auto st = qmp->query_status();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::Io);
    EXPECT_THAT(st.error().message(), HasSubstr("closed"));
}

TEST(Qmp, SilentPeerTimesOut) {
    FakeQmp peer([](const json& r) -> std::vector<std::string> {
        if (r["execute"] == "qmp_capabilities")
            return {ok(r)};
        return {event("RTC_CHANGE")}; // never the reply
    });
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    auto st = qmp->execute("query-status", nullptr, 200ms);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::Timeout);
    EXPECT_TRUE(qmp->saw_event("RTC_CHANGE"));
}

TEST(Qmp, PollEventsRecordsAnAsyncEvent) {
    FakeQmp peer([](const json& r) -> std::vector<std::string> {
        if (r["execute"] == "cont")
            return {ok(r), event("RESUME")};
        return {ok(r)};
    });
    auto qmp = Qmp::handshake(peer.take_client(), 5s);
    ASSERT_TRUE(qmp) << qmp.error().message();
    ASSERT_TRUE(qmp->execute("cont"));
    ASSERT_TRUE(qmp->poll_events(5s));
    EXPECT_TRUE(qmp->saw_event("RESUME"));
    // Nothing more pending: a short poll returns without error.
    EXPECT_TRUE(qmp->poll_events(50ms));
}

TEST(Qmp, ConnectToMissingSocketFailsAfterTimeout) {
    auto qmp = Qmp::connect("/nonexistent-dir-fbx/qmp.sock", 100ms);
    ASSERT_FALSE(qmp);
    EXPECT_THAT(qmp.error().message(), HasSubstr("qmp.sock"));
}

} // namespace
} // namespace fleetbox

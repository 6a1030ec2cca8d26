// What the wrapper's calls put on the wire, as the collector received it.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "odp.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using support::Collector;
using support::Json;

namespace {

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

// A configuration that sends straight to `collector`, no datafile involved.
std::string direct_config(const Collector& collector, const std::string& key = "test-public-key",
                          const std::string& extra = "") {
  return R"({"odp_api_key":)" + odp::json::quote(key) + R"(,"odp_api_host":)" +
         odp::json::quote(collector.url()) + extra + "}";
}

// The single event of the single request the collector received.
Json only_event_on_wire(const support::Received& r) {
  EXPECT_EQ(r.requests.size(), 1u);
  if (r.requests.empty()) return Json{};
  const Json body = support::parse_json(r.requests[0].body);
  EXPECT_EQ(body.type, Json::Type::array);
  EXPECT_EQ(body.size(), 1u);
  return body.size() == 1 ? body[0] : Json{};
}

class Wire : public ::testing::Test {
 protected:
  Collector collector;
};

TEST_F(Wire, SeedEventArrivesWithOdpHeadersAndCommonData) {
  odp::Client client(odp::Object{{"sdk_key", "AbC123"},
                                 {"datafile_url_template", collector.datafile_url_template()}});
  client.wait_ready(5s);
  client.send_event("purchased", {{"fs_user_id", "user123"}, {"email", "user123@example.com"}},
                    {{"item", "shirt"}, {"price", 50.0}}, "fullstack");
  client.flush(10s);

  const support::Received r = collector.received();
  ASSERT_EQ(r.requests.size(), 1u);
  const support::WireRequest& q = r.requests[0];
  EXPECT_EQ(q.method, "POST");
  EXPECT_EQ(q.path, "/v3/events");
  EXPECT_EQ(q.header_all("content-type"), std::vector<std::string>{"application/json"});
  EXPECT_EQ(q.header("x-api-key"), "test-public-key");  // the datafile's publicKey
  EXPECT_EQ(q.header("accept"), "application/json");
  EXPECT_EQ(q.header("user-agent"), "libodp/" + std::string(odp::version()));

  // The raw body: compact, fields in order, keys sorted, the double kept a double.
  EXPECT_EQ(q.body.rfind(R"([{"type":"fullstack","action":"purchased",)"
                         R"("identifiers":{"email":"user123@example.com","fs_user_id":"user123"},)"
                         R"("data":{"data_source":"libodp",)",
                         0),
            0u)
      << q.body;
  EXPECT_NE(q.body.find(R"("item":"shirt","price":50.0})"), std::string::npos) << q.body;

  const Json event = only_event_on_wire(r);
  EXPECT_EQ(event.keys(), (std::vector<std::string>{"type", "action", "identifiers", "data"}));
  const Json& data = event["data"];
  EXPECT_EQ(data["data_source_type"].str(), "sdk");
  EXPECT_EQ(data["data_source"].str(), "libodp");
  EXPECT_EQ(data["data_source_version"].str(), std::string(odp::version()));
  EXPECT_TRUE(std::regex_match(data["idempotence_id"].str(), kUuidV4)) << data["idempotence_id"].str();
  EXPECT_EQ(r.event_count, 1u);
  EXPECT_EQ(r.duplicates, 0u);

  const odp::Stats s = client.stats();
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.batches_sent, 1u);
}

TEST_F(Wire, EmptyTypeLetsTheLibrarySendFullstack) {
  odp::Client client(direct_config(collector));
  client.send_event("viewed", {{"fs_user_id", "u1"}});
  client.flush(10s);
  const Json event = only_event_on_wire(collector.received());
  EXPECT_EQ(event["type"].str(), "fullstack");
  EXPECT_EQ(event["action"].str(), "viewed");
  // No user data: only the four common keys.
  EXPECT_EQ(event["data"].keys(), (std::vector<std::string>{"data_source", "data_source_type",
                                                            "data_source_version", "idempotence_id"}));
}

TEST_F(Wire, RawJsonOverloadPassesTheTextToTheLibrary) {
  odp::Client client(direct_config(collector));
  // The library renames FS-USER-ID: proof that the text reached it unchanged.
  client.send_event_json("signed_up", R"({"FS-USER-ID":"u9","email":"u9@example.com"})",
                         R"({"plan":"pro","seats":3,"trial":false,"coupon":null})", "account");
  client.send_event_json("opened", R"({"fs_user_id":"u9"})");  // no data: NULL in the C API
  client.flush(10s);

  const support::Received r = collector.wait_for_events(2);
  ASSERT_EQ(r.events.size(), 2u);
  const Json& first = r.events[0];
  EXPECT_EQ(first["type"].str(), "account");
  EXPECT_EQ(first["action"].str(), "signed_up");
  EXPECT_EQ(first["identifiers"].keys(), (std::vector<std::string>{"email", "fs_user_id"}));
  EXPECT_EQ(first["identifiers"]["fs_user_id"].str(), "u9");
  EXPECT_EQ(first["data"]["plan"].str(), "pro");
  EXPECT_EQ(first["data"]["seats"].text, "3");
  EXPECT_EQ(first["data"]["trial"].type, Json::Type::boolean);
  EXPECT_FALSE(first["data"]["trial"].boolean);
  EXPECT_EQ(first["data"]["coupon"].type, Json::Type::null);
  const Json& second = r.events[1];
  EXPECT_EQ(second["type"].str(), "fullstack");
  EXPECT_EQ(second["data"].size(), 4u);
}

TEST_F(Wire, EveryValueKindArrivesAsItsJsonType) {
  odp::Client client(direct_config(collector));
  const std::int64_t two53 = std::int64_t(1) << 53;
  client.send_event("typed", {{"fs_user_id", "u1"}},
                    {{"null", nullptr},
                     {"yes", true},
                     {"no", false},
                     {"int", -42},
                     {"max", two53},
                     {"min", -two53},
                     {"unsigned", 7u},
                     {"tenth", 0.1},
                     {"whole", 3.0},
                     {"small", 1.5e-7},
                     {"large", 1e15},
                     {"text", "words"},
                     {"view", std::string_view("view")}});
  client.flush(10s);
  const Json event = only_event_on_wire(collector.received());
  const Json& d = event["data"];
  EXPECT_EQ(d["null"].type, Json::Type::null);
  EXPECT_TRUE(d["yes"].boolean);
  EXPECT_EQ(d["no"].type, Json::Type::boolean);
  EXPECT_FALSE(d["no"].boolean);
  EXPECT_EQ(d["int"].text, "-42");
  EXPECT_EQ(d["max"].text, "9007199254740992");
  EXPECT_EQ(d["min"].text, "-9007199254740992");
  EXPECT_EQ(d["unsigned"].text, "7");
  EXPECT_EQ(std::stod(d["tenth"].text), 0.1);
  EXPECT_EQ(d["whole"].text, "3.0");  // still a floating-point number on the wire
  EXPECT_EQ(std::stod(d["small"].text), 1.5e-7);
  EXPECT_EQ(std::stod(d["large"].text), 1e15);
  EXPECT_EQ(d["text"].str(), "words");
  EXPECT_EQ(d["view"].str(), "view");
}

TEST_F(Wire, EscapedStringsRoundTripExactly) {
  odp::Client client(direct_config(collector));
  const std::string tricky[] = {
      "say \"hi\"",
      "back\\slash \\\" \\u0041",
      std::string("nul\0inside", 10),
      "\x01\x02\x1f control",
      "line\nbreak\r\ttab\b\f",
      "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80",  // café 日本 😀
      "</script> & <b>",
      "del\x7f",
      "/slash/",
  };
  odp::Identifiers ids{{"fs_user_id", "u1"}};
  odp::Data data;
  for (std::size_t i = 0; i < std::size(tricky); ++i) {
    ids["id" + std::to_string(i)] = tricky[i];
    data["v" + std::to_string(i)] = tricky[i];
    data[tricky[i]] = static_cast<int>(i);  // as keys too
  }
  // Action and type travel as C strings: everything but NUL.
  const std::string action = "act \"q\" \\ \t \xC3\xA9";
  const std::string type = "type/\xF0\x9F\x98\x80";
  client.send_event(action, ids, data, type);
  client.flush(10s);

  const Json event = only_event_on_wire(collector.received());
  EXPECT_EQ(event["action"].str(), action);
  EXPECT_EQ(event["type"].str(), type);
  for (std::size_t i = 0; i < std::size(tricky); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(event["identifiers"]["id" + std::to_string(i)].str(), tricky[i]);
    EXPECT_EQ(event["data"]["v" + std::to_string(i)].str(), tricky[i]);
    ASSERT_TRUE(event["data"].has(tricky[i]));
    EXPECT_EQ(event["data"][tricky[i]].text, std::to_string(i));
  }
}

TEST_F(Wire, ConcurrentSendsOnOneClientAllArriveOnce) {
  odp::Client client(direct_config(collector));
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&client, t] {
      for (int i = 0; i < kEach; ++i)
        client.send_event("tick", {{"fs_user_id", "t" + std::to_string(t)}}, {{"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  client.flush(10s);

  const support::Received r = collector.wait_for_events(kThreads * kEach);
  EXPECT_EQ(r.event_count, std::size_t(kThreads * kEach));
  EXPECT_EQ(r.duplicates, 0u);
  std::set<std::string> seen;
  for (const Json& e : r.events.items)
    seen.insert(e["identifiers"]["fs_user_id"].str() + "/" + e["data"]["i"].text);
  EXPECT_EQ(seen.size(), std::size_t(kThreads * kEach));
  const odp::Stats s = client.stats();
  EXPECT_EQ(s.accepted, std::uint64_t(kThreads * kEach));
  EXPECT_EQ(s.delivered, std::uint64_t(kThreads * kEach));
}

TEST(WireApiKey, CollectorRequiringAKeySeesItAndRefusesAWrongOne) {
  Collector collector({"--api-key", "secret-key"});
  odp::Client good(direct_config(collector, "secret-key"));
  good.send_event("ok", {{"fs_user_id", "u1"}});
  good.flush(10s);
  EXPECT_EQ(good.stats().delivered, 1u);

  odp::Client bad(direct_config(collector, "wrong-key"));
  bad.send_event("refused", {{"fs_user_id", "u2"}});
  bad.flush(10s);  // a 400 is final: the batch is dropped, the flush is done
  const odp::Stats s = bad.stats();
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.dropped_rejected, 1u);

  const support::Received r = collector.received();
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].header("x-api-key"), "secret-key");
  EXPECT_EQ(r.requests[1].header("x-api-key"), "wrong-key");
  EXPECT_EQ(r.event_count, 1u);
  EXPECT_EQ(r.events[0]["action"].str(), "ok");
}

TEST(WireRetry, ARetriedBatchKeepsItsIdempotenceId) {
  Collector collector({"--fail-first", "1", "--fail-status", "503"});
  odp::Client client(direct_config(collector));
  client.send_event("retried", {{"fs_user_id", "u1"}});
  client.flush(10s);

  const support::Received r = collector.received();
  ASSERT_EQ(r.requests.size(), 2u);
  const Json first = support::parse_json(r.requests[0].body);
  const Json second = support::parse_json(r.requests[1].body);
  EXPECT_EQ(first[0]["data"]["idempotence_id"].str(), second[0]["data"]["idempotence_id"].str());
  EXPECT_EQ(r.event_count, 1u);
  EXPECT_EQ(r.duplicates, 0u);
  const odp::Stats s = client.stats();
  EXPECT_EQ(s.failed_attempts, 1u);
  EXPECT_EQ(s.delivered, 1u);
}

TEST(WireDatafile, UpdateDatafileSendsNewEventsToTheNewDestination) {
  Collector a;
  Collector b({"--api-key", "key-b"});
  odp::Client client(odp::Object{{"datafile", support::datafile("1", "key-a", a.url())}});
  client.send_event("before", {{"fs_user_id", "u1"}});
  client.update_datafile(support::datafile("2", "key-b", b.url()));
  client.send_event("after", {{"fs_user_id", "u1"}});
  client.flush(10s);

  const support::Received ra = a.received();
  const support::Received rb = b.received();
  ASSERT_EQ(ra.event_count, 1u);
  ASSERT_EQ(rb.event_count, 1u);
  EXPECT_EQ(ra.events[0]["action"].str(), "before");
  EXPECT_EQ(ra.requests[0].header("x-api-key"), "key-a");
  EXPECT_EQ(rb.events[0]["action"].str(), "after");
  EXPECT_EQ(rb.requests[0].header("x-api-key"), "key-b");
}

}  // namespace

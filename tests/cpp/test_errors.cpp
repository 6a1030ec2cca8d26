// Every failure of the C API, as odp::Error (code, name, detail, what()) and as std::error_code.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "odp.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using support::Collector;

namespace {

// Runs `f`, which must throw odp::Error, and returns the error.
odp::Error thrown_by(const std::function<void()>& f) {
  try {
    f();
  } catch (const odp::Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw something else: " << e.what();
    return odp::Error(ODP_OK, "");
  }
  ADD_FAILURE() << "did not throw";
  return odp::Error(ODP_OK, "");
}

// What a detail must be: the whole text where the contract fixes it (the SDKs' messages, the
// wrapper's own), or a fragment (the key, the value, the position) where only that is promised.
struct Detail {
  std::string text;
  bool exact;
};
Detail exactly(std::string text) { return {std::move(text), true}; }
Detail containing(std::string text) { return {std::move(text), false}; }

void expect_detail(const std::string& actual, const Detail& expected) {
  if (expected.exact)
    EXPECT_EQ(actual, expected.text);
  else
    EXPECT_NE(actual.find(expected.text), std::string::npos) << "detail: " << actual;
}

// Checks that `e` is the failure `code` with the expected detail, and what() = "NAME: detail".
void expect_error(const odp::Error& e, odp::Errc code, const Detail& detail) {
  EXPECT_EQ(e.errc(), code);
  EXPECT_EQ(e.value(), static_cast<int>(code));
  EXPECT_EQ(e.code(), code);
  EXPECT_STREQ(e.name(), odp_result_name(static_cast<int>(code)));
  expect_detail(e.detail(), detail);
  EXPECT_EQ(std::string(e.what()), std::string(e.name()) + ": " + e.detail());
}

// Checks that the std::error_code form reported `code`, and last_error_message() the detail.
void expect_ec(const std::error_code& ec, odp::Errc code, const Detail& detail) {
  EXPECT_EQ(ec, code);
  EXPECT_EQ(&ec.category(), &odp::error_category());
  expect_detail(odp::last_error_message(), detail);
}

std::string direct_config(const std::string& host, const std::string& extra = "") {
  return R"({"odp_api_key":"test-public-key","odp_api_host":)" + odp::json::quote(host) + extra +
         "}";
}

const odp::Identifiers kUser{{"fs_user_id", "u1"}};

// --- configuration -----------------------------------------------------------------------------

TEST(ConfigErrors, InvalidJson) {
  const auto e = thrown_by([] { odp::Client c("{\"sdk_key\":"); });
  const Detail detail = containing("configuration is not valid JSON: EOF while parsing a value at line 1 column 11");
  expect_error(e, odp::Errc::invalid_json, detail);
  std::error_code ec;
  odp::Client c = odp::Client::create("{\"sdk_key\":", ec);
  EXPECT_FALSE(c);
  expect_ec(ec, odp::Errc::invalid_json, detail);
}

TEST(ConfigErrors, UnknownKeyIsNamed) {
  const auto e = thrown_by([] { odp::Client c(odp::Object{{"sdk_keyy", "AbC123"}}); });
  expect_error(e, odp::Errc::invalid_config, containing(R"("sdk_keyy")"));
  std::error_code ec;
  odp::Client c = odp::Client::create(odp::Object{{"sdk_keyy", "AbC123"}}, ec);
  EXPECT_FALSE(c);
  expect_ec(ec, odp::Errc::invalid_config, exactly(e.detail()));
}

TEST(ConfigErrors, WrongTypeAndConflictingSources) {
  auto e = thrown_by([] { odp::Client c(R"({"sdk_key":"a","datafile":"{}"})"); });
  EXPECT_EQ(e.errc(), odp::Errc::invalid_config);
  EXPECT_NE(e.detail().find("sdk_key"), std::string::npos) << e.detail();
  e = thrown_by([] { odp::Client c(odp::Object{{"sdk_key", "a"}, {"batch_size", "ten"}}); });
  EXPECT_EQ(e.errc(), odp::Errc::invalid_config);
  EXPECT_NE(e.detail().find("batch_size"), std::string::npos) << e.detail();
}

TEST(ConfigErrors, InvalidStaticDatafile) {
  const auto e = thrown_by([] { odp::Client c(odp::Object{{"datafile", R"({"version":"3"})"}}); });
  EXPECT_EQ(e.errc(), odp::Errc::invalid_datafile);
  EXPECT_NE(e.detail().find("version"), std::string::npos) << e.detail();
}

TEST(ConfigErrors, NulByteIsRefusedBeforeTheLibrary) {
  const std::string_view config("{}\0{\"sdk_key\":\"a\"}", 18);
  const Detail detail = exactly("the configuration contains a NUL byte, which a C string cannot carry");
  expect_error(thrown_by([&] { odp::Client c(config); }), odp::Errc::invalid_argument, detail);
  std::error_code ec;
  odp::Client c = odp::Client::create(config, ec);
  EXPECT_FALSE(c);
  expect_ec(ec, odp::Errc::invalid_argument, detail);
}

TEST(ConfigErrors, SuccessfulCreateClearsTheErrorCode) {
  std::error_code ec = odp::Errc::closed;
  odp::Client c = odp::Client::create(direct_config("http://127.0.0.1:9"), ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(c);
  EXPECT_EQ(odp::last_error_message(), "");
}

// --- events ------------------------------------------------------------------------------------

class SendErrors : public ::testing::Test {
 protected:
  Collector collector;
  odp::Client client{direct_config(collector.url())};

  // Both forms of a send refused by the library (or the wrapper) with `code` and `detail`; the
  // two forms report the very same detail.
  void expect_refused(const std::function<void(std::error_code*)>& send, odp::Errc code,
                      const Detail& detail) {
    const odp::Error e = thrown_by([&] { send(nullptr); });
    expect_error(e, code, detail);
    std::error_code ec;
    send(&ec);
    expect_ec(ec, code, exactly(e.detail()));
  }

  void TearDown() override {
    // Nothing refused reached the wire.
    client.flush(10s);
    const support::Received r = collector.received();
    EXPECT_EQ(r.requests.size(), 0u);
    EXPECT_EQ(client.stats().accepted, 0u);
  }
};

TEST_F(SendErrors, EmptyAction) {
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event("", kUser, {}, *ec);
        else client.send_event("", kUser);
      },
      odp::Errc::invalid_action, exactly("ODP action is not valid (cannot be empty)"));
  EXPECT_EQ(client.stats().rejected_invalid, 2u);
}

TEST_F(SendErrors, EmptyIdentifiers) {
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event("a", {}, {}, *ec);
        else client.send_event("a", {});
      },
      odp::Errc::invalid_identifiers, exactly("ODP events must have at least one key-value pair in identifiers"));
}

TEST_F(SendErrors, NonStringIdentifier) {
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event_json("a", R"({"fs_user_id":1})", "", *ec);
        else client.send_event_json("a", R"({"fs_user_id":1})");
      },
      odp::Errc::invalid_identifiers, containing(R"("fs_user_id")"));
}

TEST_F(SendErrors, NumberBeyond2To53) {
  const odp::Data data{{"n", (std::int64_t(1) << 53) + 1}};
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event("a", kUser, data, *ec);
        else client.send_event("a", kUser, data);
      },
      odp::Errc::invalid_data, containing("ODP data is not valid"));
  EXPECT_NE(odp::last_error_message().find("9007199254740993"), std::string::npos);
}

TEST_F(SendErrors, UnsignedBeyondInt64StaysExact) {
  const odp::Data data{{"n", UINT64_MAX}};
  const auto e = thrown_by([&] { client.send_event("a", kUser, data); });
  EXPECT_EQ(e.errc(), odp::Errc::invalid_data);
  EXPECT_NE(e.detail().find("(18446744073709551615)"), std::string::npos) << e.detail();
}

TEST_F(SendErrors, NestedDataAsRawJson) {
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event_json("a", R"({"fs_user_id":"u"})", R"({"x":{"y":1}})", *ec);
        else client.send_event_json("a", R"({"fs_user_id":"u"})", R"({"x":{"y":1}})");
      },
      odp::Errc::invalid_data, containing(R"(ODP data is not valid: the value of "x")"));
}

TEST_F(SendErrors, NonFiniteNumberHasNoJsonForm) {
  const auto e = thrown_by([&] { client.send_event("a", kUser, {{"n", std::nan("")}}); });
  EXPECT_EQ(e.errc(), odp::Errc::invalid_json);
  EXPECT_NE(e.detail().find("data is not valid JSON"), std::string::npos) << e.detail();
  std::error_code ec;
  client.send_event("a", kUser, {{"n", -HUGE_VAL}}, ec);
  EXPECT_EQ(ec, odp::Errc::invalid_json);
}

TEST_F(SendErrors, MalformedRawJson) {
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event_json("a", R"({"fs_user_id":)", "", *ec);
        else client.send_event_json("a", R"({"fs_user_id":)");
      },
      odp::Errc::invalid_json, containing("line 1 column 14"));
}

TEST_F(SendErrors, InvalidUtf8) {
  const odp::Identifiers ids{{"fs_user_id", "u\xff"}};
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event("a", ids, {}, *ec);
        else client.send_event("a", ids);
      },
      odp::Errc::invalid_utf8, containing("offset 16"));
}

TEST_F(SendErrors, NulByteInActionOrTypeIsRefusedBeforeTheLibrary) {
  const std::string_view action("pur\0chased", 10);
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event(action, kUser, {}, *ec);
        else client.send_event(action, kUser);
      },
      odp::Errc::invalid_argument, exactly("the action contains a NUL byte, which a C string cannot carry"));
  expect_refused(
      [&](std::error_code* ec) {
        if (ec) client.send_event("a", kUser, {}, std::string_view("t\0", 2), *ec);
        else client.send_event("a", kUser, {}, std::string_view("t\0", 2));
      },
      odp::Errc::invalid_argument, exactly("the event type contains a NUL byte, which a C string cannot carry"));
  // The library never saw these calls.
  EXPECT_EQ(client.stats().rejected_invalid, 0u);
}

TEST_F(SendErrors, LibraryErrorAfterAWrapperErrorIsTheLibrarys) {
  std::error_code ec;
  client.send_event(std::string_view("a\0", 2), kUser, {}, ec);
  EXPECT_EQ(ec, odp::Errc::invalid_argument);
  client.send_event("", kUser, {}, ec);
  expect_ec(ec, odp::Errc::invalid_action, exactly("ODP action is not valid (cannot be empty)"));
}

// --- client states -----------------------------------------------------------------------------

TEST(StateErrors, OdpDisabled) {
  odp::Client client(direct_config("http://127.0.0.1:9", R"(,"odp_disabled":true)"));
  expect_error(thrown_by([&] { client.send_event("a", kUser); }), odp::Errc::odp_not_enabled,
               exactly("ODP is not enabled"));
  std::error_code ec;
  client.send_event("a", kUser, {}, ec);
  expect_ec(ec, odp::Errc::odp_not_enabled, exactly("ODP is not enabled"));
}

TEST(StateErrors, OdpNotIntegrated) {
  odp::Client client(odp::Object{{"datafile", R"({"version":"4","revision":"1","integrations":[]})"}});
  expect_error(thrown_by([&] { client.send_event("a", kUser); }), odp::Errc::odp_not_integrated,
               exactly("ODP is not integrated"));
}

TEST(StateErrors, SdkNotReadyThenWaitReadyTimesOut) {
  Collector collector;
  // The collector serves only AbC123: this key's fetch gets 403, and polling goes on.
  odp::Client client(odp::Object{{"sdk_key", "Unknown1"},
                                 {"datafile_url_template", collector.datafile_url_template()}});
  const auto e = thrown_by([&] { client.send_event("a", kUser); });
  EXPECT_EQ(e.errc(), odp::Errc::sdk_not_ready);
  EXPECT_EQ(e.detail().rfind("Optimizely SDK not configured properly yet.", 0), 0u) << e.detail();

  const auto t = thrown_by([&] { client.wait_ready(300ms); });
  EXPECT_EQ(t.errc(), odp::Errc::timeout);
  EXPECT_EQ(t.code(), std::errc::timed_out);
  EXPECT_NE(t.detail().find("403"), std::string::npos) << t.detail();
  std::error_code ec;
  client.wait_ready(10ms, ec);
  EXPECT_EQ(ec, odp::Errc::timeout);
  EXPECT_EQ(ec, std::errc::timed_out);
}

TEST(StateErrors, WaitReadyWhenFetchingStopped) {
  Collector collector;
  odp::Client client(odp::Object{{"sdk_key", "Unknown1"},
                                 {"datafile_polling_interval_ms", 0},
                                 {"datafile_url_template", collector.datafile_url_template()}});
  const auto e = thrown_by([&] { client.wait_ready(10s); });
  EXPECT_EQ(e.errc(), odp::Errc::sdk_not_ready);
  EXPECT_NE(e.detail().find("403"), std::string::npos) << e.detail();
}

TEST(StateErrors, QueueFull) {
  odp::Client client(direct_config(
      "http://127.0.0.1:9",
      R"(,"queue_capacity":1,"flush_interval_ms":60000,"shutdown_timeout_ms":10)"));
  client.send_event("first", kUser);
  expect_error(thrown_by([&] { client.send_event("second", kUser); }), odp::Errc::queue_full,
               exactly("ODP EventQueue is full"));
  std::error_code ec;
  client.send_event("third", kUser, {}, ec);
  EXPECT_EQ(ec, ODP_ERR_QUEUE_FULL);
  const odp::Stats s = client.stats();
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.rejected_queue_full, 2u);
}

TEST(StateErrors, FlushAndCloseTimeOutAgainstASlowServer) {
  Collector collector({"--delay-ms", "5000"});
  odp::Client client(direct_config(collector.url(), R"(,"shutdown_timeout_ms":10)"));
  client.send_event("slow", kUser);

  const auto f = thrown_by([&] { client.flush(50ms); });
  EXPECT_EQ(f.errc(), odp::Errc::timeout);
  EXPECT_NE(f.detail().find("50 ms"), std::string::npos) << f.detail();
  EXPECT_NE(f.detail().find("pending"), std::string::npos) << f.detail();
  std::error_code ec;
  client.flush(20ms, ec);
  expect_ec(ec, odp::Errc::timeout, containing("20 ms"));

  const auto c = thrown_by([&] { client.close(50ms); });
  EXPECT_EQ(c.errc(), odp::Errc::timeout);
  EXPECT_NE(c.detail().find("dropped"), std::string::npos) << c.detail();
  const odp::Stats s = client.stats();  // still works after close
  EXPECT_EQ(s.dropped_shutdown, 1u);
  EXPECT_EQ(s.pending, 0u);
}

TEST(StateErrors, ClosedClientRefusesWork) {
  odp::Client client(direct_config("http://127.0.0.1:9"));
  client.close(1s);
  client.close(1s);  // closing again is fine
  expect_error(thrown_by([&] { client.send_event("a", kUser); }), odp::Errc::closed, containing("closed"));
  EXPECT_EQ(thrown_by([&] { client.flush(1s); }).errc(), odp::Errc::closed);
  EXPECT_EQ(thrown_by([&] { client.wait_ready(1s); }).errc(), odp::Errc::closed);
  EXPECT_EQ(thrown_by([&] { client.update_datafile(support::datafile("2", "k", "http://127.0.0.1:9")); }).errc(),
            odp::Errc::closed);
  std::error_code ec;
  client.send_event("a", kUser, {}, ec);
  expect_ec(ec, odp::Errc::closed, containing("closed"));
  client.stats(ec);
  EXPECT_FALSE(ec);
}

TEST(StateErrors, InvalidDatafileUpdateKeepsTheCurrentOne) {
  Collector collector;
  odp::Client client(odp::Object{{"datafile", support::datafile("1", "key-a", collector.url())}});
  const auto e = thrown_by([&] { client.update_datafile(R"({"version":"3"})"); });
  EXPECT_EQ(e.errc(), odp::Errc::invalid_datafile);
  EXPECT_NE(e.detail().find("version"), std::string::npos) << e.detail();
  std::error_code ec;
  client.update_datafile("not json", ec);
  EXPECT_EQ(ec, odp::Errc::invalid_datafile);
  client.update_datafile(std::string_view("{\0}", 3), ec);
  expect_ec(ec, odp::Errc::invalid_argument, exactly("the datafile contains a NUL byte, which a C string cannot carry"));

  client.send_event("still", kUser);
  client.flush(10s);
  const support::Received r = collector.received();
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].header("x-api-key"), "key-a");
}

// --- handles -----------------------------------------------------------------------------------

TEST(HandleErrors, EmptyClientIsANullHandle) {
  odp::Client client;
  EXPECT_FALSE(client);
  EXPECT_EQ(client.native_handle(), nullptr);
  expect_error(thrown_by([&] { client.send_event("a", kUser); }), odp::Errc::invalid_argument,
               containing("NULL"));
  EXPECT_EQ(thrown_by([&] { client.flush(1s); }).errc(), odp::Errc::invalid_argument);
  EXPECT_EQ(thrown_by([&] { client.close(1s); }).errc(), odp::Errc::invalid_argument);
  EXPECT_EQ(thrown_by([&] { client.wait_ready(1s); }).errc(), odp::Errc::invalid_argument);
  EXPECT_EQ(thrown_by([&] { client.update_datafile("{}"); }).errc(), odp::Errc::invalid_argument);
  EXPECT_EQ(thrown_by([&] { (void)client.stats(); }).errc(), odp::Errc::invalid_argument);
  std::error_code ec;
  const odp::Stats s = client.stats(ec);
  EXPECT_EQ(ec, std::errc::invalid_argument);
  EXPECT_EQ(s.accepted, 0u);
  client.flush(1s, ec);
  expect_ec(ec, odp::Errc::invalid_argument, containing("NULL"));
}

TEST(HandleErrors, HandleFreedBehindTheWrappersBackIsInvalid) {
  odp::Client client(direct_config("http://127.0.0.1:9"));
  ASSERT_EQ(odp_client_free(client.native_handle()), ODP_OK);
  const auto e = thrown_by([&] { client.send_event("a", kUser); });
  EXPECT_EQ(e.errc(), odp::Errc::invalid_handle);
  std::error_code ec;
  client.close(1s, ec);
  EXPECT_EQ(ec, odp::Errc::invalid_handle);
  // ~Client frees the stale handle again: ODP_ERR_INVALID_HANDLE, ignored, no crash.
}

// --- std::error_code interoperation ------------------------------------------------------------

TEST(ErrorCode, CategoryNamesAndMessagesComeFromTheLibrary) {
  static_assert(std::is_error_code_enum<odp::Errc>::value);
  static_assert(std::is_error_code_enum<OdpResult>::value);
  static_assert(std::is_base_of_v<std::runtime_error, odp::Error>);
  static_assert(std::is_nothrow_copy_constructible_v<odp::Error>);
  for (int code = ODP_OK; code <= ODP_ERR_INTERNAL; ++code) {
    const std::error_code ec(code, odp::error_category());
    EXPECT_EQ(ec.message(), odp_result_message(code));
    EXPECT_STREQ(odp::result_name(code), odp_result_name(code));
    EXPECT_EQ(ec, static_cast<OdpResult>(code));
    EXPECT_EQ(ec, static_cast<odp::Errc>(code));
    EXPECT_EQ(static_cast<bool>(ec), code != ODP_OK);
  }
  const std::error_code full = ODP_ERR_QUEUE_FULL;
  EXPECT_STREQ(full.category().name(), "odp");
  EXPECT_EQ(full.message(), "ODP EventQueue is full");
  EXPECT_EQ(full, odp::Errc::queue_full);
  EXPECT_NE(full, odp::Errc::closed);
  EXPECT_EQ(odp::make_error_code(odp::Errc::timeout), std::errc::timed_out);
  EXPECT_EQ(make_error_code(ODP_ERR_INVALID_ARGUMENT), std::errc::invalid_argument);
  EXPECT_NE(odp::make_error_code(odp::Errc::closed), std::errc::timed_out);
  EXPECT_NE(odp::make_error_code(odp::Errc::invalid_handle), std::errc::invalid_argument);
}

TEST(ErrorCode, ErrorIsARuntimeError) {
  try {
    odp::Client c("[]");
    FAIL() << "did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("ODP_ERR_", 0), 0u) << e.what();
  }
  // An error made without a detail shows the code's fixed text.
  const odp::Error bare(ODP_ERR_CLOSED, "");
  EXPECT_EQ(std::string(bare.what()), std::string("ODP_ERR_CLOSED: ") + odp_result_message(ODP_ERR_CLOSED));
}

TEST(ErrorCode, LastErrorMessageIsPerThreadAndClearedBySuccess) {
  odp::Client client(direct_config("http://127.0.0.1:9", R"(,"shutdown_timeout_ms":10)"));
  std::error_code ec;
  client.send_event("", kUser, {}, ec);
  ASSERT_EQ(ec, odp::Errc::invalid_action);
  std::string other_thread = "unset";
  std::thread([&] { other_thread = odp::last_error_message(); }).join();
  EXPECT_EQ(other_thread, "");
  EXPECT_EQ(odp::last_error_message(), "ODP action is not valid (cannot be empty)");
  client.send_event("ok", kUser, {}, ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(odp::last_error_message(), "");
}

}  // namespace

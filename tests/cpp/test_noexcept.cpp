// odp.hpp compiled with -fno-exceptions: odp::Error and the throwing forms are gone, the
// std::error_code forms work. A plain program (no GoogleTest, which is built with exceptions).
#include <cstdio>
#include <string>
#include <system_error>

#include "odp.hpp"

#if ODP_HPP_EXCEPTIONS
#error "this test must be compiled with -fno-exceptions"
#endif

static int passed = 0, failed = 0;

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (cond) {                                                        \
      ++passed;                                                        \
    } else {                                                           \
      ++failed;                                                        \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
    }                                                                  \
  } while (0)

int main() {
  using namespace std::chrono_literals;
  std::error_code ec;

  odp::Client bad = odp::Client::create(R"({"odp_api_key":"k","odp_api_host":"http://127.0.0.1:9","batch_size":0})", ec);
  CHECK(!bad);
  CHECK(ec == odp::Errc::invalid_config);
  CHECK(odp::last_error_message().find("batch_size") != std::string::npos);

  // Port 9 on loopback: nothing listens, and nothing is sent before close anyway.
  odp::Client client = odp::Client::create(
      odp::Object{{"odp_api_key", "k"},
                  {"odp_api_host", "http://127.0.0.1:9"},
                  {"flush_interval_ms", 60000},
                  {"shutdown_timeout_ms", 10}},
      ec);
  CHECK(client);
  CHECK(!ec);

  client.send_event("", {{"fs_user_id", "u1"}}, {}, ec);
  CHECK(ec == ODP_ERR_INVALID_ACTION);
  CHECK(odp::last_error_message() == "ODP action is not valid (cannot be empty)");

  client.send_event("purchased", {{"fs_user_id", "u1"}}, {{"price", 50.0}}, ec);
  CHECK(!ec);
  client.send_event_json("viewed", R"({"fs_user_id":"u1"})", "", ec);
  CHECK(!ec);
  const odp::Stats before = client.stats(ec);
  CHECK(!ec);
  CHECK(before.accepted == 2);
  CHECK(before.pending == 2);
  CHECK(before.rejected_invalid == 1);

  client.close(0ms, ec);  // nothing can be delivered in no time
  CHECK(ec == std::errc::timed_out);
  const odp::Stats after = client.stats(ec);
  CHECK(!ec);
  CHECK(after.dropped_shutdown == 2);

  client.send_event("late", {{"fs_user_id", "u1"}}, {}, ec);
  CHECK(ec == odp::Errc::closed);

  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

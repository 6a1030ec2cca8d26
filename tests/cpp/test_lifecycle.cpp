// RAII and move semantics: who owns the handle, and that destruction drains.
#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

#include "odp.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using support::Collector;

namespace {

static_assert(!std::is_copy_constructible_v<odp::Client>);
static_assert(!std::is_copy_assignable_v<odp::Client>);
static_assert(std::is_nothrow_move_constructible_v<odp::Client>);
static_assert(std::is_nothrow_move_assignable_v<odp::Client>);
static_assert(std::is_nothrow_destructible_v<odp::Client>);
static_assert(std::is_nothrow_default_constructible_v<odp::Client>);

const odp::Identifiers kUser{{"fs_user_id", "u1"}};

class Lifecycle : public ::testing::Test {
 protected:
  Collector collector;

  // Holds events until close: nothing is sent before the client goes away.
  std::string holding_config() const {
    return R"({"odp_api_key":"test-public-key","odp_api_host":)" + odp::json::quote(collector.url()) +
           R"(,"flush_interval_ms":60000,"batch_size":100})";
  }
};

TEST_F(Lifecycle, DestructorDeliversWhatWasQueued) {
  {
    odp::Client client(holding_config());
    client.send_event("one", kUser);
    client.send_event("two", kUser);
    client.send_event("three", kUser);
    EXPECT_EQ(client.stats().pending, 3u);
    EXPECT_EQ(collector.received().requests.size(), 0u);  // still held
  }
  // ~Client returned: it closed, draining within shutdown_timeout_ms, before freeing.
  const support::Received r = collector.received();
  ASSERT_EQ(r.event_count, 3u);
  EXPECT_EQ(r.events[0]["action"].str(), "one");
  EXPECT_EQ(r.events[1]["action"].str(), "two");
  EXPECT_EQ(r.events[2]["action"].str(), "three");
}

TEST_F(Lifecycle, MoveConstructionTransfersTheHandle) {
  odp::Client a(holding_config());
  OdpClient* const handle = a.native_handle();
  ASSERT_NE(handle, nullptr);
  odp::Client b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from Client is empty by contract
  EXPECT_EQ(a.native_handle(), nullptr);
  EXPECT_TRUE(b);
  EXPECT_EQ(b.native_handle(), handle);
  std::error_code ec;
  a.send_event("lost", kUser, {}, ec);
  EXPECT_EQ(ec, odp::Errc::invalid_argument);
  b.send_event("kept", kUser);
  b.flush(10s);
  const support::Received r = collector.received();
  ASSERT_EQ(r.event_count, 1u);
  EXPECT_EQ(r.events[0]["action"].str(), "kept");
}

TEST_F(Lifecycle, MoveAssignmentFreesTheReplacedClientFirst) {
  odp::Client target(holding_config());
  target.send_event("old-1", kUser);
  target.send_event("old-2", kUser);
  odp::Client source(holding_config());
  OdpClient* const source_handle = source.native_handle();

  target = std::move(source);
  // The replaced client was closed and freed inside the assignment: its events are in.
  EXPECT_EQ(collector.received().event_count, 2u);
  EXPECT_EQ(target.native_handle(), source_handle);
  EXPECT_FALSE(source);  // NOLINT(bugprone-use-after-move)

  target.send_event("new", kUser);
  target.flush(10s);
  const support::Received r = collector.received();
  ASSERT_EQ(r.event_count, 3u);
  EXPECT_EQ(r.events[2]["action"].str(), "new");
}

TEST_F(Lifecycle, SelfMoveAssignmentKeepsTheClient) {
  odp::Client client(holding_config());
  OdpClient* const handle = client.native_handle();
  odp::Client& alias = client;
  client = std::move(alias);
  EXPECT_EQ(client.native_handle(), handle);
  client.send_event("still-here", kUser);
  client.flush(10s);
  EXPECT_EQ(collector.received().event_count, 1u);
}

TEST_F(Lifecycle, MovedFromAndEmptyClientsDestroyQuietly) {
  odp::Client empty;
  odp::Client a(holding_config());
  a.send_event("e", kUser);
  odp::Client b(std::move(a));
  empty = std::move(b);  // assigning into an empty client frees nothing
  EXPECT_TRUE(empty);
  EXPECT_EQ(collector.received().event_count, 0u);
}

TEST_F(Lifecycle, ExplicitCloseThenDestructor) {
  odp::Client client(holding_config());
  client.send_event("closing", kUser);
  client.close(5s);  // drains: delivered before close returns
  EXPECT_EQ(collector.received().event_count, 1u);
  const odp::Stats s = client.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.pending, 0u);
}

TEST_F(Lifecycle, ClientsMoveIntoContainers) {
  std::vector<odp::Client> clients;
  for (int i = 0; i < 3; ++i) clients.emplace_back(holding_config());  // reallocation moves them
  for (std::size_t i = 0; i < clients.size(); ++i)
    clients[i].send_event("from-" + std::to_string(i), kUser);
  clients.clear();  // each destructor drains its client
  const support::Received r = collector.received();
  EXPECT_EQ(r.event_count, 3u);
}

}  // namespace

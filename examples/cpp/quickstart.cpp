/*
 * quickstart.cpp - the C++ version of examples/c/quickstart.c: create a client by SDK key, wait
 * for the datafile, send one ODP event, and let the destructor close the client (draining the
 * queue within shutdown_timeout_ms) and free it.
 *
 *   quickstart [COLLECTOR_URL]     (default: http://127.0.0.1:8080)
 *
 * The collector (examples/collector.rs) serves the datafile for SDK key "AbC123", whose ODP
 * integration points back at the collector, and receives the event.
 *
 * Build against an installed libodp:
 *   g++ -std=c++17 quickstart.cpp $(pkg-config --cflags --libs odp) -o quickstart
 */
#include <chrono>
#include <iostream>
#include <string>
#include <system_error>

#include "odp.hpp"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const std::string collector = argc > 1 ? argv[1] : "http://127.0.0.1:8080";

  std::cout << "libodp " << odp::version() << " (ABI " << odp::abi_version() << ")\n";
  if (!odp::abi_compatible()) {
    std::cerr << "this program was built for libodp ABI " << ODP_ABI_VERSION << "\n";
    return 1;
  }

  try {
    odp::Client client(odp::Object{
        {"sdk_key", "AbC123"},
        {"datafile_url_template", collector + "/datafiles/{sdk_key}.json"},
    });
    client.wait_ready(5s);
    std::cout << "datafile loaded from " << collector << "\n";

    client.send_event("purchased",
                      {{"fs_user_id", "user123"}, {"email", "user123@example.com"}},
                      {{"item", "shirt"}, {"price", 50.0}}, "fullstack");
    std::cout << "event accepted\n";

    // An invalid event, to show the error path without exceptions: an empty action.
    std::error_code ec;
    client.send_event("", {{"fs_user_id", "user123"}}, {}, ec);
    if (ec) {
      std::cout << "invalid event refused: " << odp::result_name(ec.value()) << ": "
                << odp::last_error_message() << "\n";
    }

    const odp::Stats stats = client.stats();
    std::cout << "accepted=" << stats.accepted << " delivered=" << stats.delivered
              << " pending=" << stats.pending << "\n";
    std::cout << "leaving scope: ~Client closes the client, delivering what is pending\n";
  } catch (const odp::Error& e) {
    std::cerr << "libodp failed: " << e.what() << "\n";
    return 1;
  }
  std::cout << "client closed and freed\n";
  return 0;
}

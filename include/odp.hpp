/*
 * odp.hpp - the C++17 wrapper of libodp: send events to the Optimizely Data Platform (ODP).
 *
 * Header-only, over the C API of odp.h. The library's core holds every rule (validation, event
 * messages, delivery); this header only turns C++ values into the JSON strings the C API takes and
 * turns result codes into exceptions or std::error_code values. Link with -lodp (pkg-config odp,
 * or CMake's find_package(odp) and the target odp::odp).
 *
 *   #include <odp.hpp>
 *
 *   odp::Client client(R"({"sdk_key":"AbC123"})");          // throws odp::Error
 *   client.wait_ready(std::chrono::seconds(5));
 *   client.send_event("purchased",
 *                     {{"fs_user_id", "user123"}, {"email", "user123@example.com"}},
 *                     {{"item", "shirt"}, {"price", 50.0}});
 *   // ~Client closes (draining within shutdown_timeout_ms) and frees the handle.
 *
 * Errors. Every fallible operation comes in two forms:
 * - the plain form throws odp::Error (a std::runtime_error) carrying the OdpResult code, its name
 *   and the library's detailed message for this failure;
 * - the form taking a trailing `std::error_code& ec` never throws an odp::Error: it sets `ec`
 *   (cleared on success); odp::last_error_message() then gives the detail, if called next on the
 *   same thread. These forms allocate only to build the C strings and JSON, so the only exception
 *   they can let through is std::bad_alloc; those that do not allocate are noexcept.
 * Codes compare with odp::Errc or the C enum OdpResult (`ec == odp::Errc::queue_full`,
 * `ec == ODP_ERR_QUEUE_FULL`), and ODP_ERR_TIMEOUT / ODP_ERR_INVALID_ARGUMENT also compare equal
 * to std::errc::timed_out / std::errc::invalid_argument.
 *
 * Built without exceptions (-fno-exceptions), the header leaves out odp::Error and every throwing
 * form; the std::error_code forms remain. Define ODP_HPP_EXCEPTIONS to 0 or 1 to override the
 * detection.
 *
 * Strings: every std::string / std::string_view is UTF-8 (the library checks it). Strings that
 * travel as C strings (action, type, raw JSON, configuration, datafile) cannot contain a NUL byte:
 * such an argument fails with ODP_ERR_INVALID_ARGUMENT before the library is called. Strings inside
 * the maps are JSON-encoded, so any byte, NUL included, gets through.
 *
 * Threads: every member function of odp::Client may be called from any thread, concurrently, on
 * the same object (the C API is thread-safe), except the move operations and the destructor, which
 * must not overlap any other call on that object.
 */
#ifndef ODP_HPP
#define ODP_HPP

#include "odp.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#ifndef ODP_HPP_EXCEPTIONS
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define ODP_HPP_EXCEPTIONS 1
#else
#define ODP_HPP_EXCEPTIONS 0
#endif
#endif

#if ODP_HPP_EXCEPTIONS
#include <stdexcept>
#endif

namespace odp {

// ---------------------------------------------------------------------------------------------
// Result codes and std::error_code support
// ---------------------------------------------------------------------------------------------

/** The result codes of odp.h (OdpResult) as a scoped enum usable with std::error_code. */
enum class Errc : int {
  ok = ODP_OK,
  invalid_argument = ODP_ERR_INVALID_ARGUMENT,
  invalid_utf8 = ODP_ERR_INVALID_UTF8,
  invalid_json = ODP_ERR_INVALID_JSON,
  invalid_handle = ODP_ERR_INVALID_HANDLE,
  invalid_config = ODP_ERR_INVALID_CONFIG,
  invalid_datafile = ODP_ERR_INVALID_DATAFILE,
  sdk_not_ready = ODP_ERR_SDK_NOT_READY,
  odp_not_enabled = ODP_ERR_ODP_NOT_ENABLED,
  odp_not_integrated = ODP_ERR_ODP_NOT_INTEGRATED,
  invalid_action = ODP_ERR_INVALID_ACTION,
  invalid_identifiers = ODP_ERR_INVALID_IDENTIFIERS,
  invalid_data = ODP_ERR_INVALID_DATA,
  queue_full = ODP_ERR_QUEUE_FULL,
  closed = ODP_ERR_CLOSED,
  timeout = ODP_ERR_TIMEOUT,
  internal = ODP_ERR_INTERNAL,
};

/**
 * The std::error_category of libodp result codes, named "odp". message() is the library's fixed
 * text of the code (odp_result_message). ODP_ERR_TIMEOUT is equivalent to std::errc::timed_out and
 * ODP_ERR_INVALID_ARGUMENT to std::errc::invalid_argument.
 */
class ErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "odp"; }

  std::string message(int code) const override { return odp_result_message(code); }

  std::error_condition default_error_condition(int code) const noexcept override {
    switch (code) {
      case ODP_ERR_INVALID_ARGUMENT:
        return std::make_error_condition(std::errc::invalid_argument);
      case ODP_ERR_TIMEOUT:
        return std::make_error_condition(std::errc::timed_out);
      default:
        return std::error_condition(code, *this);
    }
  }
};

/** The one instance of ErrorCategory (std::error_code compares categories by address). */
inline const std::error_category& error_category() noexcept {
  static const ErrorCategory category;
  return category;
}

/** Makes a std::error_code in the odp category; found by ADL, so `std::error_code ec = e;` works. */
inline std::error_code make_error_code(Errc e) noexcept {
  return std::error_code(static_cast<int>(e), error_category());
}

/** The static name of a code, e.g. "ODP_ERR_QUEUE_FULL" (odp_result_name). Thread-safe. */
inline const char* result_name(int code) noexcept { return odp_result_name(code); }

/** The static English text of a code (odp_result_message). Thread-safe. */
inline const char* result_message(int code) noexcept { return odp_result_message(code); }

namespace detail {

// A failure the wrapper found itself (a NUL byte where a C string goes), kept per thread so that
// last_error_message() describes the call that failed last, whichever side refused it.
struct WrapperError {
  bool active = false;
  std::string message;
};

inline WrapperError& wrapper_error() noexcept {
  thread_local WrapperError error;
  return error;
}

// The library's message for the last failure on this thread (odp_last_error_message).
inline std::string library_error_message() {
  char buf[256];
  const std::size_t n = odp_last_error_message(buf, sizeof buf);
  if (n < sizeof buf) return std::string(buf, n);
  std::string message(n + 1, '\0');
  const std::size_t m = odp_last_error_message(&message[0], message.size());
  message.resize(m < n ? m : n);
  return message;
}

}  // namespace detail

/**
 * The detailed message of the last failed call on this thread (which key, which value, which
 * status), or "" when the last call succeeded. Call it right after the failing call: any later
 * libodp call on the thread replaces it. Throws only std::bad_alloc. Thread-safe (per thread).
 */
inline std::string last_error_message() {
  const detail::WrapperError& w = detail::wrapper_error();
  if (w.active) return w.message;
  return detail::library_error_message();
}

#if ODP_HPP_EXCEPTIONS
/**
 * A libodp failure: the result code (code(), errc(), value()), its name (name(), e.g.
 * "ODP_ERR_INVALID_ACTION") and the library's detailed message for this failure (detail(), e.g.
 * "ODP action is not valid (cannot be empty)"). what() is "NAME: detail" (the code's fixed text
 * when the detail is empty). Copying never throws.
 */
class Error : public std::runtime_error {
 public:
  Error(int code, std::string detail)
      : std::runtime_error(std::string(odp_result_name(code)) + ": " +
                           (detail.empty() ? std::string(odp_result_message(code)) : detail)),
        code_(code),
        detail_(std::make_shared<const std::string>(std::move(detail))) {}

  /** The code as a std::error_code in odp::error_category(). */
  std::error_code code() const noexcept { return std::error_code(code_, error_category()); }
  /** The code as the scoped enum. */
  Errc errc() const noexcept { return static_cast<Errc>(code_); }
  /** The code as the C API's int (an OdpResult value). */
  int value() const noexcept { return code_; }
  /** The static name of the code, e.g. "ODP_ERR_CLOSED". */
  const char* name() const noexcept { return odp_result_name(code_); }
  /** The library's detailed message for this failure (may be empty). */
  const std::string& detail() const noexcept { return *detail_; }

 private:
  int code_;
  std::shared_ptr<const std::string> detail_;  // shared: exception copies must not throw
};
#endif

// ---------------------------------------------------------------------------------------------
// Values and their JSON encoding
// ---------------------------------------------------------------------------------------------

/**
 * One value of event data or configuration: null, a boolean, an integer, a floating-point number
 * or a UTF-8 string. It is encoded to JSON as is; the library decides what it accepts (for event
 * data: no number beyond 2^53 in magnitude, no NaN or infinity).
 */
class Value {
 public:
  /** The alternatives; unsigned integers above INT64_MAX keep their own alternative. */
  using Storage =
      std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string>;

  /** JSON null. */
  Value() noexcept : storage_(nullptr) {}
  /** JSON null. */
  Value(std::nullptr_t) noexcept : storage_(nullptr) {}
  /** true or false. */
  Value(bool b) noexcept : storage_(b) {}

  /** A signed integer, held as int64_t. */
  template <class T, std::enable_if_t<std::is_integral_v<T> && std::is_signed_v<T> &&
                                          !std::is_same_v<T, char> && !std::is_same_v<T, bool>,
                                      int> = 0>
  Value(T i) noexcept : storage_(static_cast<std::int64_t>(i)) {}

  /** An unsigned integer, held as int64_t when it fits, else as uint64_t. */
  template <class T, std::enable_if_t<std::is_integral_v<T> && std::is_unsigned_v<T> &&
                                          !std::is_same_v<T, char> && !std::is_same_v<T, bool>,
                                      int> = 0>
  Value(T u) noexcept : storage_(unsigned_storage(static_cast<std::uint64_t>(u))) {}

  /** A floating-point number, held as double; always encoded with a fraction or exponent. */
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Value(T d) noexcept : storage_(static_cast<double>(d)) {}

  /** A string (UTF-8). A null pointer is JSON null. */
  Value(const char* s) : storage_(s ? Storage(std::string(s)) : Storage(nullptr)) {}
  /** A string (UTF-8). */
  Value(std::string s) noexcept : storage_(std::move(s)) {}
  /** A string (UTF-8). */
  Value(std::string_view s) : storage_(std::string(s)) {}

  /** A char is not a number here: write a string ("x") or an integer. */
  Value(char) = delete;

  /** The held alternative, for std::visit / std::get. */
  const Storage& storage() const noexcept { return storage_; }

  bool is_null() const noexcept { return std::holds_alternative<std::nullptr_t>(storage_); }

  friend bool operator==(const Value& a, const Value& b) { return a.storage_ == b.storage_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  static Storage unsigned_storage(std::uint64_t u) noexcept {
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return Storage(static_cast<std::int64_t>(u));
    return Storage(u);
  }

  Storage storage_;
};

/** Identifiers of an event: a JSON object of strings (keys sent in the map's order). */
using Identifiers = std::map<std::string, std::string>;
/** A flat JSON object: event data, or a configuration. */
using Object = std::map<std::string, Value>;
/** Event data. */
using Data = Object;
/** The counters of a client (see OdpStats in odp.h). */
using Stats = OdpStats;

/**
 * JSON encoding of the values above, as the C API takes them. Exposed so that callers can build
 * other JSON (a configuration, a datafile) with the same escaping. Throws only std::bad_alloc.
 */
namespace json {

/** Appends `s` as a JSON string: quotes and backslashes escaped, control characters (U+0000 to
 * U+001F) as \u00XX, every other byte (UTF-8 included) as is. */
inline void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += hex[byte >> 4];
      out += hex[byte & 0x0f];
    } else {
      out += c;
    }
  }
  out += '"';
}

/** `s` as a JSON string literal, quotes included. */
inline std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_string(out, s);
  return out;
}

/** Appends a double in its shortest round-trip form, with ".0" added to whole numbers so that it
 * stays a floating-point number. NaN and infinities have no JSON form: they are written as the
 * bare words NaN, Infinity and -Infinity, which the library refuses as invalid JSON. */
inline void append_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d < 0 ? "-Infinity" : "Infinity";
    return;
  }
  char buf[64];
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto result = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view text(buf, static_cast<std::size_t>(result.ptr - buf));
#else
  const int n = std::snprintf(buf, sizeof buf, "%.17g", d);
  for (int i = 0; i < n; ++i)
    if (buf[i] == ',') buf[i] = '.';  // a locale's decimal comma
  std::string_view text(buf, static_cast<std::size_t>(n));
#endif
  out += text;
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

/** Appends one Value as JSON. */
inline void append_value(std::string& out, const Value& v) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>) {
          char buf[24];
          const auto result = std::to_chars(buf, buf + sizeof buf, x);
          out.append(buf, static_cast<std::size_t>(result.ptr - buf));
        } else if constexpr (std::is_same_v<T, double>) {
          append_double(out, x);
        } else {
          append_string(out, x);
        }
      },
      v.storage());
}

/** A JSON object of strings, e.g. identifiers: {"email":"a@b.com","fs_user_id":"u1"}. */
inline std::string encode(const Identifiers& object) {
  std::string out = "{";
  for (const auto& [key, value] : object) {
    if (out.size() > 1) out += ',';
    append_string(out, key);
    out += ':';
    append_string(out, value);
  }
  out += '}';
  return out;
}

/** A flat JSON object of Values, e.g. event data: {"item":"shirt","price":50.0}. */
inline std::string encode(const Object& object) {
  std::string out = "{";
  for (const auto& [key, value] : object) {
    if (out.size() > 1) out += ',';
    append_string(out, key);
    out += ':';
    append_value(out, value);
  }
  out += '}';
  return out;
}

}  // namespace json

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/** The version of the loaded library, e.g. "0.1.0" (odp_version). */
inline std::string_view version() noexcept { return odp_version(); }

/** The version of the header this program was compiled with (ODP_VERSION). */
inline constexpr std::string_view header_version() noexcept { return ODP_VERSION; }

/** The ABI number of the loaded library (odp_abi_version). */
inline std::uint32_t abi_version() noexcept { return odp_abi_version(); }

/** Whether the loaded library has the ABI this header was written for (ODP_ABI_VERSION). */
inline bool abi_compatible() noexcept { return odp_abi_version() == ODP_ABI_VERSION; }

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

namespace detail {

inline void set_error_code(std::error_code& ec, int rc) noexcept {
  if (rc == ODP_OK)
    ec.clear();
  else
    ec = std::error_code(rc, error_category());
}

// Forgets a failure the wrapper recorded, before a call the library will answer.
inline void library_call() noexcept { wrapper_error().active = false; }

// A string that travels as a C string: copied with its NUL terminator, or refused (false, with
// this thread's last error set) when it contains a NUL byte, which would cut it short.
inline bool c_string(std::string_view s, const char* what, std::string& out) {
  if (s.find('\0') != std::string_view::npos) {
    WrapperError& w = wrapper_error();
    w.active = true;
    w.message = std::string(what) + " contains a NUL byte, which a C string cannot carry";
    return false;
  }
  out.assign(s.data(), s.size());
  return true;
}

#if ODP_HPP_EXCEPTIONS
// Throws the failure of the library call that just returned `rc`, with its detail, read at once.
inline void check(int rc) {
  if (rc != ODP_OK) throw Error(rc, last_error_message());
}

inline std::string c_string_or_throw(std::string_view s, const char* what) {
  std::string out;
  if (!c_string(s, what, out)) throw Error(ODP_ERR_INVALID_ARGUMENT, wrapper_error().message);
  return out;
}
#endif

inline std::uint32_t to_timeout_ms(std::chrono::milliseconds timeout) noexcept {
  if (timeout.count() <= 0) return 0;
  // The largest explicit timeout: ODP_CONFIGURED_SHUTDOWN_TIMEOUT (UINT32_MAX) means "configured".
  constexpr std::uint32_t largest = ODP_CONFIGURED_SHUTDOWN_TIMEOUT - 1;
  if (timeout.count() >= static_cast<std::chrono::milliseconds::rep>(largest)) return largest;
  return static_cast<std::uint32_t>(timeout.count());
}

}  // namespace detail

/**
 * An ODP client: owns one OdpClient handle. Move-only; the destructor closes the client (draining
 * within the configured shutdown_timeout_ms, default 2000 ms) and frees it, and never throws.
 *
 * A default-constructed or moved-from Client is empty (operator bool is false); calls on it fail
 * with ODP_ERR_INVALID_ARGUMENT, as the C API answers a NULL handle.
 *
 * Thread safety: see the top of this file. Every member except the move operations and the
 * destructor may run concurrently with any other on the same object.
 */
class Client {
 public:
  /** An empty client. */
  Client() noexcept = default;

#if ODP_HPP_EXCEPTIONS
  /**
   * Creates a client from a JSON configuration (odp_client_new): exactly one of sdk_key, datafile,
   * or odp_api_key + odp_api_host, plus optional settings. Never blocks on the network.
   * Throws odp::Error: ODP_ERR_INVALID_JSON, ODP_ERR_INVALID_UTF8, ODP_ERR_INVALID_CONFIG (the
   * detail names the key), ODP_ERR_INVALID_DATAFILE, ODP_ERR_INVALID_ARGUMENT (a NUL byte),
   * ODP_ERR_INTERNAL.
   */
  explicit Client(std::string_view config_json) {
    const std::string config = detail::c_string_or_throw(config_json, "the configuration");
    detail::library_call();
    detail::check(odp_client_new(config.c_str(), &handle_));
  }

  /**
   * Creates a client from a flat configuration object, e.g.
   * `odp::Client(odp::Object{{"sdk_key", "AbC123"}, {"flush_interval_ms", 100}})`; the values are
   * JSON-encoded (a datafile goes in as a string). Throws like Client(std::string_view).
   */
  explicit Client(const Object& config) : Client(std::string_view(json::encode(config))) {}
#endif

  /**
   * Creates a client without throwing odp::Error: on success returns it and clears `ec`; on
   * failure returns an empty client and sets `ec` (see Client(std::string_view) for the codes;
   * odp::last_error_message() gives the detail). Throws only std::bad_alloc.
   */
  static Client create(std::string_view config_json, std::error_code& ec) {
    Client client;
    std::string config;
    if (!detail::c_string(config_json, "the configuration", config)) {
      detail::set_error_code(ec, ODP_ERR_INVALID_ARGUMENT);
      return client;
    }
    detail::library_call();
    detail::set_error_code(ec, odp_client_new(config.c_str(), &client.handle_));
    return client;
  }

  /** create() from a flat configuration object. Throws only std::bad_alloc. */
  static Client create(const Object& config, std::error_code& ec) {
    return create(json::encode(config), ec);
  }

  /** Closes and frees the client (odp_client_free); blocks at most shutdown_timeout_ms. */
  ~Client() { reset(); }

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /** Takes over `other`'s handle; `other` becomes empty. */
  Client(Client&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

  /** Frees this client's handle (as the destructor does, possibly blocking), then takes over
   * `other`'s; `other` becomes empty. Self-assignment does nothing. */
  Client& operator=(Client&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }

  /** Whether this object holds a handle (false when empty or moved from). */
  explicit operator bool() const noexcept { return handle_ != nullptr; }

  /** The C handle, for calls this header does not wrap; it stays owned by this object. */
  OdpClient* native_handle() const noexcept { return handle_; }

#if ODP_HPP_EXCEPTIONS
  /**
   * Blocks until the client has a datafile, for at most `timeout` (odp_client_wait_ready).
   * Throws odp::Error: ODP_ERR_TIMEOUT (the detail carries the last fetch failure),
   * ODP_ERR_SDK_NOT_READY (fetching stopped without a datafile), ODP_ERR_CLOSED,
   * ODP_ERR_INVALID_ARGUMENT (empty client), ODP_ERR_INVALID_HANDLE.
   */
  void wait_ready(std::chrono::milliseconds timeout) {
    detail::library_call();
    detail::check(odp_client_wait_ready(handle_, detail::to_timeout_ms(timeout)));
  }
#endif
  /** wait_ready() reporting through `ec`. */
  void wait_ready(std::chrono::milliseconds timeout, std::error_code& ec) noexcept {
    detail::library_call();
    detail::set_error_code(ec, odp_client_wait_ready(handle_, detail::to_timeout_ms(timeout)));
  }

#if ODP_HPP_EXCEPTIONS
  /**
   * Validates an event and queues it for delivery (odp_send_event); never waits for the network.
   * `identifiers` and `data` are JSON-encoded; an empty `type` lets the library use "fullstack".
   * Throws odp::Error: ODP_ERR_INVALID_ACTION, ODP_ERR_INVALID_IDENTIFIERS, ODP_ERR_INVALID_DATA,
   * ODP_ERR_INVALID_UTF8, ODP_ERR_SDK_NOT_READY, ODP_ERR_ODP_NOT_ENABLED,
   * ODP_ERR_ODP_NOT_INTEGRATED, ODP_ERR_QUEUE_FULL, ODP_ERR_CLOSED, ODP_ERR_INVALID_HANDLE,
   * ODP_ERR_INVALID_ARGUMENT (empty client; NUL byte in action or type); the detail says which
   * key or value was refused.
   */
  void send_event(std::string_view action, const Identifiers& identifiers, const Data& data = {},
                  std::string_view type = {}) {
    send_event_json(action, json::encode(identifiers), json::encode(data), type);
  }
#endif
  /** send_event() reporting through `ec`. Throws only std::bad_alloc. */
  void send_event(std::string_view action, const Identifiers& identifiers, const Data& data,
                  std::error_code& ec) {
    send_event_json(action, json::encode(identifiers), json::encode(data), {}, ec);
  }
  /** send_event() with a type, reporting through `ec`. Throws only std::bad_alloc. */
  void send_event(std::string_view action, const Identifiers& identifiers, const Data& data,
                  std::string_view type, std::error_code& ec) {
    send_event_json(action, json::encode(identifiers), json::encode(data), type, ec);
  }

#if ODP_HPP_EXCEPTIONS
  /**
   * send_event() with the identifiers and data already as JSON text, passed to the library as is.
   * An empty `data_json` means no data (NULL in the C API). Throws like send_event(), and also
   * ODP_ERR_INVALID_JSON.
   */
  void send_event_json(std::string_view action, std::string_view identifiers_json,
                       std::string_view data_json = {}, std::string_view type = {}) {
    const std::string a = detail::c_string_or_throw(action, "the action");
    const std::string t = detail::c_string_or_throw(type, "the event type");
    const std::string i = detail::c_string_or_throw(identifiers_json, "the identifiers JSON");
    const std::string d = detail::c_string_or_throw(data_json, "the data JSON");
    detail::library_call();
    detail::check(odp_send_event(handle_, t.c_str(), a.c_str(), i.c_str(),
                                 data_json.empty() ? nullptr : d.c_str()));
  }
#endif
  /** send_event_json() reporting through `ec`. Throws only std::bad_alloc. */
  void send_event_json(std::string_view action, std::string_view identifiers_json,
                       std::string_view data_json, std::string_view type, std::error_code& ec) {
    std::string a, t, i, d;
    if (!detail::c_string(action, "the action", a) ||
        !detail::c_string(type, "the event type", t) ||
        !detail::c_string(identifiers_json, "the identifiers JSON", i) ||
        !detail::c_string(data_json, "the data JSON", d)) {
      detail::set_error_code(ec, ODP_ERR_INVALID_ARGUMENT);
      return;
    }
    detail::library_call();
    detail::set_error_code(ec, odp_send_event(handle_, t.c_str(), a.c_str(), i.c_str(),
                                              data_json.empty() ? nullptr : d.c_str()));
  }
  /** send_event_json() without a type, reporting through `ec`. Throws only std::bad_alloc. */
  void send_event_json(std::string_view action, std::string_view identifiers_json,
                       std::string_view data_json, std::error_code& ec) {
    send_event_json(action, identifiers_json, data_json, {}, ec);
  }

#if ODP_HPP_EXCEPTIONS
  /**
   * Delivers everything accepted before the call, blocking at most `timeout` (odp_client_flush).
   * Throws odp::Error: ODP_ERR_TIMEOUT (events still pending; delivery goes on), ODP_ERR_CLOSED,
   * ODP_ERR_INVALID_ARGUMENT (empty client), ODP_ERR_INVALID_HANDLE.
   */
  void flush(std::chrono::milliseconds timeout) {
    detail::library_call();
    detail::check(odp_client_flush(handle_, detail::to_timeout_ms(timeout)));
  }
#endif
  /** flush() reporting through `ec`. */
  void flush(std::chrono::milliseconds timeout, std::error_code& ec) noexcept {
    detail::library_call();
    detail::set_error_code(ec, odp_client_flush(handle_, detail::to_timeout_ms(timeout)));
  }

#if ODP_HPP_EXCEPTIONS
  /**
   * Stops accepting events, delivers what is queued within `timeout`, stops the background work
   * (odp_client_close). Later sends fail with ODP_ERR_CLOSED; stats() still works; closing again
   * succeeds. The handle is freed by the destructor. Throws odp::Error: ODP_ERR_TIMEOUT (events
   * were left and dropped), ODP_ERR_INVALID_ARGUMENT (empty client), ODP_ERR_INVALID_HANDLE.
   */
  void close(std::chrono::milliseconds timeout) {
    detail::library_call();
    detail::check(odp_client_close(handle_, detail::to_timeout_ms(timeout)));
  }
#endif
  /** close() reporting through `ec`. */
  void close(std::chrono::milliseconds timeout, std::error_code& ec) noexcept {
    detail::library_call();
    detail::set_error_code(ec, odp_client_close(handle_, detail::to_timeout_ms(timeout)));
  }

#if ODP_HPP_EXCEPTIONS
  /**
   * Replaces the datafile (odp_client_update_datafile); events already queued go to the old ODP
   * destination first. Throws odp::Error: ODP_ERR_INVALID_DATAFILE (the current one stays),
   * ODP_ERR_INVALID_UTF8, ODP_ERR_CLOSED, ODP_ERR_INVALID_ARGUMENT (empty client; NUL byte),
   * ODP_ERR_INVALID_HANDLE.
   */
  void update_datafile(std::string_view datafile_json) {
    const std::string datafile = detail::c_string_or_throw(datafile_json, "the datafile");
    detail::library_call();
    detail::check(odp_client_update_datafile(handle_, datafile.c_str()));
  }
#endif
  /** update_datafile() reporting through `ec`. Throws only std::bad_alloc. */
  void update_datafile(std::string_view datafile_json, std::error_code& ec) {
    std::string datafile;
    if (!detail::c_string(datafile_json, "the datafile", datafile)) {
      detail::set_error_code(ec, ODP_ERR_INVALID_ARGUMENT);
      return;
    }
    detail::library_call();
    detail::set_error_code(ec, odp_client_update_datafile(handle_, datafile.c_str()));
  }

#if ODP_HPP_EXCEPTIONS
  /**
   * A consistent snapshot of the counters (odp_client_stats); works after close(). Throws
   * odp::Error: ODP_ERR_INVALID_ARGUMENT (empty client), ODP_ERR_INVALID_HANDLE.
   */
  Stats stats() const {
    Stats s{};
    detail::library_call();
    detail::check(odp_client_stats(handle_, &s));
    return s;
  }
#endif
  /** stats() reporting through `ec`; all zero on failure. */
  Stats stats(std::error_code& ec) const noexcept {
    Stats s{};
    detail::library_call();
    detail::set_error_code(ec, odp_client_stats(handle_, &s));
    return s;
  }

 private:
  void reset() noexcept {
    if (handle_ != nullptr) {
      // A timeout here means the implicit close dropped events; stats() said so before, and a
      // destructor has nobody to tell.
      (void)odp_client_free(std::exchange(handle_, nullptr));
    }
  }

  OdpClient* handle_ = nullptr;
};

}  // namespace odp

namespace std {
template <>
struct is_error_code_enum<odp::Errc> : true_type {};
template <>
struct is_error_code_enum<::OdpResult> : true_type {};
}  // namespace std

/** Makes a std::error_code from the C enum, so that `std::error_code ec = ODP_ERR_CLOSED;` and
 * `ec == ODP_ERR_CLOSED` work. Declared at global scope, where ADL finds it for ::OdpResult. */
inline std::error_code make_error_code(OdpResult r) noexcept {
  return std::error_code(static_cast<int>(r), odp::error_category());
}

#endif  // ODP_HPP

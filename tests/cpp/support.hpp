// Test support for the C++ wrapper's tests: a collector process per fixture, a blocking HTTP GET
// over a socket, and a small JSON reader to look at what crossed the wire.
#ifndef ODP_TESTS_CPP_SUPPORT_HPP
#define ODP_TESTS_CPP_SUPPORT_HPP

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace support {

// ---------------------------------------------------------------------------------------------
// JSON: a small reader (the wrapper only writes JSON, so the tests need their own reader).
// Objects keep their keys in wire order; numbers keep their text.
// ---------------------------------------------------------------------------------------------

struct Json {
  enum class Type { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool boolean = false;
  std::string text;  // a string's value, or a number's text as sent
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  bool has(std::string_view key) const {
    for (const auto& m : members)
      if (m.first == key) return true;
    return false;
  }
  const Json& operator[](std::string_view key) const {
    for (const auto& m : members)
      if (m.first == key) return m.second;
    throw std::runtime_error("JSON object has no key " + std::string(key));
  }
  const Json& operator[](std::size_t i) const { return items.at(i); }
  std::size_t size() const { return type == Type::array ? items.size() : members.size(); }
  const std::string& str() const {
    if (type != Type::string) throw std::runtime_error("JSON value is not a string");
    return text;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& m : members) k.push_back(m.first);
    return k;
  }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  Json document() {
    Json v = value();
    space();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error("JSON: " + why + " at offset " + std::to_string(i_) + " in " +
                             std::string(s_.substr(0, 200)));
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool take(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  Json value() {
    space();
    if (i_ >= s_.size()) fail("unexpected end");
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      v.type = Json::Type::object;
      ++i_;
      space();
      if (take("}")) return v;
      for (;;) {
        space();
        if (i_ >= s_.size() || s_[i_] != '"') fail("expected a key");
        std::string key = string();
        space();
        if (!take(":")) fail("expected ':'");
        v.members.emplace_back(std::move(key), value());
        space();
        if (take("}")) return v;
        if (!take(",")) fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.type = Json::Type::array;
      ++i_;
      space();
      if (take("]")) return v;
      for (;;) {
        v.items.push_back(value());
        space();
        if (take("]")) return v;
        if (!take(",")) fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.type = Json::Type::string;
      v.text = string();
      return v;
    }
    if (take("true")) {
      v.type = Json::Type::boolean;
      v.boolean = true;
      return v;
    }
    if (take("false")) {
      v.type = Json::Type::boolean;
      return v;
    }
    if (take("null")) return v;
    const std::size_t start = i_;
    while (i_ < s_.size() && std::strchr("+-0123456789.eE", s_[i_]) != nullptr) ++i_;
    if (i_ == start) fail("unexpected character");
    v.type = Json::Type::number;
    v.text = std::string(s_.substr(start, i_ - start));
    return v;
  }
  unsigned hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u escape");
    unsigned u = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      u <<= 4;
      if (h >= '0' && h <= '9') u |= unsigned(h - '0');
      else if (h >= 'a' && h <= 'f') u |= unsigned(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') u |= unsigned(h - 'A' + 10);
      else fail("bad hex digit");
    }
    return u;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  std::string string() {
    ++i_;  // the opening quote
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("raw control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (!take("\\u")) fail("lone high surrogate");
            const unsigned low = hex4();
            if (low < 0xDC00 || low >= 0xE000) fail("bad low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

inline Json parse_json(std::string_view s) { return JsonReader(s).document(); }

// ---------------------------------------------------------------------------------------------
// HTTP: one blocking GET on 127.0.0.1.
// ---------------------------------------------------------------------------------------------

struct HttpResponse {
  int status = 0;
  std::string body;
};

inline HttpResponse http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + why);
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("send failed");
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw std::runtime_error("recv: " + std::string(std::strerror(errno)));
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const std::size_t head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos)
    throw std::runtime_error("not an HTTP response: " + raw.substr(0, 100));
  HttpResponse response;
  response.status = std::atoi(raw.c_str() + 9);
  response.body = raw.substr(head_end + 4);
  return response;
}

// ---------------------------------------------------------------------------------------------
// The collector (examples/collector.rs) as a child process.
// ---------------------------------------------------------------------------------------------

// One events request as the collector recorded it.
struct WireRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // the raw body

  std::vector<std::string> header_all(std::string_view name) const {
    std::vector<std::string> values;
    for (const auto& h : headers)
      if (h.first == name) values.push_back(h.second);
    return values;
  }
  std::string header(std::string_view name) const {
    const auto values = header_all(name);
    return values.empty() ? std::string() : values.front();
  }
};

// What GET /_received reports.
struct Received {
  Json events;  // unique accepted events, in arrival order
  std::size_t event_count = 0;
  std::size_t duplicates = 0;
  std::vector<WireRequest> requests;  // every events request, refused ones included
};

inline std::string collector_path() {
  if (const char* env = std::getenv("ODP_COLLECTOR")) return env;
#ifdef ODP_COLLECTOR_PATH
  return ODP_COLLECTOR_PATH;
#else
  throw std::runtime_error("set ODP_COLLECTOR to the collector example binary");
#endif
}

class Collector {
 public:
  // Starts `collector --port 0 --quiet --events-out /dev/null ARGS...` and reads its port.
  explicit Collector(std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {collector_path(), "--port", "0", "--quiet",
                                      "--events-out", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // The collector must not outlive a test process that dies before its teardown.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos) {
      pollfd p{out[0], POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char c[256];
      const ssize_t n = ::read(out[0], c, sizeof c);
      if (n <= 0) break;
      line.append(c, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    const std::string prefix = "listening on http://127.0.0.1:";
    if (line.compare(0, prefix.size(), prefix) != 0) {
      stop();
      throw std::runtime_error("collector " + argv[0] + " did not start: '" + line + "'");
    }
    port_ = std::atoi(line.c_str() + prefix.size());
    url_ = "http://127.0.0.1:" + std::to_string(port_);
  }

  ~Collector() { stop(); }
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  std::string datafile_url_template() const { return url_ + "/datafiles/{sdk_key}.json"; }

  Received received() const {
    const HttpResponse r = http_get(port_, "/_received");
    if (r.status != 200) throw std::runtime_error("/_received answered " + std::to_string(r.status));
    const Json doc = parse_json(r.body);
    Received out;
    out.events = doc["events"];
    out.event_count = std::stoul(doc["event_count"].text);
    out.duplicates = std::stoul(doc["duplicates"].text);
    for (const Json& q : doc["requests"].items) {
      WireRequest w;
      w.method = q["method"].str();
      w.path = q["path"].str();
      for (const Json& h : q["headers"].items) w.headers.emplace_back(h[0].str(), h[1].str());
      w.body = q["body"].str();
      out.requests.push_back(std::move(w));
    }
    return out;
  }

  // Waits (polling, at most 10 s) until at least `n` unique events arrived; returns what did.
  Received wait_for_events(std::size_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      Received r = received();
      if (r.event_count >= n || std::chrono::steady_clock::now() >= deadline) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string url_;
};

// The collector's datafile (version 4) with an ODP integration at `host` with `public_key`.
inline std::string datafile(const std::string& revision, const std::string& public_key,
                            const std::string& host) {
  return R"({"version":"4","revision":")" + revision +
         R"(","projectId":"1","accountId":"1","experiments":[],"audiences":[],"attributes":[],)"
         R"("events":[],"integrations":[{"key":"odp","publicKey":")" +
         public_key + R"(","host":")" + host + R"("}]})";
}

}  // namespace support

#endif  // ODP_TESTS_CPP_SUPPORT_HPP

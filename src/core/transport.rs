//! HTTP: one POST of one batch, one GET of a datafile, and the pure decisions about what a
//! response means (retry, drop, wait). Nothing here knows about queues or clients.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::error::Result;

/// Sent as `user-agent` on every request.
pub const USER_AGENT: &str = concat!("libodp/", env!("CARGO_PKG_VERSION"));

/// Longest `Retry-After` honoured; a longer one is clamped to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Bytes of an event response read (to keep the connection reusable) before giving up on it.
const MAX_EVENT_RESPONSE_BYTES: u64 = 64 * 1024;

/// Largest datafile accepted.
pub const MAX_DATAFILE_BYTES: u64 = 64 * 1024 * 1024;

/// Where events go: the ODP events endpoint and its key, validated once when the datafile (or
/// configuration) is read, so that a bad host never reaches the dispatcher.
#[derive(Clone, PartialEq, Eq)]
pub struct Destination {
    api_key: String,
    events_url: String,
}

// The key must never be logged, so Debug shows only the URL.
impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destination")
            .field("events_url", &self.events_url)
            .finish_non_exhaustive()
    }
}

impl Destination {
    /// Validates an ODP key and host. `host` is a base URL with scheme; `/v3/events` is
    /// appended with exactly one `/` between them.
    ///
    /// Refused (with the reason): an empty key or host, characters that could inject a header
    /// or break the request line, a scheme other than http/https, and `http://` to anything but
    /// loopback unless `allow_insecure_http`.
    pub fn new(
        api_key: &str,
        host: &str,
        allow_insecure_http: bool,
    ) -> Result<Destination, String> {
        if api_key.is_empty() || host.is_empty() {
            return Err("the ODP public key or host is empty".to_owned());
        }
        if !api_key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the ODP public key holds control, space or non-ASCII characters".into());
        }
        if !host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "the ODP host {host:?} holds control, space or non-ASCII characters"
            ));
        }
        let lower = host.to_ascii_lowercase();
        let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!(
                "the ODP host {host:?} is not an http:// or https:// URL"
            ));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.is_empty() {
            return Err(format!("the ODP host {host:?} has no host name"));
        }
        if !secure && !allow_insecure_http && !is_loopback(authority) {
            return Err(format!(
                "the ODP host {host:?} uses http:// to a non-loopback address (set allow_insecure_http to allow it)"
            ));
        }
        Ok(Destination {
            api_key: api_key.to_owned(),
            events_url: format!("{}/v3/events", host.trim_end_matches('/')),
        })
    }

    /// `{host}/v3/events`.
    pub fn events_url(&self) -> &str {
        &self.events_url
    }

    /// The public API key sent as `x-api-key`.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }
}

/// `authority` is `host[:port]`, lower-case, possibly with userinfo or an IPv6 literal.
fn is_loopback(authority: &str) -> bool {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host == "localhost" {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// What one POST of a batch came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The server answered with this status.
    Status {
        /// HTTP status code.
        code: u16,
        /// The `Retry-After` delay, if the response had a usable one.
        retry_after: Option<Duration>,
    },
    /// No HTTP answer: connection refused or reset, DNS failure, TLS failure, timeout.
    Network(String),
}

/// What to do with a batch after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Remove the batch: it was accepted.
    Delivered,
    /// Send the batch again later; the failure may be temporary.
    Retry,
    /// Remove the batch and count it as rejected: sending it again cannot succeed.
    Drop,
}

/// The retry policy (SPEC §6): < 400 succeeds; network errors, 408, 429 and 5xx are retried;
/// every other 4xx is final.
pub fn verdict(attempt: &Attempt) -> Verdict {
    match attempt {
        Attempt::Network(_) => Verdict::Retry,
        Attempt::Status { code, .. } => match code {
            0..=399 => Verdict::Delivered,
            408 | 429 => Verdict::Retry,
            400..=499 => Verdict::Drop,
            _ => Verdict::Retry,
        },
    }
}

/// The wait before retry number `retry` (1 = the wait after the first failed attempt):
/// 200 ms doubling per retry, capped at 1 s, with "equal jitter" (`unit` in [0, 1) picks a point
/// in the upper half of the step) so that clients that failed together do not retry together.
/// A `Retry-After` is a floor, clamped to [`MAX_RETRY_AFTER`].
pub fn backoff(retry: u32, unit: f64, retry_after: Option<Duration>) -> Duration {
    let step_ms = (200u64 << retry.saturating_sub(1).min(10)).min(1000);
    let unit = unit.clamp(0.0, 1.0);
    let jittered = Duration::from_micros((step_ms as f64 * 500.0 * (1.0 + unit)) as u64);
    match retry_after {
        Some(ra) => jittered.max(ra.min(MAX_RETRY_AFTER)),
        None => jittered,
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (IMF-fixdate) relative to `now`.
/// A date in the past means "no wait"; anything unparsable is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// IMF-fixdate only (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 says senders must use.
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let year: u64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || year < 1970 || *h > 23 || *m > 59 || *sec > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), for 1970 onwards.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + sec;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// An HTTP GET answer, reduced to what the datafile poller needs.
#[derive(Debug)]
pub struct GetResponse {
    /// HTTP status code.
    pub status: u16,
    /// The `Last-Modified` header, verbatim.
    pub last_modified: Option<String>,
    /// The body (empty unless the status is 200).
    pub body: String,
}

/// `"403 Forbidden"`: the status line as Go's `http.Response.Status` prints it.
pub fn status_text(code: u16) -> String {
    match ureq::http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{code} {reason}"),
        None => code.to_string(),
    }
}

/// Name resolution without a thread per request. ureq resolves the host of every request, even
/// one that will reuse a pooled connection, and with a timeout set it does so on a new thread:
/// one thread per batch. Here an IP literal needs no lookup at all, and a name is looked up (on
/// ureq's bounded, timed thread) at most once a minute per host.
#[derive(Debug, Default)]
struct CachingResolver {
    lookup: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

/// How long a looked-up address is reused.
const RESOLVE_TTL: Duration = Duration::from_secs(60);

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => DefaultResolver::host_and_port(scheme, authority),
            _ => None,
        };
        let Some(host_port) = host_port else {
            return self.lookup.resolve(uri, config, timeout);
        };
        if let Ok(addr) = host_port.parse::<SocketAddr>() {
            let mut addrs = self.empty();
            addrs.push(addr);
            return Ok(addrs);
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, addrs)) = cache.get(&host_port) {
            if at.elapsed() < RESOLVE_TTL {
                return Ok(addrs.clone());
            }
        }
        drop(cache);
        let addrs = self.lookup.resolve(uri, config, timeout)?;
        cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(host_port, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

/// One HTTP client (connection pool) per libodp client.
#[derive(Clone)]
pub struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    /// A keep-alive agent with rustls and WebPKI roots, keeping up to `connections` idle
    /// connections per host (one per concurrent request). Statuses are data, not errors, and
    /// redirects are not followed: ODP answers events directly.
    pub fn new(connections: usize) -> Transport {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .max_idle_connections_per_host(connections.max(1))
            .max_idle_connections(connections.max(1) * 2)
            .build();
        Transport {
            agent: ureq::Agent::with_parts(
                config,
                DefaultConnector::default(),
                CachingResolver::default(),
            ),
        }
    }

    /// POSTs one batch. `timeout` bounds the whole exchange, DNS and connection included.
    pub fn post_events(&self, dest: &Destination, body: &[u8], timeout: Duration) -> Attempt {
        let result = self
            .agent
            .post(dest.events_url())
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("x-api-key", dest.api_key())
            .send(body);
        match result {
            Ok(mut response) => {
                let code = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                // Reading the (small) body lets the connection go back to the pool.
                let _ = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_EVENT_RESPONSE_BYTES)
                    .read_to_vec();
                Attempt::Status { code, retry_after }
            }
            Err(e) => Attempt::Network(e.to_string()),
        }
    }

    /// GETs `url` with extra headers. Err carries a description of the network failure.
    pub fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<GetResponse, String> {
        let mut request = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(timeout))
            .build();
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let last_modified = response
            .headers()
            .get("last-modified")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = String::new();
        if status == 200 {
            let mut reader = response
                .body_mut()
                .with_config()
                .limit(MAX_DATAFILE_BYTES)
                .reader();
            reader
                .read_to_string(&mut body)
                .map_err(|e| format!("reading the body failed: {e}"))?;
        }
        Ok(GetResponse {
            status,
            last_modified,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_need_no_lookup_and_names_are_looked_up_once() {
        let resolver = CachingResolver::default();
        let config = ureq::config::Config::default();
        let timeout = NextTimeout {
            after: Duration::from_secs(5).into(),
            reason: ureq::Timeout::Resolve,
            ..NextTimeout::default()
        };
        let resolve = |url: &str| {
            let uri: ureq::http::Uri = url.parse().unwrap();
            resolver
                .resolve(&uri, &config, timeout)
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            resolve("http://127.0.0.1:9/v3/events"),
            ["127.0.0.1:9".parse().unwrap()]
        );
        assert_eq!(
            resolve("https://[::1]/v3/events"),
            ["[::1]:443".parse().unwrap()]
        );
        assert!(
            resolver.cache.lock().unwrap().is_empty(),
            "literals are not cached: nothing to look up"
        );
        let first = resolve("http://localhost:8080/");
        assert!(
            first
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8080),
            "{first:?}"
        );
        assert_eq!(resolve("http://localhost:8080/other"), first);
        assert_eq!(resolver.cache.lock().unwrap().len(), 1);
    }

    #[test]
    fn events_url_has_exactly_one_slash() {
        for host in [
            "https://api.zaius.com",
            "https://api.zaius.com/",
            "https://api.zaius.com//",
        ] {
            let d = Destination::new("k", host, false).unwrap();
            assert_eq!(d.events_url(), "https://api.zaius.com/v3/events");
        }
    }

    #[test]
    fn insecure_http_only_to_loopback_unless_allowed() {
        assert!(Destination::new("k", "http://127.0.0.1:8080", false).is_ok());
        assert!(Destination::new("k", "http://localhost:1", false).is_ok());
        assert!(Destination::new("k", "http://[::1]:1/", false).is_ok());
        let e = Destination::new("k", "http://example.com", false).unwrap_err();
        assert!(e.contains("allow_insecure_http"), "{e}");
        assert!(Destination::new("k", "http://example.com", true).is_ok());
    }

    #[test]
    fn header_injection_and_bad_schemes_are_refused() {
        assert!(Destination::new("k\r\nx-evil: 1", "https://h", false).is_err());
        assert!(Destination::new("k", "https://h\r\n", false).is_err());
        assert!(Destination::new("k k", "https://h", false).is_err());
        assert!(Destination::new("k", "ftp://h", false).is_err());
        assert!(Destination::new("k", "456", false).is_err());
        assert!(Destination::new("k", "https://", false).is_err());
        assert!(Destination::new("", "https://h", false).is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let d = Destination::new("secret-key", "https://h", false).unwrap();
        assert!(!format!("{d:?}").contains("secret-key"));
    }

    #[test]
    fn verdict_per_status() {
        let s = |code| {
            verdict(&Attempt::Status {
                code,
                retry_after: None,
            })
        };
        for code in [200, 202, 204, 301, 399] {
            assert_eq!(s(code), Verdict::Delivered, "{code}");
        }
        for code in [408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(s(code), Verdict::Retry, "{code}");
        }
        for code in [400, 401, 403, 404, 413, 422, 499] {
            assert_eq!(s(code), Verdict::Drop, "{code}");
        }
        assert_eq!(verdict(&Attempt::Network("refused".into())), Verdict::Retry);
    }

    #[test]
    fn backoff_doubles_from_200ms_caps_at_1s_with_jitter_in_the_upper_half() {
        let expected_steps = [
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1000),
            (9, 1000),
            (40, 1000),
        ];
        for (retry, step) in expected_steps {
            let step = Duration::from_millis(step);
            assert_eq!(backoff(retry, 0.0, None), step / 2, "retry {retry}");
            assert!(backoff(retry, 0.999_999, None) <= step, "retry {retry}");
            assert!(
                backoff(retry, 0.999_999, None) > step * 99 / 100,
                "retry {retry}"
            );
        }
        // Out-of-range samples are clamped rather than trusted.
        assert_eq!(backoff(1, -3.0, None), Duration::from_millis(100));
        assert_eq!(backoff(1, 7.0, None), Duration::from_millis(200));
    }

    #[test]
    fn retry_after_is_a_floor_capped_at_60s() {
        let ra = |s| Some(Duration::from_secs(s));
        assert_eq!(backoff(1, 0.0, ra(5)), Duration::from_secs(5));
        assert_eq!(backoff(1, 0.0, ra(3600)), Duration::from_secs(60));
        assert_eq!(
            backoff(3, 0.0, Some(Duration::ZERO)),
            Duration::from_millis(400)
        );
    }

    #[test]
    fn retry_after_parsing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_770); // Sun, 06 Nov 1994 08:49:30 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", SystemTime::UNIX_EPOCH),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Tue, 29 Feb 2028 12:00:00 GMT", SystemTime::UNIX_EPOCH),
            Some(Duration::from_secs(1_835_438_400))
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn status_text_matches_go() {
        assert_eq!(status_text(403), "403 Forbidden");
        assert_eq!(status_text(500), "500 Internal Server Error");
        assert_eq!(status_text(599), "599");
    }
}

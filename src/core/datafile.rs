//! Datafiles: reading the ODP integration out of one, and fetching and polling one by SDK key.

use std::time::Duration;

use serde_json::Value;

use super::error::{Error, ErrorKind, Result};
use super::transport::{status_text, Transport};

/// The part of a datafile libodp uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datafile {
    /// The datafile's `revision`, used to skip re-applying an unchanged datafile.
    pub revision: Option<String>,
    /// The first `integrations` entry with `key` `"odp"`, if any.
    pub odp: Option<OdpIntegration>,
}

/// The ODP integration entry of a datafile. Missing fields read as empty strings (which then
/// mean "not integrated"), as in the Go SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdpIntegration {
    /// `publicKey`: the ODP API key.
    pub public_key: String,
    /// `host`: the ODP API base URL.
    pub host: String,
}

fn invalid(why: impl std::fmt::Display) -> Error {
    Error::with_detail(
        ErrorKind::InvalidDatafile,
        format!("invalid datafile: {why}"),
    )
}

impl Datafile {
    /// Parses datafile JSON. Invalid: not JSON, not an object, `version` other than `"4"`, an
    /// `integrations` that is not an array of objects each with a string `key`.
    pub fn parse(text: &str) -> Result<Datafile> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format_args!("not valid JSON: {e}")))?;
        let Value::Object(root) = value else {
            return Err(invalid("not a JSON object"));
        };
        match root.get("version") {
            Some(Value::String(v)) if v == "4" => {}
            Some(Value::String(v)) => {
                return Err(invalid(format_args!(
                    "unsupported datafile version {v:?} (only \"4\" is supported)"
                )))
            }
            Some(_) => return Err(invalid("\"version\" is not a string")),
            None => return Err(invalid("\"version\" is missing")),
        }
        let revision = match root.get("revision") {
            Some(Value::String(r)) => Some(r.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let mut odp = None;
        match root.get("integrations") {
            None | Some(Value::Null) => {}
            Some(Value::Array(entries)) => {
                for (i, entry) in entries.iter().enumerate() {
                    let Value::Object(entry) = entry else {
                        return Err(invalid(format_args!("integrations[{i}] is not an object")));
                    };
                    let Some(Value::String(key)) = entry.get("key") else {
                        return Err(invalid(format_args!(
                            "unsupported key in integrations: integrations[{i}] has no string \"key\""
                        )));
                    };
                    if key == "odp" && odp.is_none() {
                        let field = |name: &str| match entry.get(name) {
                            Some(Value::String(s)) => s.clone(),
                            _ => String::new(),
                        };
                        odp = Some(OdpIntegration {
                            public_key: field("publicKey"),
                            host: field("host"),
                        });
                    }
                }
            }
            Some(_) => return Err(invalid("\"integrations\" is not an array")),
        }
        Ok(Datafile { revision, odp })
    }
}

/// The result of one fetch.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    /// A new datafile, with its `Last-Modified` for the next `If-Modified-Since`.
    Datafile {
        /// The parsed datafile.
        datafile: Datafile,
        /// The `Last-Modified` header.
        last_modified: Option<String>,
    },
    /// 304: what we have is current.
    NotModified,
    /// The fetch or the parse failed; the message says why, in the Go SDK's words.
    Failed(String),
}

/// Where and how to fetch a datafile.
#[derive(Debug, Clone)]
pub struct FetchTarget {
    /// The datafile URL.
    pub url: String,
    /// Bearer token for authenticated datafiles.
    pub access_token: Option<String>,
    /// Timeout of one fetch.
    pub timeout: Duration,
}

impl FetchTarget {
    /// Fetches once, conditionally on `last_modified`.
    pub fn fetch(&self, transport: &Transport, last_modified: Option<&str>) -> Fetched {
        let bearer = self.access_token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![("accept", "application/json")];
        if let Some(lm) = last_modified {
            headers.push(("if-modified-since", lm));
        }
        if let Some(b) = &bearer {
            headers.push(("authorization", b.as_str()));
        }
        let response = match transport.get(&self.url, &headers, self.timeout) {
            Ok(r) => r,
            Err(e) => return Fetched::Failed(format!("unable to fetch fresh datafile: {e}")),
        };
        match response.status {
            200 => match Datafile::parse(&response.body) {
                Ok(datafile) => Fetched::Datafile {
                    datafile,
                    last_modified: response.last_modified,
                },
                Err(e) => Fetched::Failed(format!("unable to parse datafile: {}", e.detail())),
            },
            304 => Fetched::NotModified,
            403 => Fetched::Failed(format!(
                "unable to fetch fresh datafile (consider rechecking SDK key), status code: {}",
                status_text(403)
            )),
            code => Fetched::Failed(format!(
                "unable to fetch fresh datafile, reason (http status code): {}",
                status_text(code)
            )),
        }
    }
}

/// What the poller reports to, and how it waits; implemented by the client.
pub trait PollSink {
    /// A datafile was fetched (it may have the same revision as the current one).
    fn fetched(&self, datafile: Datafile);
    /// A fetch failed; the current datafile, if any, stays.
    fn failed(&self, cause: String);
    /// Waits up to `d`; returns false when the poller must stop.
    fn sleep(&self, d: Duration) -> bool;
    /// True once a datafile has been applied.
    fn has_datafile(&self) -> bool;
}

/// The wait before the next fetch. Until a first datafile arrives a failed fetch is retried
/// sooner (1 s doubling to the polling interval) so `wait_ready` is not stuck for a whole
/// interval after a transient failure.
pub fn next_poll_delay(interval: Duration, has_datafile: bool, failures_in_a_row: u32) -> Duration {
    if has_datafile || failures_in_a_row == 0 {
        return interval;
    }
    let quick = Duration::from_secs(1u64 << failures_in_a_row.saturating_sub(1).min(8));
    quick.min(interval)
}

/// Fetches, then keeps polling every `interval` (when given) until the sink says stop.
pub fn poll(
    target: &FetchTarget,
    interval: Option<Duration>,
    transport: &Transport,
    sink: &dyn PollSink,
) {
    let mut last_modified: Option<String> = None;
    let mut failures = 0u32;
    loop {
        match target.fetch(transport, last_modified.as_deref()) {
            Fetched::Datafile {
                datafile,
                last_modified: lm,
            } => {
                failures = 0;
                last_modified = lm;
                sink.fetched(datafile);
            }
            Fetched::NotModified => failures = 0,
            Fetched::Failed(cause) => {
                failures += 1;
                sink.failed(cause);
            }
        }
        let Some(interval) = interval else { return };
        if !sink.sleep(next_poll_delay(interval, sink.has_datafile(), failures)) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn odp(key: &str, host: &str) -> Option<OdpIntegration> {
        Some(OdpIntegration {
            public_key: key.into(),
            host: host.into(),
        })
    }

    #[test]
    fn reads_the_first_odp_integration() {
        let d = Datafile::parse(
            r#"{"version":"4","revision":"42","integrations":[
                {"key":"other","publicKey":"x","host":"https://x"},
                {"key":"odp","publicKey":"W4WzcEs-ABgXorzY7h1LCQ","host":"https://api.zaius.com"},
                {"key":"odp","publicKey":"second","host":"https://second"}]}"#,
        )
        .unwrap();
        assert_eq!(d.revision.as_deref(), Some("42"));
        assert_eq!(
            d.odp,
            odp("W4WzcEs-ABgXorzY7h1LCQ", "https://api.zaius.com")
        );
    }

    #[test]
    fn missing_fields_read_as_empty_and_no_integration_is_none() {
        let d = Datafile::parse(r#"{"version":"4","integrations":[{"key":"odp"}]}"#).unwrap();
        assert_eq!(d.odp, odp("", ""));
        let d = Datafile::parse(r#"{"version":"4"}"#).unwrap();
        assert_eq!(d.odp, None);
        assert_eq!(d.revision, None);
    }

    #[test]
    fn invalid_datafiles() {
        let cases = [
            ("{", "not valid JSON"),
            ("[]", "not a JSON object"),
            (r#"{"integrations":[]}"#, "\"version\" is missing"),
            (r#"{"version":4}"#, "\"version\" is not a string"),
            (r#"{"version":"3"}"#, "unsupported datafile version \"3\""),
            (
                r#"{"version":"4","integrations":{}}"#,
                "\"integrations\" is not an array",
            ),
            (
                r#"{"version":"4","integrations":[5]}"#,
                "integrations[0] is not an object",
            ),
            (
                r#"{"version":"4","integrations":[{"host":"h"}]}"#,
                "unsupported key in integrations",
            ),
        ];
        for (text, why) in cases {
            let e = Datafile::parse(text).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidDatafile, "{text}");
            assert!(e.detail().contains(why), "{text}: {}", e.detail());
        }
    }

    #[test]
    fn quick_retries_before_the_first_datafile() {
        let five_min = Duration::from_secs(300);
        assert_eq!(next_poll_delay(five_min, false, 0), five_min);
        assert_eq!(next_poll_delay(five_min, false, 1), Duration::from_secs(1));
        assert_eq!(next_poll_delay(five_min, false, 2), Duration::from_secs(2));
        assert_eq!(next_poll_delay(five_min, false, 5), Duration::from_secs(16));
        assert_eq!(
            next_poll_delay(five_min, false, 50),
            Duration::from_secs(256)
        );
        assert_eq!(
            next_poll_delay(Duration::from_millis(100), false, 3),
            Duration::from_millis(100)
        );
        assert_eq!(next_poll_delay(five_min, true, 3), five_min);
    }
}

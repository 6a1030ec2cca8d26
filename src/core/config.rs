//! Client options parsed from a JSON object (SPEC §2). Unknown keys are rejected by name so a
//! typo never silently falls back to a default.

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::{Error, ErrorKind, Result};

/// The default CDN URL of a datafile; `{sdk_key}` is replaced.
pub const CDN_URL_TEMPLATE: &str = "https://cdn.optimizely.com/datafiles/{sdk_key}.json";
/// The URL of an authenticated datafile (used with `datafile_access_token`).
pub const AUTH_URL_TEMPLATE: &str = "https://config.optimizely.com/datafiles/auth/{sdk_key}.json";

/// Where the ODP key and host come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Fetch the datafile by SDK key, in the background, and poll it.
    SdkKey {
        /// The SDK key.
        sdk_key: String,
        /// Sent as `Authorization: Bearer <token>` when present.
        access_token: Option<String>,
        /// The datafile URL with `{sdk_key}` already substituted.
        url: String,
        /// Time between polls; `None` fetches once.
        polling_interval: Option<Duration>,
    },
    /// A datafile given in the configuration (its JSON text).
    Datafile(String),
    /// No datafile: ODP is integrated with these values.
    Direct {
        /// The ODP public API key.
        api_key: String,
        /// The ODP API host (base URL with scheme).
        api_host: String,
    },
}

/// Validated client options.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where the ODP key and host come from.
    pub source: Source,
    /// When true every send fails with "ODP is not enabled".
    pub odp_disabled: bool,
    /// Events per request.
    pub batch_size: usize,
    /// How long an event may wait for its batch to fill; zero sends each event at once.
    pub flush_interval: Duration,
    /// Maximum events held (queued plus in flight).
    pub queue_capacity: usize,
    /// Timeout of one HTTP request, connection included.
    pub request_timeout: Duration,
    /// Attempts per batch in one flush.
    pub max_attempts: u32,
    /// Most requests in flight at once (one sender thread each, started only when batches back
    /// up).
    pub max_concurrent_requests: usize,
    /// Used by `odp_client_free` on a client that was not closed.
    pub shutdown_timeout: Duration,
    /// `data_source` of the common data.
    pub data_source: String,
    /// `data_source_version` of the common data.
    pub data_source_version: String,
    /// Largest accepted event input (type + action + identifiers + data), in bytes.
    pub max_event_bytes: usize,
    /// Allow `http://` ODP hosts other than loopback.
    pub allow_insecure_http: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: Source::Direct {
                api_key: String::new(),
                api_host: String::new(),
            },
            odp_disabled: false,
            batch_size: 10,
            flush_interval: Duration::from_millis(1000),
            queue_capacity: 10_000,
            request_timeout: Duration::from_millis(10_000),
            max_attempts: 3,
            max_concurrent_requests: 4,
            shutdown_timeout: Duration::from_millis(2000),
            data_source: "libodp".to_owned(),
            data_source_version: env!("CARGO_PKG_VERSION").to_owned(),
            max_event_bytes: 64 * 1024,
            allow_insecure_http: false,
        }
    }
}

/// Every key `Config::from_json` knows, for the "unknown key" message.
const KNOWN_KEYS: &[&str] = &[
    "sdk_key",
    "datafile_access_token",
    "datafile_url_template",
    "datafile_polling_interval_ms",
    "datafile",
    "odp_api_key",
    "odp_api_host",
    "odp_disabled",
    "batch_size",
    "flush_interval_ms",
    "queue_capacity",
    "request_timeout_ms",
    "max_attempts",
    "max_concurrent_requests",
    "shutdown_timeout_ms",
    "data_source",
    "data_source_version",
    "max_event_bytes",
    "allow_insecure_http",
];

fn invalid(key: &str, why: impl std::fmt::Display) -> Error {
    Error::with_detail(
        ErrorKind::InvalidConfig,
        format!("invalid configuration: \"{key}\" {why}"),
    )
}

/// Removes the keys of an object one by one, so that whatever is left at the end is unknown.
struct Fields(Map<String, Value>);

impl Fields {
    fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(key, "must be a string")),
        }
    }

    fn non_empty_string(&mut self, key: &str) -> Result<Option<String>> {
        match self.string(key)? {
            Some(s) if s.is_empty() => Err(invalid(key, "must not be empty")),
            other => Ok(other),
        }
    }

    fn bool(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(invalid(key, "must be true or false")),
        }
    }

    fn integer(&mut self, key: &str, range: std::ops::RangeInclusive<u64>) -> Result<Option<u64>> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if range.contains(&v) => Ok(Some(v)),
                _ => Err(invalid(
                    key,
                    format_args!(
                        "must be an integer from {} to {} (got {n})",
                        range.start(),
                        range.end()
                    ),
                )),
            },
            Some(_) => Err(invalid(key, "must be an integer")),
        }
    }

    fn millis(
        &mut self,
        key: &str,
        range: std::ops::RangeInclusive<u64>,
        default: Duration,
    ) -> Result<Duration> {
        Ok(self
            .integer(key, range)?
            .map_or(default, Duration::from_millis))
    }
}

/// Largest accepted millisecond value: about 49 days, the range of the C API's `uint32_t`.
const MAX_MILLIS: u64 = u32::MAX as u64;

impl Config {
    /// Parses and validates a configuration object given as JSON text.
    ///
    /// Errors: `InvalidJson` when the text is not JSON; `InvalidConfig`, naming the key, for
    /// anything else; `InvalidDatafile` when a static `datafile` is given and is not valid.
    pub fn from_json(text: &str) -> Result<Config> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::with_detail(
                ErrorKind::InvalidJson,
                format!("configuration is not valid JSON: {e}"),
            )
        })?;
        let Value::Object(map) = value else {
            return Err(Error::with_detail(
                ErrorKind::InvalidConfig,
                "invalid configuration: must be a JSON object",
            ));
        };
        Self::from_map(map)
    }

    fn from_map(map: Map<String, Value>) -> Result<Config> {
        // Report the first unknown key (in sorted order, so the message is stable).
        if let Some(key) = map.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            return Err(Error::with_detail(
                ErrorKind::InvalidConfig,
                format!("invalid configuration: unknown key \"{key}\""),
            ));
        }
        let mut f = Fields(map);
        let defaults = Config::default();

        let source = Self::source(&mut f)?;
        let batch_size = f.integer("batch_size", 1..=1000)?.unwrap_or(10) as usize;
        let queue_capacity = f
            .integer("queue_capacity", 1..=10_000_000)?
            .unwrap_or(10_000) as usize;
        let config = Config {
            source,
            odp_disabled: f.bool("odp_disabled", false)?,
            // A batch can never be larger than the queue that feeds it.
            batch_size: batch_size.min(queue_capacity),
            flush_interval: f.millis(
                "flush_interval_ms",
                0..=MAX_MILLIS,
                defaults.flush_interval,
            )?,
            queue_capacity,
            request_timeout: f.millis(
                "request_timeout_ms",
                1..=MAX_MILLIS,
                defaults.request_timeout,
            )?,
            max_attempts: f.integer("max_attempts", 1..=100)?.unwrap_or(3) as u32,
            max_concurrent_requests: f
                .integer("max_concurrent_requests", 1..=64)?
                .map_or(defaults.max_concurrent_requests, |v| v as usize),
            shutdown_timeout: f.millis(
                "shutdown_timeout_ms",
                0..=MAX_MILLIS,
                defaults.shutdown_timeout,
            )?,
            data_source: f.string("data_source")?.unwrap_or(defaults.data_source),
            data_source_version: f
                .string("data_source_version")?
                .unwrap_or(defaults.data_source_version),
            max_event_bytes: f
                .integer("max_event_bytes", 1..=64 * 1024 * 1024)?
                .map_or(defaults.max_event_bytes, |v| v as usize),
            allow_insecure_http: f.bool("allow_insecure_http", false)?,
        };
        debug_assert!(f.0.is_empty(), "a known key was not consumed: {:?}", f.0);
        Ok(config)
    }

    fn source(f: &mut Fields) -> Result<Source> {
        let sdk_key = f.non_empty_string("sdk_key")?;
        let datafile = match f.0.remove("datafile") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(v @ Value::Object(_)) => Some(v.to_string()),
            Some(_) => {
                return Err(invalid(
                    "datafile",
                    "must be a JSON object or a string holding one",
                ))
            }
        };
        let api_key = f.non_empty_string("odp_api_key")?;
        let api_host = f.non_empty_string("odp_api_host")?;
        let access_token = f.non_empty_string("datafile_access_token")?;
        let url_template = f.non_empty_string("datafile_url_template")?;
        let polling = f.integer("datafile_polling_interval_ms", 0..=MAX_MILLIS)?;

        let direct = api_key.is_some() || api_host.is_some();
        let sources = [sdk_key.is_some(), datafile.is_some(), direct];
        if sources.iter().filter(|s| **s).count() > 1 {
            let named: Vec<&str> = [
                "\"sdk_key\"",
                "\"datafile\"",
                "\"odp_api_key\"/\"odp_api_host\"",
            ]
            .into_iter()
            .zip(sources)
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
            return Err(Error::with_detail(
                ErrorKind::InvalidConfig,
                format!(
                    "invalid configuration: give only one of {}",
                    named.join(" and ")
                ),
            ));
        }
        if sdk_key.is_none() {
            for (key, set) in [
                ("datafile_access_token", access_token.is_some()),
                ("datafile_url_template", url_template.is_some()),
                ("datafile_polling_interval_ms", polling.is_some()),
            ] {
                if set {
                    return Err(invalid(key, "is only valid with \"sdk_key\""));
                }
            }
        }

        // These end up in a URL path and a header: refuse anything that could change either.
        if let Some(k) = &sdk_key {
            if !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
            {
                return Err(invalid(
                    "sdk_key",
                    "may hold only letters, digits and - _ . :",
                ));
            }
        }
        if let Some(t) = &access_token {
            if !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    "datafile_access_token",
                    "holds control, space or non-ASCII characters",
                ));
            }
        }
        if let Some(sdk_key) = sdk_key {
            let template = url_template.unwrap_or_else(|| {
                if access_token.is_some() {
                    AUTH_URL_TEMPLATE
                } else {
                    CDN_URL_TEMPLATE
                }
                .to_owned()
            });
            if !template.contains("{sdk_key}") {
                return Err(invalid(
                    "datafile_url_template",
                    "must contain \"{sdk_key}\"",
                ));
            }
            if !(template.starts_with("http://") || template.starts_with("https://")) {
                return Err(invalid(
                    "datafile_url_template",
                    "must start with http:// or https://",
                ));
            }
            let polling = polling.unwrap_or(300_000);
            return Ok(Source::SdkKey {
                url: template.replace("{sdk_key}", &sdk_key),
                sdk_key,
                access_token,
                polling_interval: (polling > 0).then(|| Duration::from_millis(polling)),
            });
        }
        if let Some(datafile) = datafile {
            return Ok(Source::Datafile(datafile));
        }
        match (api_key, api_host) {
            (Some(api_key), Some(api_host)) => Ok(Source::Direct { api_key, api_host }),
            (Some(_), None) => Err(invalid(
                "odp_api_host",
                "is required together with \"odp_api_key\"",
            )),
            (None, Some(_)) => Err(invalid(
                "odp_api_key",
                "is required together with \"odp_api_host\"",
            )),
            (None, None) => Err(Error::with_detail(
                ErrorKind::InvalidConfig,
                "invalid configuration: give one of \"sdk_key\", \"datafile\" or \"odp_api_key\" + \"odp_api_host\"",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> Error {
        Config::from_json(json).unwrap_err()
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::from_json(r#"{"sdk_key":"AbC123"}"#).unwrap();
        assert_eq!(c.batch_size, 10);
        assert_eq!(c.flush_interval, Duration::from_secs(1));
        assert_eq!(c.queue_capacity, 10_000);
        assert_eq!(c.request_timeout, Duration::from_secs(10));
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.max_concurrent_requests, 4);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(2));
        assert_eq!(c.data_source, "libodp");
        assert_eq!(c.data_source_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(c.max_event_bytes, 65536);
        assert!(!c.odp_disabled);
        assert_eq!(
            c.source,
            Source::SdkKey {
                sdk_key: "AbC123".into(),
                access_token: None,
                url: "https://cdn.optimizely.com/datafiles/AbC123.json".into(),
                polling_interval: Some(Duration::from_secs(300)),
            }
        );
    }

    #[test]
    fn access_token_selects_the_authenticated_url() {
        let c = Config::from_json(r#"{"sdk_key":"k","datafile_access_token":"t"}"#).unwrap();
        let Source::SdkKey {
            url, access_token, ..
        } = c.source
        else {
            panic!()
        };
        assert_eq!(url, "https://config.optimizely.com/datafiles/auth/k.json");
        assert_eq!(access_token.as_deref(), Some("t"));
    }

    #[test]
    fn url_template_and_polling_zero() {
        let c = Config::from_json(
            r#"{"sdk_key":"k","datafile_url_template":"http://127.0.0.1:9/d/{sdk_key}.json","datafile_polling_interval_ms":0}"#,
        )
        .unwrap();
        let Source::SdkKey {
            url,
            polling_interval,
            ..
        } = c.source
        else {
            panic!()
        };
        assert_eq!(url, "http://127.0.0.1:9/d/k.json");
        assert_eq!(polling_interval, None);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err(r#"{"sdk_key":"k","batch_sise":5}"#);
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert_eq!(
            e.detail(),
            "invalid configuration: unknown key \"batch_sise\""
        );
    }

    #[test]
    fn wrong_types_and_ranges_name_the_key() {
        let cases = [
            (r#"{"sdk_key":5}"#, "\"sdk_key\" must be a string"),
            (r#"{"sdk_key":""}"#, "\"sdk_key\" must not be empty"),
            (
                r#"{"sdk_key":"k","batch_size":0}"#,
                "\"batch_size\" must be an integer from 1 to 1000 (got 0)",
            ),
            (
                r#"{"sdk_key":"k","batch_size":1001}"#,
                "\"batch_size\" must be an integer from 1 to 1000 (got 1001)",
            ),
            (
                r#"{"sdk_key":"k","batch_size":2.5}"#,
                "\"batch_size\" must be an integer from 1 to 1000 (got 2.5)",
            ),
            (
                r#"{"sdk_key":"k","batch_size":"10"}"#,
                "\"batch_size\" must be an integer",
            ),
            (
                r#"{"sdk_key":"k","flush_interval_ms":-1}"#,
                "\"flush_interval_ms\" must be an integer from 0 to 4294967295 (got -1)",
            ),
            (
                r#"{"sdk_key":"k","queue_capacity":0}"#,
                "\"queue_capacity\" must be an integer from 1 to 10000000 (got 0)",
            ),
            (
                r#"{"sdk_key":"k","request_timeout_ms":0}"#,
                "\"request_timeout_ms\" must be an integer from 1 to 4294967295 (got 0)",
            ),
            (
                r#"{"sdk_key":"k","max_attempts":0}"#,
                "\"max_attempts\" must be an integer from 1 to 100 (got 0)",
            ),
            (
                r#"{"sdk_key":"k","max_concurrent_requests":65}"#,
                "\"max_concurrent_requests\" must be an integer from 1 to 64 (got 65)",
            ),
            (
                r#"{"sdk_key":"k","odp_disabled":"yes"}"#,
                "\"odp_disabled\" must be true or false",
            ),
            (
                r#"{"sdk_key":"k","data_source":1}"#,
                "\"data_source\" must be a string",
            ),
            (
                r#"{"datafile":5}"#,
                "\"datafile\" must be a JSON object or a string holding one",
            ),
            (
                r#"{"odp_api_key":"k"}"#,
                "\"odp_api_host\" is required together with \"odp_api_key\"",
            ),
            (
                r#"{"odp_api_host":"https://h"}"#,
                "\"odp_api_key\" is required together with \"odp_api_host\"",
            ),
            (
                r#"{"datafile":"{}","datafile_access_token":"t"}"#,
                "\"datafile_access_token\" is only valid with \"sdk_key\"",
            ),
            (
                r#"{"sdk_key":"k","datafile_url_template":"http://x/"}"#,
                "\"datafile_url_template\" must contain \"{sdk_key}\"",
            ),
        ];
        for (json, why) in cases {
            let e = err(json);
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{json}");
            assert_eq!(
                e.detail(),
                format!("invalid configuration: {why}"),
                "{json}"
            );
        }
    }

    #[test]
    fn exactly_one_source() {
        let e = err(r#"{"sdk_key":"k","datafile":{}}"#);
        assert_eq!(
            e.detail(),
            "invalid configuration: give only one of \"sdk_key\" and \"datafile\""
        );
        let e = err(r#"{}"#);
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.detail().contains("give one of"), "{}", e.detail());
    }

    #[test]
    fn not_json_or_not_an_object() {
        assert_eq!(err("{").kind(), ErrorKind::InvalidJson);
        assert_eq!(err("[]").kind(), ErrorKind::InvalidConfig);
    }

    #[test]
    fn datafile_object_is_kept_as_text() {
        let c = Config::from_json(r#"{"datafile":{"version":"4"}}"#).unwrap();
        assert_eq!(c.source, Source::Datafile(r#"{"version":"4"}"#.into()));
    }

    #[test]
    fn batch_is_capped_by_capacity() {
        let c = Config::from_json(
            r#"{"odp_api_key":"k","odp_api_host":"https://h","queue_capacity":4}"#,
        )
        .unwrap();
        assert_eq!(c.batch_size, 4);
    }
}

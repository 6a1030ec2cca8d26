//! A local ODP-compatible collector: `POST /v3/events` validated the way ODP validates it (202 or
//! 400 with ODP's error body), a datafile at `GET /datafiles/{sdk_key}.json` (and the
//! authenticated `/datafiles/auth/{sdk_key}.json`), duplicate counting by `idempotence_id`, and
//! fault injection. Used by the Rust tests, the C tests, the demo and the benchmarks.

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::{HttpServer, Reply, Request};

/// Decides a fault for the `n`-th events request (0-based); `None` answers normally.
pub type Fault = dyn Fn(&Request, usize) -> Option<Reply> + Send + Sync;

/// Decides a fault for a datafile request; `None` answers normally.
pub type DatafileFault = dyn Fn(&Request) -> Option<Reply> + Send + Sync;

/// How the collector behaves.
#[derive(Default)]
pub struct CollectorConfig {
    /// Port to listen on; 0 picks one.
    pub port: u16,
    /// When set, events requests must carry this `x-api-key`.
    pub api_key: Option<String>,
    /// The SDK key whose datafile is served.
    pub sdk_key: Option<String>,
    /// Bearer token required by `/datafiles/auth/{sdk_key}.json`.
    pub access_token: Option<String>,
    /// Answer the first N events requests with `fail_status`.
    pub fail_first: usize,
    pub fail_status: u16,
    /// Delay every events answer.
    pub delay: Duration,
    /// Write each accepted event as a JSON line here.
    pub events_out: Option<Box<dyn Write + Send>>,
    /// Benchmarks: only check that bodies are JSON arrays and count their events; keep, write
    /// and de-duplicate nothing.
    pub count_only: bool,
}

#[derive(Default)]
struct Received {
    events: Vec<Value>,
    requests: Vec<Request>,
    ids: HashSet<String>,
    event_count: usize,
    duplicates: usize,
    rejected_requests: usize,
}

struct Datafile {
    text: String,
    last_modified: String,
    version: u64,
}

struct Inner {
    config: Mutex<CollectorConfig>,
    received: Mutex<Received>,
    arrived: Condvar,
    fault: Mutex<Option<Arc<Fault>>>,
    events_requests: AtomicUsize,
    datafile: Mutex<Option<Datafile>>,
    datafile_requests: Mutex<Vec<Request>>,
    datafile_fault: Mutex<Option<Arc<DatafileFault>>>,
}

/// A running collector; stops when dropped.
pub struct Collector {
    server: Mutex<Option<HttpServer>>,
    port: u16,
    inner: Arc<Inner>,
}

fn bad_request(invalids: Vec<Value>) -> Reply {
    Reply::json(
        400,
        json!({"title": "Bad Request", "status": 400, "timestamp": now_iso(), "detail": {"invalids": invalids}}).to_string(),
    )
}

fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Days to a civil date (Howard Hinnant's algorithm).
    let days = secs / 86_400;
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// ODP's checks on one event; the messages follow ODP's `invalids` entries.
fn check_event(i: usize, event: &Value) -> Vec<Value> {
    let mut invalids = Vec::new();
    let Some(obj) = event.as_object() else {
        return vec![json!({"event": i, "message": "event must be an object"})];
    };
    for field in ["type", "action", "identifiers", "data"] {
        if !obj.contains_key(field) {
            invalids.push(json!({"event": i, "message": format!("missing '{field}' field")}));
        }
    }
    for field in ["type", "action"] {
        if obj.get(field).is_some_and(|v| !v.is_string()) {
            invalids.push(json!({"event": i, "message": format!("'{field}' must be a string")}));
        }
    }
    match obj.get("identifiers") {
        Some(Value::Object(ids)) => {
            if ids.is_empty() {
                invalids.push(json!({"event": i, "message": "'identifiers' must not be empty"}));
            }
            for (k, v) in ids {
                if !v.is_string() {
                    invalids.push(json!({"event": i, "message": format!("identifier '{k}' must be a string")}));
                }
            }
        }
        Some(_) => invalids.push(json!({"event": i, "message": "'identifiers' must be an object"})),
        None => {}
    }
    if obj.get("data").is_some_and(|v| !v.is_object()) {
        invalids.push(json!({"event": i, "message": "'data' must be an object"}));
    }
    invalids
}

impl Inner {
    fn handle(&self, request: &Request) -> Reply {
        let path = request.path.split('?').next().unwrap_or("");
        match (request.method.as_str(), path) {
            ("POST", "/v3/events") => self.events(request),
            ("GET", p) if p.starts_with("/datafiles/") => self.datafile(request, p),
            ("GET", "/health") => Reply::json(200, "{\"ok\":true}"),
            ("GET", "/_received") => self.report(),
            (_, "/v3/events") => Reply::status(405),
            _ => Reply::json(404, "{\"title\":\"Not Found\",\"status\":404}"),
        }
    }

    fn events(&self, request: &Request) -> Reply {
        let n = self.events_requests.fetch_add(1, Ordering::SeqCst);
        let fault = self.fault.lock().unwrap().clone();
        match fault.and_then(|f| f(request, n)) {
            Some(Reply::Process(inner)) => {
                // Take the events as a healthy server would, then lose the answer.
                if let Ok(Value::Array(events)) = serde_json::from_slice::<Value>(&request.body) {
                    self.accept(request, events);
                }
                return *inner;
            }
            Some(reply) => {
                self.record_request(request, false);
                return reply;
            }
            None => {}
        }
        let (fail_first, fail_status, delay, api_key) = {
            let c = self.config.lock().unwrap();
            (c.fail_first, c.fail_status, c.delay, c.api_key.clone())
        };
        let reply = self.judge(request, n < fail_first, fail_status, api_key.as_deref());
        if delay.is_zero() {
            reply
        } else {
            Reply::Delay(delay, Box::new(reply))
        }
    }

    fn judge(
        &self,
        request: &Request,
        fail: bool,
        fail_status: u16,
        api_key: Option<&str>,
    ) -> Reply {
        if fail {
            self.record_request(request, false);
            return Reply::json(
                fail_status,
                json!({"title": "Injected failure", "status": fail_status}).to_string(),
            );
        }
        if let Some(key) = api_key {
            if request.header("x-api-key") != Some(key) {
                self.record_request(request, false);
                return bad_request(vec![
                    json!({"event": null, "message": "invalid or missing x-api-key"}),
                ]);
            }
        }
        if self.config.lock().unwrap().count_only {
            return self.count_only(request);
        }
        let events = match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Array(events)) => events,
            Ok(_) => {
                self.record_request(request, false);
                return bad_request(vec![
                    json!({"event": null, "message": "body must be a JSON array of events"}),
                ]);
            }
            Err(e) => {
                self.record_request(request, false);
                return bad_request(vec![
                    json!({"event": null, "message": format!("body is not JSON: {e}")}),
                ]);
            }
        };
        let invalids: Vec<Value> = events
            .iter()
            .enumerate()
            .flat_map(|(i, e)| check_event(i, e))
            .collect();
        if !invalids.is_empty() {
            self.record_request(request, false);
            return bad_request(invalids);
        }
        self.accept(request, events);
        Reply::json(
            202,
            json!({"title": "Accepted", "status": 202, "timestamp": now_iso()}).to_string(),
        )
    }

    /// Benchmark mode: checks only that the body is a JSON array and counts its elements, so the
    /// collector costs every client as little as possible and the same.
    fn count_only(&self, request: &Request) -> Reply {
        match serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&request.body) {
            Ok(events) => {
                let mut r = self.received.lock().unwrap();
                r.event_count += events.len();
                self.arrived.notify_all();
                Reply::json(202, &br#"{"title":"Accepted","status":202}"#[..])
            }
            Err(e) => {
                self.received.lock().unwrap().rejected_requests += 1;
                bad_request(vec![
                    json!({"event": null, "message": format!("body is not a JSON array: {e}")}),
                ])
            }
        }
    }

    fn record_request(&self, request: &Request, accepted: bool) {
        // Lock order everywhere: config, then received.
        let count_only = self.config.lock().unwrap().count_only;
        let mut r = self.received.lock().unwrap();
        if !accepted {
            r.rejected_requests += 1;
        }
        if !count_only {
            r.requests.push(request.clone());
        }
    }

    fn accept(&self, request: &Request, events: Vec<Value>) {
        let mut config = self.config.lock().unwrap();
        let mut r = self.received.lock().unwrap();
        if !config.count_only {
            r.requests.push(request.clone());
        }
        for event in events {
            if let Some(id) = event
                .pointer("/data/idempotence_id")
                .and_then(Value::as_str)
            {
                if !r.ids.insert(id.to_owned()) {
                    r.duplicates += 1;
                    continue;
                }
            }
            r.event_count += 1;
            if let Some(out) = config.events_out.as_mut() {
                let _ = writeln!(out, "{event}");
                let _ = out.flush();
            }
            if !config.count_only {
                r.events.push(event);
            }
        }
        self.arrived.notify_all();
    }

    /// What arrived so far, for tests in other languages: unique events, every events request
    /// (headers and raw body), and the duplicate count.
    fn report(&self) -> Reply {
        let r = self.received.lock().unwrap();
        let requests: Vec<Value> = r
            .requests
            .iter()
            .map(|q| {
                json!({
                    "method": q.method,
                    "path": q.path,
                    "headers": q.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                    "body": String::from_utf8_lossy(&q.body),
                })
            })
            .collect();
        let body = json!({
            "events": r.events,
            "event_count": r.event_count,
            "duplicates": r.duplicates,
            "requests": requests,
        });
        Reply::json(200, body.to_string())
    }

    fn datafile(&self, request: &Request, path: &str) -> Reply {
        self.datafile_requests.lock().unwrap().push(request.clone());
        let fault = self.datafile_fault.lock().unwrap().clone();
        if let Some(reply) = fault.and_then(|f| f(request)) {
            return reply;
        }
        let (sdk_key, token) = {
            let c = self.config.lock().unwrap();
            (c.sdk_key.clone(), c.access_token.clone())
        };
        let (authenticated, requested) = match path.strip_prefix("/datafiles/auth/") {
            Some(rest) => (true, rest),
            None => (false, path.trim_start_matches("/datafiles/")),
        };
        let requested = requested.trim_end_matches(".json");
        if sdk_key.as_deref() != Some(requested) {
            return Reply::json(403, "{\"message\":\"Forbidden\"}");
        }
        if authenticated {
            let expected = token.map(|t| format!("Bearer {t}"));
            if expected.is_none() || request.header("authorization") != expected.as_deref() {
                return Reply::json(403, "{\"message\":\"Forbidden\"}");
            }
        }
        let datafile = self.datafile.lock().unwrap();
        let Some(d) = datafile.as_ref() else {
            return Reply::json(404, "{\"message\":\"Not Found\"}");
        };
        if request.header("if-modified-since") == Some(d.last_modified.as_str()) {
            return Reply::status(304).with_header("last-modified", &d.last_modified);
        }
        Reply::json(200, d.text.clone()).with_header("last-modified", &d.last_modified)
    }
}

/// A datafile (version 4) whose ODP integration points at `host` with `public_key`.
pub fn datafile_json(revision: &str, public_key: &str, host: &str) -> String {
    json!({
        "version": "4",
        "revision": revision,
        "projectId": "1",
        "accountId": "1",
        "experiments": [],
        "audiences": [],
        "attributes": [],
        "events": [],
        "integrations": [{"key": "odp", "publicKey": public_key, "host": host}]
    })
    .to_string()
}

impl Collector {
    pub fn start(config: CollectorConfig) -> std::io::Result<Collector> {
        let port = config.port;
        let inner = Arc::new(Inner {
            config: Mutex::new(config),
            received: Mutex::new(Received::default()),
            arrived: Condvar::new(),
            fault: Mutex::new(None),
            events_requests: AtomicUsize::new(0),
            datafile: Mutex::new(None),
            datafile_requests: Mutex::new(Vec::new()),
            datafile_fault: Mutex::new(None),
        });
        let server = Self::listen(&inner, port)?;
        let collector = Collector {
            port: server.port(),
            server: Mutex::new(Some(server)),
            inner,
        };
        // By default the datafile points ODP at this collector.
        let key = collector
            .inner
            .config
            .lock()
            .unwrap()
            .api_key
            .clone()
            .unwrap_or_else(|| "test-public-key".into());
        collector.set_datafile(&datafile_json("1", &key, &collector.url()));
        Ok(collector)
    }

    fn listen(inner: &Arc<Inner>, port: u16) -> std::io::Result<HttpServer> {
        let handler_inner = inner.clone();
        HttpServer::start(port, Arc::new(move |r: &Request| handler_inner.handle(r)))
    }

    /// Stops listening (connections are refused, open ones reset) or listens again on the
    /// same port, keeping everything received.
    pub fn set_down(&self, down: bool) {
        let mut server = self.server.lock().unwrap();
        if down {
            *server = None;
        } else if server.is_none() {
            // The old listener's thread may take a moment to let go of the port.
            for _ in 0..100 {
                match Self::listen(&self.inner, self.port) {
                    Ok(s) => {
                        *server = Some(s);
                        return;
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            panic!("cannot listen on port {} again", self.port);
        }
    }

    /// Resets chosen connections as soon as they are accepted.
    pub fn set_accept_fault(&self, fault: impl Fn(usize) -> bool + Send + Sync + 'static) {
        if let Some(s) = self.server.lock().unwrap().as_ref() {
            s.set_accept_fault(Some(Arc::new(fault)));
        }
    }

    pub fn clear_accept_fault(&self) {
        if let Some(s) = self.server.lock().unwrap().as_ref() {
            s.set_accept_fault(None);
        }
    }

    /// A collector on a free port that accepts any key.
    pub fn new() -> Collector {
        Collector::start(CollectorConfig {
            sdk_key: Some("AbC123".into()),
            ..CollectorConfig::default()
        })
        .expect("collector")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn connections_accepted(&self) -> usize {
        self.server
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, HttpServer::connections_accepted)
    }

    /// A `datafile_url_template` pointing at this collector.
    pub fn datafile_url_template(&self) -> String {
        format!("{}/datafiles/{{sdk_key}}.json", self.url())
    }

    /// Serves a new datafile (with a new `Last-Modified`).
    pub fn set_datafile(&self, text: &str) {
        let mut d = self.inner.datafile.lock().unwrap();
        let version = d.as_ref().map_or(1, |d| d.version + 1);
        *d = Some(Datafile {
            text: text.to_owned(),
            last_modified: format!(
                "Tue, 01 Jan 2030 00:{:02}:{:02} GMT",
                (version / 60) % 60,
                version % 60
            ),
            version,
        });
    }

    /// Injects faults into events requests.
    pub fn set_fault(
        &self,
        fault: impl Fn(&Request, usize) -> Option<Reply> + Send + Sync + 'static,
    ) {
        *self.inner.fault.lock().unwrap() = Some(Arc::new(fault));
    }

    pub fn clear_fault(&self) {
        *self.inner.fault.lock().unwrap() = None;
    }

    /// Injects faults into datafile requests.
    pub fn set_datafile_fault(
        &self,
        fault: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
    ) {
        *self.inner.datafile_fault.lock().unwrap() = Some(Arc::new(fault));
    }

    pub fn clear_datafile_fault(&self) {
        *self.inner.datafile_fault.lock().unwrap() = None;
    }

    /// Unique events accepted, in arrival order.
    pub fn events(&self) -> Vec<Value> {
        self.inner.received.lock().unwrap().events.clone()
    }

    /// Unique events accepted.
    pub fn event_count(&self) -> usize {
        self.inner.received.lock().unwrap().event_count
    }

    /// Events that repeated an `idempotence_id` already accepted.
    pub fn duplicates(&self) -> usize {
        self.inner.received.lock().unwrap().duplicates
    }

    /// Events requests received (accepted or not; faults included).
    pub fn requests(&self) -> Vec<Request> {
        self.inner.received.lock().unwrap().requests.clone()
    }

    /// Events requests received, counted even in `count_only` mode.
    pub fn request_count(&self) -> usize {
        self.inner.events_requests.load(Ordering::SeqCst)
    }

    pub fn datafile_requests(&self) -> Vec<Request> {
        self.inner.datafile_requests.lock().unwrap().clone()
    }

    /// Waits until at least `n` unique events arrived.
    pub fn wait_for_events(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut r = self.inner.received.lock().unwrap();
        while r.event_count < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            r = self
                .inner
                .arrived
                .wait_timeout(r, deadline - now)
                .unwrap()
                .0;
        }
        true
    }
}

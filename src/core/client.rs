//! The client: configuration, datafile state, queue and background threads tied together. This
//! is the Rust API the FFI layer wraps; it never knows it is called from C.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::config::{Config, Source};
use super::datafile::{self, Datafile, FetchTarget, PollSink};
use super::dispatcher::{self, Hold};
use super::error::{events, Error, ErrorKind, Result};
use super::event::{self, CommonData, EventInput};
use super::fork;
use super::log::{log, Level};
use super::queue::{Queue, Stats};
use super::routes::Routes;
use super::transport::{Destination, Transport};

/// Where a client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Open,
    /// `close` was called; the dispatcher drains until the deadline.
    Closing {
        deadline: Instant,
    },
    Closed,
}

/// Whether a datafile has been applied.
#[derive(Debug)]
pub(crate) enum DatafileState {
    /// None yet: the cause of the last failed fetch, and whether fetching has stopped for good.
    Missing {
        cause: Option<String>,
        fetching_ended: bool,
    },
    /// One was applied, with this revision.
    Loaded { revision: Option<String> },
}

/// Everything that changes, behind one lock. Nothing holds this lock across I/O, a sleep or a
/// call into user code (the log sink).
pub(crate) struct State {
    pub(crate) lifecycle: Lifecycle,
    pub(crate) queue: Queue,
    pub(crate) routes: Routes,
    pub(crate) datafile: DatafileState,
    pub(crate) transport: Transport,
    /// Sender threads alive (at most `max_concurrent_requests`; started as the queue backs up).
    pub(crate) senders: usize,
    /// Sender threads parked on `dispatcher_cv` waiting for work.
    pub(crate) senders_idle: usize,
    /// A wake-up was sent and no sender has taken it yet (so the next one is not needed).
    pub(crate) wake_pending: bool,
    /// Threads in `flush`, `close` or `wait_ready` waiting on `progress_cv`.
    pub(crate) progress_waiters: usize,
    /// Threads blocked in `flush`; while any wait, the dispatcher sends without waiting for
    /// batches to fill.
    pub(crate) flush_waiters: usize,
    /// When the oldest queued event's batch window ends.
    pub(crate) due_at: Option<Instant>,
    /// Set after a flush whose retries all failed: no sends before it ends.
    pub(crate) hold: Option<Hold>,
    /// The fork epoch these threads and this queue belong to.
    fork_epoch: u32,
}

/// What the client and its threads share.
pub(crate) struct Shared {
    pub(crate) config: Config,
    common: CommonData,
    pub(crate) state: Mutex<State>,
    /// Wakes idle senders: new work, close.
    pub(crate) dispatcher_cv: Condvar,
    /// Interrupts senders pausing before a retry: close.
    pub(crate) pause_cv: Condvar,
    /// Wakes the datafile poller (close).
    poller_cv: Condvar,
    /// Wakes `flush`, `close` and `wait_ready` callers when something settled or loaded.
    pub(crate) progress_cv: Condvar,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock is a libodp bug that already surfaced as
        // ODP_ERR_INTERNAL; the counters are still consistent, so carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits on `progress_cv` for at most `timeout`, counted as a waiter so that progress is
    /// only signalled (a system call) when someone listens.
    pub(crate) fn wait_for_progress<'a>(
        &self,
        mut st: MutexGuard<'a, State>,
        timeout: Duration,
    ) -> MutexGuard<'a, State> {
        st.progress_waiters += 1;
        let mut st = self
            .progress_cv
            .wait_timeout(st, timeout)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        st.progress_waiters -= 1;
        st
    }

    /// Tells `flush`, `close` and `wait_ready` callers that something settled or loaded.
    pub(crate) fn progress(&self, st: &State) {
        if st.progress_waiters > 0 {
            self.progress_cv.notify_all();
        }
    }

    /// Wakes an idle sender, if one is parked and none has been woken already.
    pub(crate) fn wake_dispatcher(&self, st: &mut State) {
        if st.senders_idle > 0 && !st.wake_pending {
            st.wake_pending = true;
            self.dispatcher_cv.notify_one();
        }
    }
}

/// An ODP client. Cheap to share across threads (`&Client` is all any method needs).
/// Dropping an open client closes it with the configured `shutdown_timeout`.
pub struct Client {
    shared: Arc<Shared>,
}

fn not_integrated(reason: &str) -> Error {
    if reason.is_empty() {
        Error::new(ErrorKind::OdpNotIntegrated)
    } else {
        Error::because(ErrorKind::OdpNotIntegrated, reason)
    }
}

/// The destination a datafile names; `Err("")` when it names none (plain "not integrated").
fn destination_of(datafile: &Datafile, allow_insecure_http: bool) -> Result<Destination, String> {
    match &datafile.odp {
        Some(odp) if !odp.public_key.is_empty() && !odp.host.is_empty() => {
            Destination::new(&odp.public_key, &odp.host, allow_insecure_http)
        }
        _ => Err(String::new()),
    }
}

fn describe(destination: &Result<Destination, String>) -> String {
    match destination {
        Ok(d) => format!("ODP events go to {}", d.events_url()),
        Err(why) if why.is_empty() => "ODP is not integrated".to_owned(),
        Err(why) => format!("ODP is not integrated: {why}"),
    }
}

fn revision_text(revision: &Option<String>) -> String {
    match revision {
        Some(r) => format!("revision {r}"),
        None => "no revision".to_owned(),
    }
}

fn saturating_deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365))
}

impl Client {
    /// Creates a client and starts its background threads.
    ///
    /// Errors: `InvalidConfig` for a direct key/host that cannot be used; `InvalidDatafile` for an
    /// invalid static datafile; `Internal` when a thread cannot be started.
    pub fn new(config: Config) -> Result<Client> {
        let (routes, datafile) = match &config.source {
            Source::Direct { api_key, api_host } => {
                let dest = Destination::new(api_key, api_host, config.allow_insecure_http).map_err(|why| {
                    Error::with_detail(
                        ErrorKind::InvalidConfig,
                        format!("invalid configuration: \"odp_api_host\"/\"odp_api_key\" cannot be used: {why}"),
                    )
                })?;
                (
                    Routes::new(Ok(dest)),
                    DatafileState::Loaded { revision: None },
                )
            }
            Source::Datafile(text) => {
                let datafile = Datafile::parse(text)?;
                let dest = destination_of(&datafile, config.allow_insecure_http);
                log!(
                    Level::Info,
                    "datafile loaded ({}); {}",
                    revision_text(&datafile.revision),
                    describe(&dest)
                );
                (
                    Routes::new(dest),
                    DatafileState::Loaded {
                        revision: datafile.revision,
                    },
                )
            }
            Source::SdkKey { .. } => (
                Routes::new(Err(String::new())),
                DatafileState::Missing {
                    cause: None,
                    fetching_ended: false,
                },
            ),
        };
        let shared = Arc::new(Shared {
            common: CommonData::new(&config.data_source, &config.data_source_version),
            state: Mutex::new(State {
                lifecycle: Lifecycle::Open,
                queue: Queue::new(config.queue_capacity),
                routes,
                datafile,
                transport: Transport::new(config.max_concurrent_requests),
                senders: 0,
                senders_idle: 0,
                wake_pending: false,
                progress_waiters: 0,
                flush_waiters: 0,
                due_at: None,
                hold: None,
                fork_epoch: fork::epoch(),
            }),
            config,
            dispatcher_cv: Condvar::new(),
            pause_cv: Condvar::new(),
            poller_cv: Condvar::new(),
            progress_cv: Condvar::new(),
        });
        {
            let mut st = shared.lock();
            if let Err(e) = start_workers(&shared, &mut st) {
                // Let whichever thread did start exit.
                st.lifecycle = Lifecycle::Closed;
                shared.dispatcher_cv.notify_all();
                shared.pause_cv.notify_all();
                shared.poller_cv.notify_all();
                return Err(e);
            }
        }
        fork::register(&shared);
        Ok(Client { shared })
    }

    /// Parses a JSON configuration (SPEC §2) and creates a client.
    pub fn from_json(config_json: &str) -> Result<Client> {
        Client::new(Config::from_json(config_json)?)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        let mut st = self.shared.lock();
        if st.fork_epoch != fork::epoch() {
            self.adopt_after_fork(&mut st)?;
        }
        Ok(st)
    }

    /// First call in a child process: the parent's threads do not exist here and its queued
    /// events are the parent's to deliver, so start over with an empty queue and new threads.
    /// The datafile and destination carry over, so the child can send at once.
    fn adopt_after_fork(&self, st: &mut State) -> Result<()> {
        st.fork_epoch = fork::epoch();
        // The old connection pool may have been locked by a thread that no longer exists.
        let fresh = Transport::new(self.shared.config.max_concurrent_requests);
        std::mem::forget(std::mem::replace(&mut st.transport, fresh));
        st.queue = Queue::new(self.shared.config.queue_capacity);
        st.senders = 0;
        st.senders_idle = 0;
        st.wake_pending = false;
        st.progress_waiters = 0;
        st.flush_waiters = 0;
        st.due_at = None;
        st.hold = None;
        if let DatafileState::Missing { fetching_ended, .. } = &mut st.datafile {
            *fetching_ended = false;
        }
        match st.lifecycle {
            Lifecycle::Open => start_workers(&self.shared, st),
            Lifecycle::Closing { .. } | Lifecycle::Closed => {
                st.lifecycle = Lifecycle::Closed;
                Ok(())
            }
        }
    }

    /// Validates an event, adds the common data, and queues it (SPEC §3, §4). Never does I/O.
    ///
    /// Undecodable input (oversize, bad UTF-8, bad JSON) is reported first, whatever the
    /// client's state; then, in order: `Closed`, `SdkNotReady`,
    /// `InvalidIdentifiers`, `OdpNotEnabled`, `OdpNotIntegrated`, `InvalidAction`,
    /// `InvalidData`, `QueueFull`.
    pub fn send_event(&self, input: EventInput<'_>) -> Result<()> {
        let result = self.try_send(input);
        if let Err(e) = &result {
            log!(Level::Debug, "event not accepted: {e}");
        }
        result
    }

    fn try_send(&self, input: EventInput<'_>) -> Result<()> {
        let config = &self.shared.config;
        // Everything that depends on the input alone, encoding included, happens before the
        // lock, so the lock covers only the state checks and the push.
        let oversize = input.size() > config.max_event_bytes;
        let prepared = if oversize {
            Err(Error::because(
                ErrorKind::InvalidData,
                format_args!(
                    "the event's inputs total {} bytes, over the limit of {} (max_event_bytes)",
                    input.size(),
                    config.max_event_bytes
                ),
            ))
        } else {
            event::prepare(&input, &self.shared.common)
        };
        let mut st = self.lock()?;
        let checked = (|| {
            let input_error = prepared.as_ref().err();
            let input_error_of =
                |kinds: &[ErrorKind]| input_error.filter(|e| kinds.contains(&e.kind())).cloned();
            // Input that cannot be decoded is reported whatever the client's state.
            if oversize {
                return Err(input_error
                    .cloned()
                    .unwrap_or_else(|| Error::new(ErrorKind::InvalidData)));
            }
            if let Some(e) = input_error_of(&[ErrorKind::InvalidUtf8, ErrorKind::InvalidJson]) {
                return Err(e);
            }
            if st.lifecycle != Lifecycle::Open {
                return Err(Error::new(ErrorKind::Closed));
            }
            if let DatafileState::Missing { cause, .. } = &st.datafile {
                return Err(match cause {
                    Some(cause) => Error::with_detail(
                        ErrorKind::SdkNotReady,
                        format!("{} ({cause})", ErrorKind::SdkNotReady.message()),
                    ),
                    None => Error::new(ErrorKind::SdkNotReady),
                });
            }
            if let Some(e) = input_error_of(&[ErrorKind::InvalidIdentifiers]) {
                return Err(e);
            }
            if config.odp_disabled {
                return Err(Error::new(ErrorKind::OdpNotEnabled));
            }
            let route = st.routes.current().map_err(not_integrated)?;
            // What is left of the input's errors comes last: the action, then the data.
            if let Some(e) = input_error {
                return Err(e.clone());
            }
            Ok(route)
        })();
        let (route, body) = match (checked, prepared) {
            (Ok(route), Ok(body)) => (route, body),
            (Err(e), _) | (_, Err(e)) => {
                st.queue.count_rejected_invalid();
                return Err(e);
            }
        };
        let queued = st
            .queue
            .push(body, route)
            .ok_or_else(|| Error::new(ErrorKind::QueueFull))?;
        // While a failed flush holds sends back, senders sleep until the hold ends: waking
        // them for every new event would only put them back to sleep.
        let due = queued == 1 || queued >= config.batch_size || config.flush_interval.is_zero();
        if due && st.hold.is_none() {
            self.shared.wake_dispatcher(&mut st);
        }
        Ok(())
    }

    /// Blocks until every event accepted before the call is delivered or dropped, or until
    /// `timeout` passes (`Timeout`). `Closed` after `close`.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        let deadline = saturating_deadline(timeout);
        let mut st = self.lock()?;
        if st.lifecycle != Lifecycle::Open {
            return Err(Error::new(ErrorKind::Closed));
        }
        // Events are numbered in acceptance order: everything before `target` must settle.
        let target = st.queue.stats().accepted;
        let settled = |st: &State| {
            st.queue
                .oldest_unsettled()
                .is_none_or(|oldest| oldest >= target)
        };
        if settled(&st) {
            return Ok(());
        }
        st.flush_waiters += 1;
        self.shared.wake_dispatcher(&mut st);
        let result = loop {
            if settled(&st) {
                break Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                break Err(Error::with_detail(
                    ErrorKind::Timeout,
                    format!(
                        "flush timed out after {} ms; {} still pending",
                        timeout.as_millis(),
                        events(st.queue.stats().pending)
                    ),
                ));
            }
            st = self.shared.wait_for_progress(st, deadline - now);
        };
        st.flush_waiters -= 1;
        result
    }

    /// Stops accepting events (later sends fail with `Closed`), delivers what is queued within
    /// `timeout`, and stops the background threads. Events still pending at the deadline are
    /// counted as dropped (shutdown) and reported as `Timeout`. Never blocks past `timeout`, even
    /// when the network hangs. Calling it again returns `Ok` at once.
    pub fn close(&self, timeout: Duration) -> Result<()> {
        let deadline = saturating_deadline(timeout);
        let mut st = self.lock()?;
        match st.lifecycle {
            Lifecycle::Closed => return Ok(()),
            Lifecycle::Closing { .. } => {}
            Lifecycle::Open => {
                st.lifecycle = Lifecycle::Closing { deadline };
                log!(
                    Level::Debug,
                    "closing; {} events pending",
                    st.queue.stats().pending
                );
            }
        }
        self.shared.dispatcher_cv.notify_all();
        self.shared.pause_cv.notify_all();
        self.shared.poller_cv.notify_all();
        while st.senders > 0 && st.lifecycle != Lifecycle::Closed {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self.shared.wait_for_progress(st, deadline - now);
        }
        if st.lifecycle == Lifecycle::Closed {
            // Another close finished the job.
            return Ok(());
        }
        let left = st.queue.abandon();
        st.lifecycle = Lifecycle::Closed;
        self.shared.dispatcher_cv.notify_all();
        self.shared.pause_cv.notify_all();
        self.shared.progress(&st);
        drop(st);
        if left > 0 {
            log!(
                Level::Warn,
                "closed with {} undelivered (dropped, reason shutdown)",
                events(left)
            );
            return Err(Error::with_detail(
                ErrorKind::Timeout,
                format!(
                    "close could not deliver {} within {} ms; dropped (reason shutdown)",
                    events(left),
                    timeout.as_millis()
                ),
            ));
        }
        Ok(())
    }

    /// Blocks until a datafile is loaded (`Ok`), `timeout` passes (`Timeout`, with the last
    /// fetch failure if any), or fetching has stopped for good without one (`SdkNotReady`).
    pub fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let deadline = saturating_deadline(timeout);
        let mut st = self.lock()?;
        loop {
            if st.lifecycle != Lifecycle::Open {
                return Err(Error::new(ErrorKind::Closed));
            }
            let (cause, ended) = match &st.datafile {
                DatafileState::Loaded { .. } => return Ok(()),
                DatafileState::Missing {
                    cause,
                    fetching_ended,
                } => (cause.clone(), *fetching_ended),
            };
            let because = cause.map(|c| format!(" ({c})")).unwrap_or_default();
            if ended {
                return Err(Error::with_detail(
                    ErrorKind::SdkNotReady,
                    format!("{}{because}", ErrorKind::SdkNotReady.message()),
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::with_detail(
                    ErrorKind::Timeout,
                    format!("no datafile within {} ms{because}", timeout.as_millis()),
                ));
            }
            st = self.shared.wait_for_progress(st, deadline - now);
        }
    }

    /// Applies a datafile given as JSON text (SPEC §3). If it changes the ODP key or host, the
    /// events already queued are delivered to the old destination first.
    ///
    /// Errors: `InvalidDatafile` (the current datafile stays), `Closed`.
    pub fn update_datafile(&self, datafile_json: &str) -> Result<()> {
        let datafile = Datafile::parse(datafile_json)?;
        let mut st = self.lock()?;
        if st.lifecycle != Lifecycle::Open {
            return Err(Error::new(ErrorKind::Closed));
        }
        let note = apply_datafile(&self.shared, &mut st, datafile, true);
        drop(st);
        if let Some(note) = note {
            log!(Level::Info, "{note}");
        }
        Ok(())
    }

    /// The counters (SPEC §6): accepted = delivered + dropped + pending at every moment.
    pub fn stats(&self) -> Result<Stats> {
        Ok(self.lock()?.queue.stats())
    }

    /// True once `close` has finished (or a close began before a fork).
    pub fn is_closed(&self) -> bool {
        self.lock()
            .map(|st| st.lifecycle == Lifecycle::Closed)
            .unwrap_or(true)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the configuration itself: it may hold keys and tokens.
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.close(self.shared.config.shutdown_timeout);
    }
}

/// Applies a datafile under the lock. Returns what to log once the lock is released.
fn apply_datafile(
    shared: &Shared,
    st: &mut State,
    datafile: Datafile,
    pushed: bool,
) -> Option<String> {
    if let DatafileState::Loaded { revision } = &st.datafile {
        // A polled datafile with the revision we have changes nothing (as in the Go SDK).
        if !pushed && revision.is_some() && *revision == datafile.revision {
            return None;
        }
    }
    let first = matches!(st.datafile, DatafileState::Missing { .. });
    let dest = destination_of(&datafile, shared.config.allow_insecure_http);
    let summary = describe(&dest);
    let changed = st.routes.switch_to(dest);
    st.datafile = DatafileState::Loaded {
        revision: datafile.revision.clone(),
    };
    // Drain to the old destination now, rather than at the next interval.
    shared.wake_dispatcher(st);
    shared.progress(st);
    if first {
        Some(format!(
            "datafile loaded ({}); {summary}",
            revision_text(&datafile.revision)
        ))
    } else if changed {
        Some(format!(
            "datafile {} changes the ODP destination: {summary}; {} go to the old one first",
            revision_text(&datafile.revision),
            events(st.queue.len() as u64)
        ))
    } else {
        None
    }
}

fn start_workers(shared: &Arc<Shared>, st: &mut State) -> Result<()> {
    dispatcher::spawn(shared, st)?;
    if let Source::SdkKey {
        url,
        access_token,
        polling_interval,
        ..
    } = &shared.config.source
    {
        let target = FetchTarget {
            url: url.clone(),
            access_token: access_token.clone(),
            timeout: shared.config.request_timeout,
        };
        let interval = *polling_interval;
        let transport = st.transport.clone();
        let poller = Poller(Arc::clone(shared));
        std::thread::Builder::new()
            .name("odp-datafile".into())
            .spawn(move || {
                datafile::poll(&target, interval, &transport, &poller);
                poller.ended();
            })
            .map_err(|e| {
                Error::with_detail(
                    ErrorKind::Internal,
                    format!("cannot start the datafile thread: {e}"),
                )
            })?;
    }
    Ok(())
}

/// The datafile poller's view of the client.
struct Poller(Arc<Shared>);

impl Poller {
    fn ended(&self) {
        let mut st = self.0.lock();
        if let DatafileState::Missing { fetching_ended, .. } = &mut st.datafile {
            *fetching_ended = true;
        }
        self.0.progress(&st);
    }
}

impl PollSink for Poller {
    fn fetched(&self, datafile: Datafile) {
        let mut st = self.0.lock();
        if st.lifecycle != Lifecycle::Open {
            return;
        }
        let note = apply_datafile(&self.0, &mut st, datafile, false);
        drop(st);
        if let Some(note) = note {
            log!(Level::Info, "{note}");
        }
    }

    fn failed(&self, cause: String) {
        let mut st = self.0.lock();
        let loaded = matches!(st.datafile, DatafileState::Loaded { .. });
        if let DatafileState::Missing { cause: c, .. } = &mut st.datafile {
            *c = Some(cause.clone());
        }
        self.0.progress(&st);
        drop(st);
        let keeping = if loaded {
            "; keeping the current datafile"
        } else {
            ""
        };
        log!(Level::Warn, "datafile fetch failed: {cause}{keeping}");
    }

    fn sleep(&self, d: Duration) -> bool {
        let end = saturating_deadline(d);
        let mut st = self.0.lock();
        loop {
            if st.lifecycle != Lifecycle::Open {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            st = self
                .0
                .poller_cv
                .wait_timeout(st, end - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn has_datafile(&self) -> bool {
        matches!(self.0.lock().datafile, DatafileState::Loaded { .. })
    }
}

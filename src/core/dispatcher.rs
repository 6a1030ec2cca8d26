//! The background worker, one thread per client: decides when to send (a pure function of the
//! state and the clock), sends one batch at a time with retries, and settles the outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{Lifecycle, Shared, State};
use super::error::{events, Error, ErrorKind, Result};
use super::event;
use super::log::{log, Level};
use super::queue::{QueuedEvent, Settlement};
use super::transport::{backoff, status_text, verdict, Attempt, Destination, Transport, Verdict};

/// A pause after a flush whose retries all failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// When the failed flush ended.
    pub since: Instant,
    /// No sends before this (unless closing).
    pub until: Instant,
    /// Failed flushes in a row.
    pub failures: u32,
}

/// The longest pause between failed flushes.
pub const MAX_HOLD: Duration = Duration::from_secs(30);

/// While a caller waits in `flush`, failed flushes are retried at least this often.
pub const FLUSH_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The pause after the `failures`-th failed flush in a row: the flush interval (at least 1 s),
/// doubling per failure, capped at [`MAX_HOLD`], so an outage costs a few requests a minute.
pub fn next_hold(now: Instant, previous: Option<Hold>, flush_interval: Duration) -> Hold {
    let failures = previous.map_or(1, |h| h.failures.saturating_add(1));
    let base = flush_interval.max(Duration::from_secs(1));
    let pause = base
        .checked_mul(1u32 << (failures - 1).min(16))
        .unwrap_or(MAX_HOLD)
        .min(MAX_HOLD);
    Hold {
        since: now,
        until: now + pause,
        failures,
    }
}

/// What the dispatcher needs to know to decide; a snapshot of the state.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// The client's lifecycle.
    pub lifecycle: LifecycleView,
    /// Events queued (none is in flight while the dispatcher decides).
    pub queued: usize,
    /// The oldest event has a destination to go to.
    pub head_sendable: bool,
    /// The oldest event belongs to a destination being drained after a datafile change.
    pub head_draining: bool,
    /// Threads waiting in `flush`.
    pub flush_waiters: usize,
    /// End of the current batch window.
    pub due_at: Option<Instant>,
    /// Pause after failed flushes.
    pub hold: Option<Hold>,
    /// Configured batch size.
    pub batch_size: usize,
    /// Configured flush interval.
    pub flush_interval: Duration,
}

/// The lifecycle, without the client's private type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleView {
    /// Accepting events.
    Open,
    /// Draining until the deadline.
    Closing(Instant),
    /// Done.
    Closed,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Send the batch at the head now.
    Send,
    /// Sleep until the instant, or until woken.
    Wait(Option<Instant>),
    /// Stop the thread.
    Exit,
}

/// The flush triggers (SPEC §6): a full batch, the interval, an explicit flush, a datafile
/// change (drain to the old destination) and close; a failed flush holds further sends.
pub fn plan(s: &Snapshot, now: Instant) -> Plan {
    match s.lifecycle {
        LifecycleView::Closed => return Plan::Exit,
        LifecycleView::Closing(deadline) => {
            return if s.queued == 0 || !s.head_sendable || now >= deadline {
                Plan::Exit
            } else {
                Plan::Send
            };
        }
        LifecycleView::Open => {}
    }
    if s.queued == 0 || !s.head_sendable {
        return Plan::Wait(None);
    }
    if let Some(hold) = s.hold {
        let until = if s.flush_waiters > 0 {
            hold.until.min(hold.since + FLUSH_RETRY_PAUSE)
        } else {
            hold.until
        };
        if now < until {
            return Plan::Wait(Some(until));
        }
    }
    if s.head_draining
        || s.flush_waiters > 0
        || s.queued >= s.batch_size
        || s.flush_interval.is_zero()
    {
        return Plan::Send;
    }
    match s.due_at {
        Some(due) if now < due => Plan::Wait(Some(due)),
        _ => Plan::Send,
    }
}

fn snapshot(st: &State, shared: &Shared) -> Snapshot {
    let head = st.queue.head_route();
    Snapshot {
        lifecycle: match st.lifecycle {
            Lifecycle::Open => LifecycleView::Open,
            Lifecycle::Closing { deadline } => LifecycleView::Closing(deadline),
            Lifecycle::Closed => LifecycleView::Closed,
        },
        queued: st.queue.len(),
        head_sendable: head.is_some_and(|r| st.routes.resolve(r).is_some()),
        head_draining: head.is_some_and(|r| st.routes.is_draining(r)),
        flush_waiters: st.flush_waiters,
        due_at: st.due_at,
        hold: st.hold,
        batch_size: shared.config.batch_size,
        flush_interval: shared.config.flush_interval,
    }
}

/// Starts one sender thread of a client (the caller holds the state lock). A client starts
/// with one; more start, up to `max_concurrent_requests`, while full batches wait and every
/// sender is busy, so a slow or distant server does not cap throughput at one batch per round
/// trip. Threads stay bounded: never one per event or per batch.
pub(crate) fn spawn(shared: &Arc<Shared>, st: &mut State) -> Result<()> {
    let worker = Arc::clone(shared);
    let transport = st.transport.clone();
    std::thread::Builder::new()
        .name("odp-sender".into())
        .spawn(move || run(&worker, &transport))
        .map_err(|e| {
            Error::with_detail(
                ErrorKind::Internal,
                format!("cannot start a sender thread: {e}"),
            )
        })?;
    st.senders += 1;
    Ok(())
}

/// After taking a batch: if full batches still wait, get another sender on them.
fn share_the_backlog(shared: &Arc<Shared>, st: &mut State) {
    if st.queue.len() < shared.config.batch_size {
        return;
    }
    if st.senders_idle > 0 {
        shared.wake_dispatcher(st);
    } else if st.senders < shared.config.max_concurrent_requests && st.lifecycle == Lifecycle::Open
    {
        // Best effort: the senders already running carry on if no thread can be started.
        let _ = spawn(shared, st);
    }
}

fn run(shared: &Arc<Shared>, transport: &Transport) {
    // Whatever happens, tell `close` the thread is gone.
    struct Exit<'a>(&'a Shared);
    impl Drop for Exit<'_> {
        fn drop(&mut self) {
            let mut st = self.0.lock();
            st.senders -= 1;
            self.0.progress(&st);
        }
    }
    let _exit = Exit(shared);

    // Reused for every batch this sender takes.
    let mut spare: Vec<QueuedEvent> = Vec::with_capacity(shared.config.batch_size);
    let mut st = shared.lock();
    loop {
        let now = Instant::now();
        if st.queue.is_empty() {
            st.due_at = None;
        } else if st.due_at.is_none() {
            st.due_at = Some(now + shared.config.flush_interval);
        }
        match plan(&snapshot(&st, shared), now) {
            Plan::Exit => {
                // Others may be parked; let them see the exit too.
                shared.dispatcher_cv.notify_all();
                return;
            }
            Plan::Wait(until) => {
                st.senders_idle += 1;
                st = match until {
                    None => shared
                        .dispatcher_cv
                        .wait(st)
                        .unwrap_or_else(|e| e.into_inner()),
                    Some(t) => {
                        shared
                            .dispatcher_cv
                            .wait_timeout(st, t.saturating_duration_since(now))
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                };
                st.senders_idle -= 1;
                st.wake_pending = false;
                continue;
            }
            Plan::Send => {}
        }
        let Some(route) = st.queue.head_route() else {
            continue;
        };
        let Some(dest) = st.routes.resolve(route) else {
            continue;
        };
        let draining = st.routes.is_draining(route);
        let Some(mut batch) = st
            .queue
            .take_batch_into(shared.config.batch_size, std::mem::take(&mut spare))
        else {
            continue;
        };
        share_the_backlog(shared, &mut st);
        let first_budget = budget(&st, shared.config.request_timeout);
        drop(st);

        let body = event::batch_body(batch.events.iter().map(|e| &*e.body));
        let outcome = deliver(
            shared,
            transport,
            &dest,
            &body,
            batch.events.len(),
            first_budget,
        );

        if outcome != Settlement::Returned {
            // Free the events now, not under the lock; keep the vector for the next batch.
            batch.events.clear();
            spare = std::mem::take(&mut batch.events);
        }
        st = shared.lock();
        if outcome == Settlement::Delivered {
            st.queue.count_batch_sent();
        }
        match outcome {
            Settlement::Delivered | Settlement::Rejected => st.hold = None,
            Settlement::Returned if draining => {
                // One full attempt at the old destination failed: its events follow the new one.
                st.routes.give_up(route);
            }
            Settlement::Returned => {
                if st.lifecycle == Lifecycle::Open {
                    st.hold = Some(next_hold(
                        Instant::now(),
                        st.hold,
                        shared.config.flush_interval,
                    ));
                }
            }
        }
        st.queue.settle(batch, outcome);
        let oldest = st.queue.oldest_route();
        st.routes.forget_older_than(oldest);
        shared.progress(&st);
    }
}

/// Time left for one request: the request timeout, cut to the close deadline when closing.
/// `None` when there is no time left.
fn budget(st: &State, timeout: Duration) -> Option<Duration> {
    match st.lifecycle {
        Lifecycle::Open => Some(timeout),
        Lifecycle::Closing { deadline } => {
            let left = deadline.saturating_duration_since(Instant::now());
            (!left.is_zero()).then(|| left.min(timeout))
        }
        Lifecycle::Closed => None,
    }
}

/// Waits `d` before a retry. Returns false, without waiting past it, when closing will not leave
/// time for another attempt.
fn pause(shared: &Shared, d: Duration) -> bool {
    let end = Instant::now() + d;
    let mut st = shared.lock();
    loop {
        let now = Instant::now();
        let limit = match st.lifecycle {
            Lifecycle::Open => end,
            Lifecycle::Closing { deadline } => end.min(deadline),
            Lifecycle::Closed => return false,
        };
        if now >= limit {
            return now >= end
                && !matches!(st.lifecycle, Lifecycle::Closing { deadline } if now >= deadline);
        }
        st = shared
            .pause_cv
            .wait_timeout(st, limit - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// A uniform sample in [0, 1) for jitter, from the OS random source uuid already uses.
fn jitter_sample() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

fn describe(attempt: &Attempt) -> String {
    match attempt {
        Attempt::Status { code, .. } => status_text(*code),
        Attempt::Network(e) => e.clone(),
    }
}

/// Sends one batch: up to `max_attempts` attempts with backoff (while closing: as many as the
/// deadline allows).
/// The batch's first attempt uses `first_budget`, computed while the batch was taken; the
/// delivered request is counted when the batch settles, so a send that succeeds at once takes
/// the lock only to take and to settle the batch.
fn deliver(
    shared: &Shared,
    transport: &Transport,
    dest: &Destination,
    body: &[u8],
    n: usize,
    first_budget: Option<Duration>,
) -> Settlement {
    let max_attempts = shared.config.max_attempts;
    let mut attempt = 0u32;
    let mut timeout = first_budget;
    loop {
        attempt += 1;
        let Some(budget_now) = timeout else {
            return Settlement::Returned;
        };
        let result = transport.post_events(dest, body, budget_now);
        let v = verdict(&result);
        let closing = if v == Verdict::Delivered {
            false
        } else {
            let mut st = shared.lock();
            st.queue.count_failed_attempt();
            matches!(st.lifecycle, Lifecycle::Closing { .. })
        };
        match v {
            Verdict::Delivered => {
                log!(
                    Level::Debug,
                    "delivered {} to {} ({})",
                    events(n as u64),
                    dest.events_url(),
                    describe(&result)
                );
                return Settlement::Delivered;
            }
            Verdict::Drop => {
                log!(
                    Level::Warn,
                    "ODP event send failed ({}); dropping the batch of {}, the server will not accept it",
                    describe(&result),
                    events(n as u64)
                );
                return Settlement::Rejected;
            }
            Verdict::Retry => {}
        }
        if attempt >= max_attempts && !closing {
            log!(
                Level::Warn,
                "ODP event send failed ({}) after {attempt} attempts; the batch of {} stays queued for the next flush",
                describe(&result),
                events(n as u64)
            );
            return Settlement::Returned;
        }
        let retry_after = match &result {
            Attempt::Status { retry_after, .. } => *retry_after,
            Attempt::Network(_) => None,
        };
        let wait = backoff(attempt, jitter_sample(), retry_after);
        log!(
            Level::Debug,
            "ODP event send failed ({}); attempt {attempt}, retrying in {} ms",
            describe(&result),
            wait.as_millis()
        );
        if !pause(shared, wait) {
            return Settlement::Returned;
        }
        timeout = budget(&shared.lock(), shared.config.request_timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(now: Instant) -> Snapshot {
        Snapshot {
            lifecycle: LifecycleView::Open,
            queued: 3,
            head_sendable: true,
            head_draining: false,
            flush_waiters: 0,
            due_at: Some(now + Duration::from_millis(500)),
            hold: None,
            batch_size: 10,
            flush_interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn waits_for_the_window_or_a_full_batch() {
        let now = Instant::now();
        let s = base(now);
        assert_eq!(plan(&s, now), Plan::Wait(s.due_at));
        assert_eq!(plan(&s, now + Duration::from_millis(500)), Plan::Send);
        assert_eq!(plan(&Snapshot { queued: 10, ..s }, now), Plan::Send);
        assert_eq!(
            plan(
                &Snapshot {
                    flush_interval: Duration::ZERO,
                    ..s
                },
                now
            ),
            Plan::Send
        );
        assert_eq!(
            plan(
                &Snapshot {
                    flush_waiters: 1,
                    ..s
                },
                now
            ),
            Plan::Send
        );
        assert_eq!(
            plan(
                &Snapshot {
                    head_draining: true,
                    ..s
                },
                now
            ),
            Plan::Send
        );
    }

    #[test]
    fn nothing_to_send_or_nowhere_to_send_it() {
        let now = Instant::now();
        let s = base(now);
        assert_eq!(plan(&Snapshot { queued: 0, ..s }, now), Plan::Wait(None));
        assert_eq!(
            plan(
                &Snapshot {
                    head_sendable: false,
                    ..s
                },
                now
            ),
            Plan::Wait(None)
        );
    }

    #[test]
    fn closing_sends_until_empty_or_deadline() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(2);
        let s = Snapshot {
            lifecycle: LifecycleView::Closing(deadline),
            hold: Some(next_hold(now, None, Duration::ZERO)),
            ..base(now)
        };
        assert_eq!(
            plan(&s, now),
            Plan::Send,
            "close ignores the window and the hold"
        );
        assert_eq!(plan(&s, deadline), Plan::Exit);
        assert_eq!(plan(&Snapshot { queued: 0, ..s }, now), Plan::Exit);
        assert_eq!(
            plan(
                &Snapshot {
                    head_sendable: false,
                    ..s
                },
                now
            ),
            Plan::Exit
        );
        assert_eq!(
            plan(
                &Snapshot {
                    lifecycle: LifecycleView::Closed,
                    ..s
                },
                now
            ),
            Plan::Exit
        );
    }

    #[test]
    fn a_failed_flush_holds_sends_shortened_while_someone_flushes() {
        let now = Instant::now();
        let hold = next_hold(
            now,
            Some(next_hold(
                now,
                Some(next_hold(now, None, Duration::ZERO)),
                Duration::ZERO,
            )),
            Duration::ZERO,
        );
        assert_eq!(hold.until - now, Duration::from_secs(4));
        let s = Snapshot {
            queued: 50,
            hold: Some(hold),
            ..base(now)
        };
        assert_eq!(plan(&s, now), Plan::Wait(Some(hold.until)));
        assert_eq!(plan(&s, hold.until), Plan::Send);
        let flushing = Snapshot {
            flush_waiters: 1,
            ..s
        };
        assert_eq!(
            plan(&flushing, now),
            Plan::Wait(Some(now + FLUSH_RETRY_PAUSE))
        );
        assert_eq!(plan(&flushing, now + FLUSH_RETRY_PAUSE), Plan::Send);
    }

    #[test]
    fn hold_grows_from_the_interval_and_caps_at_30s() {
        let now = Instant::now();
        let mut h = None;
        let mut pauses = Vec::new();
        for _ in 0..8 {
            let next = next_hold(now, h, Duration::from_millis(1500));
            pauses.push((next.until - now).as_millis());
            h = Some(next);
        }
        assert_eq!(
            pauses,
            [1500, 3000, 6000, 12000, 24000, 30000, 30000, 30000]
        );
        assert_eq!(
            next_hold(now, None, Duration::ZERO).until - now,
            Duration::from_secs(1)
        );
    }
}

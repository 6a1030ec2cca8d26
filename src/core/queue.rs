//! The bounded event queue and its accounting: every accepted event is, at every moment,
//! exactly one of delivered, dropped (with a reason) or pending (queued or in flight).

use std::collections::VecDeque;

/// One accepted event, encoded for the wire, with its place in the order of acceptance and the
/// destination generation ("route") that was current when it was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    /// The event's JSON object.
    pub body: Vec<u8>,
    /// Which destination it belongs to (see the client's routes).
    pub route: u32,
    /// 0 for the first event the client accepted, 1 for the next, …
    pub seq: u64,
}

/// Events taken from the queue to be sent together; give it back with [`Queue::settle`].
#[derive(Debug)]
pub struct Batch {
    /// The events, oldest first.
    pub events: Vec<QueuedEvent>,
    ticket: u64,
}

/// What the queue remembers of a batch in flight.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    ticket: u64,
    first_seq: u64,
    route: u32,
    len: usize,
}

/// Counters of a client, as `odp_client_stats` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events accepted by `send_event`.
    pub accepted: u64,
    /// Events the server accepted (status < 400).
    pub delivered: u64,
    /// Events queued or in flight.
    pub pending: u64,
    /// Events dropped because the server refused their batch with a 4xx other than 408/429.
    pub dropped_rejected: u64,
    /// Events dropped because `close` ran out of time, or had nowhere to send them.
    pub dropped_shutdown: u64,
    /// Requests that delivered a batch.
    pub batches_sent: u64,
    /// Requests that failed (network error or status >= 400), retried or not.
    pub failed_attempts: u64,
    /// Calls refused with ODP_ERR_QUEUE_FULL (never accepted, so not in `accepted`).
    pub rejected_queue_full: u64,
    /// Calls refused for any other reason (never accepted).
    pub rejected_invalid: u64,
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// The server took it.
    Delivered,
    /// The server refused it for good.
    Rejected,
    /// Not delivered this time; the batch goes back to the head of the queue.
    Returned,
}

/// A FIFO of encoded events in acceptance order, bounded by `capacity` counting the batches in
/// flight. Several batches may be in flight at once; they may settle in any order.
#[derive(Debug)]
pub struct Queue {
    events: VecDeque<QueuedEvent>,
    in_flight: Vec<InFlight>,
    in_flight_events: usize,
    next_ticket: u64,
    capacity: usize,
    /// Batches in flight when `close` gave up, already counted as dropped (shutdown). A request
    /// cannot be recalled: if one is delivered after all, its events move to `delivered`.
    abandoned: Vec<InFlight>,
    stats: Stats,
}

impl Queue {
    /// An empty queue holding at most `capacity` events.
    pub fn new(capacity: usize) -> Queue {
        Queue {
            events: VecDeque::new(),
            in_flight: Vec::new(),
            in_flight_events: 0,
            next_ticket: 0,
            capacity,
            abandoned: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Queued events (not counting batches in flight).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when nothing is queued (batches may still be in flight).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// True when another event would exceed the capacity.
    pub fn is_full(&self) -> bool {
        self.events.len() + self.in_flight_events >= self.capacity
    }

    /// The route of the oldest queued event.
    pub fn head_route(&self) -> Option<u32> {
        self.events.front().map(|e| e.route)
    }

    /// Accepts an event: it gets the next sequence number. Returns the number queued after it,
    /// or `None` when full (the caller reports that; nothing queued is evicted).
    pub fn push(&mut self, body: Vec<u8>, route: u32) -> Option<usize> {
        if self.is_full() {
            self.stats.rejected_queue_full += 1;
            return None;
        }
        self.events.push_back(QueuedEvent {
            body,
            route,
            seq: self.stats.accepted,
        });
        self.stats.accepted += 1;
        Some(self.events.len())
    }

    /// Takes up to `max` events from the head, all of the head's route, and marks them in flight.
    /// `into` is a vector to reuse for the events (its contents are replaced), so taking a batch
    /// under the client's lock allocates nothing in the usual case.
    pub fn take_batch_into(&mut self, max: usize, into: Vec<QueuedEvent>) -> Option<Batch> {
        let head = self.events.front()?;
        let (route, first_seq) = (head.route, head.seq);
        let n = self
            .events
            .iter()
            .take(max)
            .take_while(|e| e.route == route)
            .count();
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.in_flight.push(InFlight {
            ticket,
            first_seq,
            route,
            len: n,
        });
        self.in_flight_events += n;
        let mut events = into;
        events.clear();
        events.extend(self.events.drain(..n));
        Some(Batch { events, ticket })
    }

    /// [`Queue::take_batch_into`] a new vector.
    pub fn take_batch(&mut self, max: usize) -> Option<Batch> {
        self.take_batch_into(max, Vec::new())
    }

    /// Records how a batch ended. A returned batch goes back in acceptance order (normally at
    /// the head), to be sent again; for the other outcomes only the batch's ticket matters (its
    /// events may already have been freed, outside the lock).
    pub fn settle(&mut self, batch: Batch, how: Settlement) {
        let Some(i) = self.in_flight.iter().position(|f| f.ticket == batch.ticket) else {
            self.settle_abandoned(batch.ticket, how);
            return;
        };
        let n = self.in_flight.swap_remove(i).len;
        self.in_flight_events -= n;
        match how {
            Settlement::Delivered => self.stats.delivered += n as u64,
            Settlement::Rejected => self.stats.dropped_rejected += n as u64,
            Settlement::Returned => {
                let first = batch.events.first().map_or(0, |e| e.seq);
                let at = self.events.partition_point(|e| e.seq < first);
                if at == 0 {
                    for event in batch.events.into_iter().rev() {
                        self.events.push_front(event);
                    }
                } else {
                    for (k, event) in batch.events.into_iter().enumerate() {
                        self.events.insert(at + k, event);
                    }
                }
            }
        }
        self.check_invariant();
    }

    fn settle_abandoned(&mut self, ticket: u64, how: Settlement) {
        let Some(i) = self.abandoned.iter().position(|f| f.ticket == ticket) else {
            return;
        };
        let n = self.abandoned.swap_remove(i).len as u64;
        if how == Settlement::Delivered {
            self.stats.dropped_shutdown -= n;
            self.stats.delivered += n;
        }
        self.check_invariant();
    }

    /// The sequence number of the oldest event not yet delivered or dropped, if any. "Every
    /// event accepted before the N-th is settled" is `oldest_unsettled() >= N` (or `None`).
    pub fn oldest_unsettled(&self) -> Option<u64> {
        let queued = self.events.front().map(|e| e.seq);
        let flying = self.in_flight.iter().map(|f| f.first_seq).min();
        queued.into_iter().chain(flying).min()
    }

    /// The route of the oldest unsettled event: routes never decrease in acceptance order, so
    /// no unsettled event uses an older one.
    pub fn oldest_route(&self) -> Option<u32> {
        let queued = self.events.front().map(|e| e.route);
        let flying = self.in_flight.iter().map(|f| f.route).min();
        queued.into_iter().chain(flying).min()
    }

    /// Drops everything still pending, queued or in flight, as "shutdown"; returns how many. A
    /// batch in flight that the server accepts after all is then counted as delivered instead.
    pub fn abandon(&mut self) -> u64 {
        let n = (self.events.len() + self.in_flight_events) as u64;
        self.stats.dropped_shutdown += n;
        self.events.clear();
        self.abandoned.append(&mut self.in_flight);
        self.in_flight_events = 0;
        self.check_invariant();
        n
    }

    /// Delivered plus dropped: how many accepted events have reached a final state.
    pub fn settled(&self) -> u64 {
        self.stats.delivered + self.stats.dropped_rejected + self.stats.dropped_shutdown
    }

    /// Counts one failed request.
    pub fn count_failed_attempt(&mut self) {
        self.stats.failed_attempts += 1;
    }

    /// Counts one delivering request.
    pub fn count_batch_sent(&mut self) {
        self.stats.batches_sent += 1;
    }

    /// Counts a call refused before it reached the queue.
    pub fn count_rejected_invalid(&mut self) {
        self.stats.rejected_invalid += 1;
    }

    /// The counters, with `pending` filled in.
    pub fn stats(&self) -> Stats {
        Stats {
            pending: (self.events.len() + self.in_flight_events) as u64,
            ..self.stats
        }
    }

    fn check_invariant(&self) {
        debug_assert_eq!(
            self.stats.accepted,
            self.settled() + (self.events.len() + self.in_flight_events) as u64,
            "accounting broken: {:?}",
            self.stats()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(q: &mut Queue, n: u8, route: u32) -> Option<usize> {
        q.push(vec![n], route)
    }

    fn bodies(batch: &Batch) -> Vec<u8> {
        batch.events.iter().map(|e| e.body[0]).collect()
    }

    fn invariant(q: &Queue) {
        let s = q.stats();
        assert_eq!(
            s.accepted,
            s.delivered + s.dropped_rejected + s.dropped_shutdown + s.pending
        );
    }

    #[test]
    fn capacity_counts_batches_in_flight_and_never_evicts() {
        let mut q = Queue::new(3);
        for i in 0..3 {
            push(&mut q, i, 0).unwrap();
        }
        assert!(push(&mut q, 9, 0).is_none());
        let batch = q.take_batch(2).unwrap();
        assert_eq!(bodies(&batch), [0, 1]);
        assert!(
            push(&mut q, 3, 0).is_none(),
            "two in flight + one queued fill 3"
        );
        assert_eq!(q.stats().rejected_queue_full, 2);
        q.settle(batch, Settlement::Returned);
        assert_eq!(bodies(&q.take_batch(10).unwrap()), [0, 1, 2]);
        invariant(&q);
    }

    #[test]
    fn batches_stop_at_a_route_change() {
        let mut q = Queue::new(10);
        for (i, route) in [(0, 1), (1, 1), (2, 2), (3, 2)] {
            push(&mut q, i, route).unwrap();
        }
        assert_eq!(q.take_batch(10).unwrap().events.len(), 2);
        assert_eq!(q.head_route(), Some(2));
        assert_eq!(
            q.oldest_route(),
            Some(1),
            "the batch in flight still uses route 1"
        );
    }

    #[test]
    fn batches_settle_in_any_order_and_return_to_their_place() {
        let mut q = Queue::new(100);
        for i in 0..30 {
            push(&mut q, i, 0).unwrap();
        }
        let a = q.take_batch(10).unwrap();
        let b = q.take_batch(10).unwrap();
        assert_eq!(q.oldest_unsettled(), Some(0));
        q.settle(b, Settlement::Delivered);
        assert_eq!(q.oldest_unsettled(), Some(0), "a is still in flight");
        let c = q.take_batch(5).unwrap();
        q.settle(c, Settlement::Returned);
        q.settle(a, Settlement::Returned);
        assert_eq!(q.oldest_unsettled(), Some(0));
        let all: Vec<u8> = q
            .take_batch(100)
            .unwrap()
            .events
            .iter()
            .map(|e| e.body[0])
            .collect();
        let expected: Vec<u8> = (0..10).chain(20..30).collect();
        assert_eq!(all, expected, "acceptance order is kept");
        invariant(&q);
    }

    #[test]
    fn settling_keeps_the_books() {
        let mut q = Queue::new(100);
        for i in 0..25 {
            push(&mut q, i, 0).unwrap();
        }
        let a = q.take_batch(10).unwrap();
        q.settle(a, Settlement::Delivered);
        let b = q.take_batch(10).unwrap();
        q.settle(b, Settlement::Rejected);
        invariant(&q);
        let c = q.take_batch(10).unwrap();
        assert_eq!(c.events.len(), 5);
        assert_eq!(q.abandon(), 5);
        let s = q.stats();
        assert_eq!(
            (
                s.accepted,
                s.delivered,
                s.dropped_rejected,
                s.dropped_shutdown,
                s.pending
            ),
            (25, 10, 10, 5, 0)
        );
        // The server accepted the abandoned batch after all: the books say so.
        q.settle(c, Settlement::Delivered);
        let s = q.stats();
        assert_eq!((s.delivered, s.dropped_shutdown), (15, 0));
        assert_eq!(q.settled(), 25);
        assert_eq!(q.oldest_unsettled(), None);
    }
}

//! The bounded event queue and its accounting: every accepted event is, at every moment,
//! exactly one of delivered, dropped (with a reason) or pending (queued or in flight).

use std::collections::VecDeque;

/// One accepted event, encoded for the wire, and the destination generation ("route") that was
/// current when it was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    /// The event's JSON object.
    pub body: Box<[u8]>,
    /// Which destination it belongs to (see the client's routes).
    pub route: u32,
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

/// A FIFO of encoded events, bounded by `capacity` counting the batch in flight.
#[derive(Debug)]
pub struct Queue {
    events: VecDeque<QueuedEvent>,
    in_flight: usize,
    capacity: usize,
    /// Set when `close` gave up: the in-flight batch was already counted as dropped, so its
    /// late outcome must not be counted again.
    abandoned: bool,
    stats: Stats,
}

impl Queue {
    /// An empty queue holding at most `capacity` events.
    pub fn new(capacity: usize) -> Queue {
        Queue {
            events: VecDeque::new(),
            in_flight: 0,
            capacity,
            abandoned: false,
            stats: Stats::default(),
        }
    }

    /// Queued events (not counting the batch in flight).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when nothing is queued (a batch may still be in flight).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// True when another event would exceed the capacity.
    pub fn is_full(&self) -> bool {
        self.events.len() + self.in_flight >= self.capacity
    }

    /// The route of the oldest queued event.
    pub fn head_route(&self) -> Option<u32> {
        self.events.front().map(|e| e.route)
    }

    /// Accepts an event. Returns the number queued after it, or `Err` when full (the caller
    /// counts and reports that; nothing queued is evicted).
    pub fn push(&mut self, event: QueuedEvent) -> Result<usize, QueuedEvent> {
        if self.is_full() {
            self.stats.rejected_queue_full += 1;
            return Err(event);
        }
        self.events.push_back(event);
        self.stats.accepted += 1;
        Ok(self.events.len())
    }

    /// Takes up to `max` events from the head, all of the head's route, and marks them in flight.
    pub fn take_batch(&mut self, max: usize) -> Vec<QueuedEvent> {
        let Some(route) = self.head_route() else {
            return Vec::new();
        };
        let n = self
            .events
            .iter()
            .take(max)
            .take_while(|e| e.route == route)
            .count();
        self.in_flight += n;
        self.events.drain(..n).collect()
    }

    /// Records how the batch in flight ended. A returned batch goes back to the head, in order.
    pub fn settle(&mut self, batch: Vec<QueuedEvent>, how: Settlement) {
        if self.abandoned {
            return;
        }
        let n = batch.len();
        self.in_flight -= n;
        match how {
            Settlement::Delivered => self.stats.delivered += n as u64,
            Settlement::Rejected => self.stats.dropped_rejected += n as u64,
            Settlement::Returned => {
                for event in batch.into_iter().rev() {
                    self.events.push_front(event);
                }
            }
        }
        self.check_invariant();
    }

    /// Drops everything still pending, queued or in flight, as "shutdown"; returns how many.
    /// Afterwards the outcome of the batch in flight is ignored.
    pub fn abandon(&mut self) -> u64 {
        let n = (self.events.len() + self.in_flight) as u64;
        self.stats.dropped_shutdown += n;
        self.events.clear();
        self.in_flight = 0;
        self.abandoned = true;
        self.check_invariant();
        n
    }

    /// Delivered plus dropped: how many accepted events have reached a final state. Events
    /// settle in the order they were accepted, so "the first N are settled" is `settled() >= N`.
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
            pending: (self.events.len() + self.in_flight) as u64,
            ..self.stats
        }
    }

    fn check_invariant(&self) {
        debug_assert_eq!(
            self.stats.accepted,
            self.settled() + (self.events.len() + self.in_flight) as u64,
            "accounting broken: {:?}",
            self.stats()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u8, route: u32) -> QueuedEvent {
        QueuedEvent {
            body: vec![n].into_boxed_slice(),
            route,
        }
    }

    fn invariant(q: &Queue) {
        let s = q.stats();
        assert_eq!(
            s.accepted,
            s.delivered + s.dropped_rejected + s.dropped_shutdown + s.pending
        );
    }

    #[test]
    fn capacity_counts_the_batch_in_flight_and_never_evicts() {
        let mut q = Queue::new(3);
        for i in 0..3 {
            q.push(ev(i, 0)).unwrap();
        }
        assert!(q.push(ev(9, 0)).is_err());
        let batch = q.take_batch(2);
        assert_eq!(batch.len(), 2);
        assert!(
            q.push(ev(3, 0)).is_err(),
            "two in flight + one queued fill 3"
        );
        assert_eq!(q.stats().rejected_queue_full, 2);
        q.settle(batch, Settlement::Returned);
        let order: Vec<u8> = q.take_batch(10).iter().map(|e| e.body[0]).collect();
        assert_eq!(order, [0, 1, 2]);
        invariant(&q);
    }

    #[test]
    fn batches_stop_at_a_route_change() {
        let mut q = Queue::new(10);
        for (i, route) in [(0, 1), (1, 1), (2, 2), (3, 2)] {
            q.push(ev(i, route)).unwrap();
        }
        assert_eq!(q.take_batch(10).len(), 2);
        assert_eq!(q.head_route(), Some(2));
    }

    #[test]
    fn settling_keeps_the_books() {
        let mut q = Queue::new(100);
        for i in 0..25 {
            q.push(ev(i, 0)).unwrap();
        }
        let a = q.take_batch(10);
        q.settle(a, Settlement::Delivered);
        let b = q.take_batch(10);
        q.settle(b, Settlement::Rejected);
        invariant(&q);
        let c = q.take_batch(10);
        assert_eq!(c.len(), 5);
        assert_eq!(q.abandon(), 5);
        // The late outcome of the abandoned batch changes nothing.
        q.settle(c, Settlement::Delivered);
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
        assert_eq!(q.settled(), 25);
    }
}

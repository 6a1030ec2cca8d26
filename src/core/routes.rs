//! Which destination each queued event goes to. Every event is stamped with the route that was
//! current when it was accepted; when a datafile changes the ODP key or host, the old route is
//! kept until its events are delivered (or one full attempt at them fails), so events go where
//! they were accepted for, and only then to the new destination (SPEC §3).

use std::sync::Arc;

use super::transport::Destination;

/// The current destination and the old ones still being drained.
#[derive(Debug)]
pub struct Routes {
    current_id: u32,
    current: Result<Arc<Destination>, String>,
    draining: Vec<(u32, Arc<Destination>)>,
}

impl Routes {
    /// Starts with `initial` as route 0; `Err` holds why ODP is not integrated.
    pub fn new(initial: Result<Destination, String>) -> Routes {
        Routes {
            current_id: 0,
            current: initial.map(Arc::new),
            draining: Vec::new(),
        }
    }

    /// The route new events are stamped with, or why there is none.
    pub fn current(&self) -> Result<u32, &str> {
        match &self.current {
            Ok(_) => Ok(self.current_id),
            Err(why) => Err(why),
        }
    }

    /// Switches to a new destination. Returns true when it differs from the current one (then
    /// the old one, if any, is drained first).
    pub fn switch_to(&mut self, next: Result<Destination, String>) -> bool {
        let changed = match (&self.current, &next) {
            (Ok(a), Ok(b)) => **a != *b,
            (Err(a), Err(b)) => {
                // Same "not integrated" state; keep the newest reason without a new route.
                if a != b {
                    self.current = Err(b.clone());
                }
                false
            }
            _ => true,
        };
        if !changed {
            return false;
        }
        if let Ok(old) = &self.current {
            self.draining.push((self.current_id, Arc::clone(old)));
        }
        self.current_id += 1;
        self.current = next.map(Arc::new);
        true
    }

    /// Where events of `route` go: their own destination while it is being drained, otherwise
    /// the current one (`None` when ODP is not integrated now).
    pub fn resolve(&self, route: u32) -> Option<Arc<Destination>> {
        if route != self.current_id {
            if let Some((_, d)) = self.draining.iter().find(|(id, _)| *id == route) {
                return Some(Arc::clone(d));
            }
        }
        self.current.as_ref().ok().cloned()
    }

    /// True when `route` is an old destination still being drained.
    pub fn is_draining(&self, route: u32) -> bool {
        self.draining.iter().any(|(id, _)| *id == route)
    }

    /// Stops draining `route`: its remaining events follow the current destination.
    pub fn give_up(&mut self, route: u32) {
        self.draining.retain(|(id, _)| *id != route);
    }

    /// Forgets old routes no queued event uses. Routes in the queue never decrease from head to
    /// tail, so everything older than the head's route is done.
    pub fn forget_older_than(&mut self, head: Option<u32>) {
        match head {
            Some(h) => self.draining.retain(|(id, _)| *id >= h),
            None => self.draining.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(host: &str) -> Result<Destination, String> {
        Ok(Destination::new("k", host, false).unwrap())
    }

    fn url(d: Option<Arc<Destination>>) -> Option<String> {
        d.map(|d| d.events_url().to_owned())
    }

    #[test]
    fn old_events_keep_their_destination_until_drained() {
        let mut r = Routes::new(dest("https://a"));
        assert_eq!(r.current(), Ok(0));
        assert!(
            !r.switch_to(dest("https://a/")),
            "same endpoint is no change"
        );
        assert!(r.switch_to(dest("https://b")));
        assert_eq!(r.current(), Ok(1));
        assert_eq!(url(r.resolve(0)).as_deref(), Some("https://a/v3/events"));
        assert_eq!(url(r.resolve(1)).as_deref(), Some("https://b/v3/events"));
        assert!(r.is_draining(0));
        r.give_up(0);
        assert_eq!(url(r.resolve(0)).as_deref(), Some("https://b/v3/events"));
    }

    #[test]
    fn not_integrated_has_no_route_but_old_events_still_drain() {
        let mut r = Routes::new(dest("https://a"));
        assert!(r.switch_to(Err("no odp".into())));
        assert_eq!(r.current(), Err("no odp"));
        assert!(r.resolve(0).is_some());
        assert!(r.resolve(1).is_none());
        r.forget_older_than(None);
        assert!(r.resolve(0).is_none());
        assert!(!r.switch_to(Err("still none".into())));
        assert_eq!(r.current(), Err("still none"));
    }

    #[test]
    fn forgetting_keeps_routes_still_queued() {
        let mut r = Routes::new(dest("https://a"));
        r.switch_to(dest("https://b"));
        r.switch_to(dest("https://c"));
        r.forget_older_than(Some(1));
        assert!(!r.is_draining(0));
        assert!(r.is_draining(1));
    }
}

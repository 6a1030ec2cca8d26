//! `fork()` safety. Only the forking thread survives in a child, so a lock held by any other
//! thread at that moment would stay locked forever there. Around every fork (`pthread_atfork`)
//! the forking thread takes every libodp lock, so none is held elsewhere, and releases them on
//! both sides. The child's clients notice the new epoch on their next call and start over
//! with an empty queue and fresh threads (see `Client::adopt_after_fork`); the parent's clients
//! carry on untouched.

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, Weak};

use once_cell::sync::Lazy;

use super::client::{Shared, State};

/// Bumped in every child process; a client whose epoch differs was inherited from a parent.
static EPOCH: AtomicU32 = AtomicU32::new(0);

/// Every live client, so `prepare` can lock them.
static CENSUS: Lazy<Mutex<Vec<Weak<Shared>>>> = Lazy::new(|| Mutex::new(Vec::new()));

/// Other process-wide locks to take around a fork (the FFI handle registry, the logger).
/// Takes a lock and returns its guard.
type Locker = fn() -> Box<dyn Any>;

static EXTRA_LOCKS: Lazy<Mutex<Vec<Locker>>> = Lazy::new(|| Mutex::new(Vec::new()));

static INSTALL: Once = Once::new();

/// The fork epoch of this process.
pub fn epoch() -> u32 {
    EPOCH.load(Ordering::Acquire)
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: the handlers are `extern "C"` functions that never unwind (they catch panics).
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
        }
        register_lock_locked(|| Box::new(super::log::lock_for_fork()));
    });
}

/// Adds a client to the census (and installs the fork handlers on first use).
pub(crate) fn register(shared: &Arc<Shared>) {
    install();
    let mut census = CENSUS.lock().unwrap_or_else(|e| e.into_inner());
    census.retain(|w| w.strong_count() > 0);
    census.push(Arc::downgrade(shared));
}

/// Adds a process-wide lock to take around a fork. `lock` returns the held guard.
pub(crate) fn register_lock(lock: fn() -> Box<dyn Any>) {
    install();
    register_lock_locked(lock);
}

fn register_lock_locked(lock: fn() -> Box<dyn Any>) {
    EXTRA_LOCKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(lock);
}

/// Locks held by the forking thread between `prepare` and `parent`/`child`. Fields drop in
/// order: guards before the clients they borrow from.
struct Held {
    states: Vec<MutexGuard<'static, State>>,
    extras: Vec<Box<dyn Any>>,
    census: MutexGuard<'static, Vec<Weak<Shared>>>,
    clients: Vec<Arc<Shared>>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

extern "C" fn prepare() {
    let _ = std::panic::catch_unwind(|| {
        let extra_lockers = EXTRA_LOCKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let census = CENSUS.lock().unwrap_or_else(|e| e.into_inner());
        let clients: Vec<Arc<Shared>> = census.iter().filter_map(Weak::upgrade).collect();
        let states = clients
            .iter()
            .map(|c| {
                let guard = c.state.lock().unwrap_or_else(|e| e.into_inner());
                // SAFETY: `clients` keeps every `Shared` alive for as long as `Held` lives, and
                // `Held` drops the guards before the clients.
                unsafe {
                    std::mem::transmute::<MutexGuard<'_, State>, MutexGuard<'static, State>>(guard)
                }
            })
            .collect();
        let extras = extra_lockers.iter().map(|lock| lock()).collect();
        HELD.with(|h| {
            *h.borrow_mut() = Some(Held {
                states,
                extras,
                census,
                clients,
            })
        });
    });
}

extern "C" fn parent() {
    let _ = std::panic::catch_unwind(|| HELD.with(|h| drop(h.borrow_mut().take())));
}

extern "C" fn child() {
    let _ = std::panic::catch_unwind(|| {
        EPOCH.fetch_add(1, Ordering::AcqRel);
        HELD.with(|h| {
            if let Some(held) = h.borrow_mut().take() {
                let Held {
                    states,
                    extras,
                    census,
                    clients,
                } = held;
                drop(states);
                drop(extras);
                drop(census);
                // The parent's threads hold references that will never be released here;
                // dropping ours could never free anything, so do not try.
                std::mem::forget(clients);
            }
        });
    });
}

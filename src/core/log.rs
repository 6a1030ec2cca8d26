//! Process-wide logging: silent by default, `ODP_LOG=debug|info|warn|error` logs to stderr, and
//! a sink set by the embedding program replaces that. Messages are formatted only when their
//! level is enabled, and the sink is always called without any libodp lock held.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

use once_cell::sync::Lazy;

/// Severity of a log message; a sink receives messages at or above its minimum level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Per-event and per-request detail.
    Debug = 0,
    /// Lifecycle: datafile loaded, destination switched.
    Info = 1,
    /// Something failed and libodp copes: a retry, a dropped batch, a failed fetch.
    Warn = 2,
    /// Something failed that the caller should look at.
    Error = 3,
}

impl Level {
    /// The level for a number (0 debug .. 3 error); anything else is `None`.
    pub fn from_number(n: i64) -> Option<Level> {
        match n {
            0 => Some(Level::Debug),
            1 => Some(Level::Info),
            2 => Some(Level::Warn),
            3 => Some(Level::Error),
            _ => None,
        }
    }

    /// `"debug"`, `"info"`, `"warn"` or `"error"`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Where log messages go.
pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// A minimum level above every level: nothing is logged.
const OFF: u8 = 4;

struct Logger {
    min_level: AtomicU8,
    sink: RwLock<Option<Sink>>,
}

static LOGGER: Lazy<Logger> = Lazy::new(|| {
    let (min, sink) = env_default();
    Logger {
        min_level: AtomicU8::new(min),
        sink: RwLock::new(sink),
    }
});

/// The stderr logger that `ODP_LOG` asks for, if it does.
fn env_default() -> (u8, Option<Sink>) {
    let level = match std::env::var("ODP_LOG").ok().as_deref().map(str::trim) {
        Some("debug") => Level::Debug,
        Some("info") => Level::Info,
        Some("warn") | Some("warning") => Level::Warn,
        Some("error") => Level::Error,
        _ => return (OFF, None),
    };
    let sink: Sink = Arc::new(|level: Level, msg: &str| {
        eprintln!("[libodp {}] {}", level.name(), msg);
    });
    (level as u8, Some(sink))
}

thread_local! {
    /// This thread is inside a sink call (a sink that replaces the logger must not wait for
    /// itself).
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Replaces the sink. `None` restores the default (stderr when `ODP_LOG` is set, else silence).
///
/// Returns once no call to the previous sink is running on any thread, so whatever the previous
/// sink used may be released; called from inside a sink, it returns at once instead.
pub fn set_sink(min_level: Level, sink: Option<Sink>) {
    let (min, sink) = match sink {
        Some(s) => (min_level as u8, Some(s)),
        None => env_default(),
    };
    let logger = &*LOGGER;
    let previous = {
        let mut slot = logger.sink.write().unwrap_or_else(|e| e.into_inner());
        logger.min_level.store(min, Ordering::Release);
        std::mem::replace(&mut *slot, sink)
    };
    // Every running call holds a clone of its sink: when ours is the last, none is running.
    if let Some(previous) = previous {
        if !IN_SINK.with(Cell::get) {
            while Arc::strong_count(&previous) > 1 {
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }
    }
}

/// True when a message at `level` would go somewhere; check before formatting costly messages.
pub fn enabled(level: Level) -> bool {
    (level as u8) >= LOGGER.min_level.load(Ordering::Acquire)
}

/// Logs a message. Must not be called while holding a libodp lock: the sink is user code.
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    // Clone the sink out so the lock is released before user code runs.
    let sink = LOGGER
        .sink
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(sink) = sink {
        let text = fmt::format(args);
        let outer = IN_SINK.with(|s| s.replace(true));
        sink(level, &text);
        IN_SINK.with(|s| s.set(outer));
    }
}

/// Takes the logger's lock around `fork()` so a child never inherits it locked (see
/// `core::fork`). Returns the guard to hold until after the fork.
pub(crate) fn lock_for_fork() -> std::sync::RwLockWriteGuard<'static, Option<Sink>> {
    LOGGER.sink.write().unwrap_or_else(|e| e.into_inner())
}

/// `log!(Level::Warn, "...", args)`.
macro_rules! log {
    ($level:expr, $($arg:tt)+) => {
        if $crate::core::log::enabled($level) {
            $crate::core::log::write($level, format_args!($($arg)+))
        }
    };
}
pub(crate) use log;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    #[test]
    fn replacing_the_sink_waits_for_running_calls_of_the_old_one() {
        let finished = Arc::new(AtomicBool::new(false));
        let slow: Sink = {
            let finished = finished.clone();
            Arc::new(move |_: Level, m: &str| {
                if m == "slow" {
                    std::thread::sleep(Duration::from_millis(200));
                    finished.store(true, Ordering::SeqCst);
                }
            })
        };
        set_sink(Level::Debug, Some(slow));
        let logging = std::thread::spawn(|| write(Level::Error, format_args!("slow")));
        std::thread::sleep(Duration::from_millis(50));
        set_sink(Level::Error, None);
        assert!(
            finished.load(Ordering::SeqCst),
            "set_sink returned while the old sink ran"
        );
        logging.join().unwrap();
        // A sink may replace itself without waiting for itself.
        let reentrant: Sink = Arc::new(|_: Level, _: &str| set_sink(Level::Error, None));
        set_sink(Level::Debug, Some(reentrant));
        write(Level::Error, format_args!("replace me"));
    }
}

//! The error type of the core: a kind (one per C result code) and a detailed message.

use std::fmt;

/// What went wrong, one variant per C result code (`ODP_ERR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A required argument was missing or out of range.
    InvalidArgument,
    /// A string argument was not valid UTF-8.
    InvalidUtf8,
    /// A JSON argument could not be parsed.
    InvalidJson,
    /// The client handle is unknown, stale or freed.
    InvalidHandle,
    /// The configuration JSON is invalid.
    InvalidConfig,
    /// A datafile is invalid.
    InvalidDatafile,
    /// No datafile has been loaded yet.
    SdkNotReady,
    /// ODP is disabled by configuration.
    OdpNotEnabled,
    /// The datafile has no usable ODP integration.
    OdpNotIntegrated,
    /// The action is empty.
    InvalidAction,
    /// The identifiers are empty or not a JSON object of strings.
    InvalidIdentifiers,
    /// The event data is invalid.
    InvalidData,
    /// The event queue is full.
    QueueFull,
    /// The client is closed.
    Closed,
    /// A flush, close or wait did not finish in time.
    Timeout,
    /// A bug in libodp (a caught panic).
    Internal,
}

impl ErrorKind {
    /// The fixed message for this kind. Where the Optimizely SDKs have a text for the
    /// condition, it is theirs, word for word (SPEC §3).
    pub const fn message(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::InvalidUtf8 => "string is not valid UTF-8",
            ErrorKind::InvalidJson => "invalid JSON",
            ErrorKind::InvalidHandle => "invalid client handle (never created, freed or stale)",
            ErrorKind::InvalidConfig => "invalid configuration",
            ErrorKind::InvalidDatafile => "invalid datafile",
            ErrorKind::SdkNotReady => "Optimizely SDK not configured properly yet.",
            ErrorKind::OdpNotEnabled => "ODP is not enabled",
            ErrorKind::OdpNotIntegrated => "ODP is not integrated",
            ErrorKind::InvalidAction => "ODP action is not valid (cannot be empty)",
            ErrorKind::InvalidIdentifiers => {
                "ODP events must have at least one key-value pair in identifiers"
            }
            ErrorKind::InvalidData => "ODP data is not valid",
            ErrorKind::QueueFull => "ODP EventQueue is full",
            ErrorKind::Closed => "client is closed",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Internal => "internal error in libodp",
        }
    }
}

/// An error with its kind and the detailed, human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    detail: String,
}

impl Error {
    /// An error whose message is the kind's fixed message.
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            detail: kind.message().to_owned(),
        }
    }

    /// An error with a specific message.
    pub fn with_detail(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Error {
            kind,
            detail: detail.into(),
        }
    }

    /// The fixed message of the kind followed by `": "` and the specifics.
    pub fn because(kind: ErrorKind, why: impl fmt::Display) -> Self {
        Error {
            kind,
            detail: format!("{}: {}", kind.message(), why),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The detailed message.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// "1 event", "2 events": counts in messages.
pub(crate) fn events(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 event".to_owned(),
        n => format!("{n} events"),
    }
}

/// Result alias of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! An ODP event: reading and checking the caller's JSON, `fs_user_id` normalisation, the common
//! data, and the wire encoding of one event (SPEC §4, §5).
//!
//! Parsing streams each JSON object into its pairs in input order (normalisation needs the
//! order) and borrows strings from the input where it can; the event is encoded once, here, and
//! the queue keeps only those bytes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::{Error, ErrorKind, Result};
use super::flat_json;

/// `type` used when the caller gives none.
pub const DEFAULT_EVENT_TYPE: &str = "fullstack";

/// Largest magnitude a number in event data may have: 2^53, the last integer an IEEE double
/// holds exactly (the Go SDK's rule).
pub const MAX_SAFE_NUMBER: u64 = 1 << 53;

/// The values every event's data starts with (the caller's data overrides them).
#[derive(Debug, Clone)]
pub struct CommonData {
    data_source: String,
    data_source_version: String,
}

impl CommonData {
    /// `data_source` and `data_source_version` as configured.
    pub fn new(data_source: &str, data_source_version: &str) -> CommonData {
        CommonData {
            data_source: data_source.to_owned(),
            data_source_version: data_source_version.to_owned(),
        }
    }
}

/// A JSON string, borrowed from the input unless it had escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, reduced to what event rules need to know about it.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    Null,
    UInt(u64),
    Int(i64),
    Float(f64),
    Object,
    Array,
}

impl Scalar<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "a string",
            Scalar::Bool(_) => "a boolean",
            Scalar::Null => "null",
            Scalar::UInt(_) | Scalar::Int(_) | Scalar::Float(_) => "a number",
            Scalar::Object => "an object",
            Scalar::Array => "an array",
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::UInt(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Scalar<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Scalar<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

type Pairs<'a> = Vec<(Cow<'a, str>, Scalar<'a>)>;

/// A top-level JSON value: an object's pairs in input order (`null` reads as no pairs), or the
/// kind of whatever else it was.
struct TopLevel<'a>(std::result::Result<Pairs<'a>, &'static str>);

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<TopLevel<'de>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    pairs.push((key, map.next_value::<Scalar<'de>>()?));
                }
                Ok(TopLevel(Ok(pairs)))
            }
            fn visit_unit<E>(self) -> std::result::Result<TopLevel<'de>, E> {
                Ok(TopLevel(Ok(Vec::new())))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<TopLevel<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TopLevel(Err("an array")))
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<TopLevel<'de>, E> {
                Ok(TopLevel(Err("a boolean")))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<TopLevel<'de>, E> {
                Ok(TopLevel(Err("a number")))
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<TopLevel<'de>, E> {
                Ok(TopLevel(Err("a number")))
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<TopLevel<'de>, E> {
                Ok(TopLevel(Err("a number")))
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<TopLevel<'de>, E> {
                Ok(TopLevel(Err("a string")))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'a> From<flat_json::Value<'a>> for Scalar<'a> {
    fn from(v: flat_json::Value<'a>) -> Scalar<'a> {
        match v {
            flat_json::Value::Str(s) => Scalar::Str(Cow::Borrowed(s)),
            flat_json::Value::UInt(n) => Scalar::UInt(n),
            flat_json::Value::Int(n) => Scalar::Int(n),
            flat_json::Value::Float(x) => Scalar::Float(x),
            flat_json::Value::Bool(b) => Scalar::Bool(b),
            flat_json::Value::Null => Scalar::Null,
        }
    }
}

fn parse_top_level<'a>(
    json: &'a str,
    what: &str,
) -> Result<std::result::Result<Pairs<'a>, &'static str>> {
    let mut pairs = Vec::with_capacity(8);
    if flat_json::scan(json, |k, v| pairs.push((Cow::Borrowed(k), Scalar::from(v)))) {
        return Ok(Ok(pairs));
    }
    parse_with_serde(json, what)
}

fn parse_with_serde<'a>(
    json: &'a str,
    what: &str,
) -> Result<std::result::Result<Pairs<'a>, &'static str>> {
    match serde_json::from_str::<TopLevel<'a>>(json) {
        Ok(TopLevel(v)) => Ok(v),
        Err(e) if e.to_string().starts_with("number out of range") => Err(Error::because(
            ErrorKind::InvalidData,
            format_args!("{what} holds a number too large to represent ({e})"),
        )),
        Err(e) => Err(Error::with_detail(
            ErrorKind::InvalidJson,
            format!("{what} is not valid JSON: {e}"),
        )),
    }
}

/// Panics unless the fast path and serde_json read `json` the same way wherever the fast path
/// reads it at all (for the fuzz target; floats are compared bit for bit).
#[doc(hidden)]
pub fn check_fast_path_agrees_with_serde_json(json: &str) {
    let mut fast = Vec::new();
    if !flat_json::scan(json, |k, v| fast.push((k, v))) {
        return;
    }
    let Ok(Ok(full)) = parse_with_serde(json, "input") else {
        panic!("the fast path accepted {json:?}, serde_json did not");
    };
    assert_eq!(fast.len(), full.len(), "{json:?}");
    for ((fk, fv), (sk, sv)) in fast.iter().zip(&full) {
        assert_eq!(*fk, sk.as_ref(), "{json:?}");
        let same = match (Scalar::from(*fv), sv) {
            (Scalar::Float(a), Scalar::Float(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == *b,
        };
        assert!(same, "{json:?}: fast {fv:?}, serde_json {sv:?}");
    }
}

/// Event identifiers: pairs in input order (before normalisation) whose values are all
/// `Scalar::Str` (kept as scalars so the parsed vector is used as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct Identifiers<'a>(Pairs<'a>);

impl<'a> Scalar<'a> {
    /// The text of a string value ("" for anything else, which identifiers never hold).
    fn text(&self) -> &str {
        match self {
            Scalar::Str(s) => s,
            _ => "",
        }
    }
}

fn identifiers_invalid(why: impl fmt::Display) -> Error {
    Error::with_detail(
        ErrorKind::InvalidIdentifiers,
        format!("ODP identifiers are not valid: {why}"),
    )
}

impl<'a> Identifiers<'a> {
    /// Reads `identifiers_json`. `None`, `null` and `{}` are empty (an error at SPEC §3 step 2).
    ///
    /// Errors: `InvalidJson` (syntax, with line and column) and `InvalidIdentifiers` (not an
    /// object, a value that is not a string, or no pairs).
    pub fn parse(json: Option<&'a str>) -> Result<Identifiers<'a>> {
        let pairs = match json {
            None => Vec::new(),
            Some(json) => parse_top_level(json, "identifiers")?.map_err(|kind| {
                identifiers_invalid(format_args!(
                    "identifiers must be a JSON object, not {kind}"
                ))
            })?,
        };
        if let Some((key, value)) = pairs.iter().find(|(_, v)| !matches!(v, Scalar::Str(_))) {
            return Err(identifiers_invalid(format_args!(
                "the value of {key:?} is {}; identifier values must be strings",
                value.kind()
            )));
        }
        if pairs.is_empty() {
            return Err(Error::new(ErrorKind::InvalidIdentifiers));
        }
        Ok(Identifiers(pairs))
    }

    /// Applies the `fs_user_id` rule (SPEC §4): a present, non-empty `fs_user_id` wins;
    /// otherwise the first key in input order that is `fs-user-id` or `fs_user_id` in any ASCII
    /// case, other than `fs_user_id` itself, is renamed to `fs_user_id`. Then keys are sorted
    /// bytewise and duplicates collapse to their last value, as a JSON object reads.
    pub fn normalise(&mut self) {
        const KEY: &str = "fs_user_id";
        let pairs = &mut self.0;
        let has_value = pairs
            .iter()
            .rev()
            .find(|(k, _)| k == KEY)
            .is_some_and(|(_, v)| !v.text().is_empty());
        if !has_value {
            let alias = pairs.iter().position(|(k, _)| {
                k != KEY && (k.eq_ignore_ascii_case("fs-user-id") || k.eq_ignore_ascii_case(KEY))
            });
            if let Some(i) = alias {
                // Moved to the end so it beats an empty `fs_user_id` in the de-duplication.
                let (_, value) = pairs.remove(i);
                pairs.push((Cow::Borrowed(KEY), value));
            }
        }
        sort_and_keep_last(pairs);
    }

    /// The pairs, in their current order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.text()))
    }
}

/// Stable sort by key, then keep the last of each run of equal keys.
fn sort_and_keep_last<V>(pairs: &mut Vec<(Cow<'_, str>, V)>) {
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    // `dedup_by` keeps the first of a run; reversing the run order keeps the last instead.
    pairs.reverse();
    pairs.dedup_by(|later, earlier| later.0 == earlier.0);
    pairs.reverse();
}

/// Event data: every value checked, keys sorted bytewise, a repeated key keeping its last value.
#[derive(Debug, Clone, PartialEq)]
pub struct Data<'a>(Pairs<'a>);

impl<'a> Data<'a> {
    /// Reads `data_json`. `None`, `null` and `{}` are no data.
    ///
    /// Errors: `InvalidJson` (syntax), `InvalidData` naming the key and why (an object or array
    /// value, a number beyond ±2^53, a top level that is not an object).
    pub fn parse(json: Option<&'a str>) -> Result<Data<'a>> {
        let Some(json) = json else {
            return Ok(Data(Vec::new()));
        };
        let pairs = parse_top_level(json, "data")?.map_err(|kind| {
            Error::because(
                ErrorKind::InvalidData,
                format_args!("data must be a JSON object, not {kind}"),
            )
        })?;
        for (key, value) in &pairs {
            let why = match value {
                Scalar::Object | Scalar::Array => format!(
                    "the value of {key:?} is {}; values must be strings, numbers, booleans or null",
                    value.kind()
                ),
                Scalar::UInt(n) if *n > MAX_SAFE_NUMBER => out_of_range(key, n),
                Scalar::Int(n) if n.unsigned_abs() > MAX_SAFE_NUMBER => out_of_range(key, n),
                Scalar::Float(x) if !x.is_finite() || x.abs() > MAX_SAFE_NUMBER as f64 => {
                    out_of_range(key, x)
                }
                _ => continue,
            };
            return Err(Error::because(ErrorKind::InvalidData, why));
        }
        let mut pairs = pairs;
        sort_and_keep_last(&mut pairs);
        Ok(Data(pairs))
    }
}

fn out_of_range(key: &str, n: &dyn fmt::Display) -> String {
    format!("the value of {key:?} ({n}) is beyond ±2^53, the largest number sent exactly")
}

/// Decodes a text argument; invalid UTF-8 is `InvalidUtf8` naming the argument and the offset.
pub fn utf8<'a>(bytes: Option<&'a [u8]>, name: &str) -> Result<Option<&'a str>> {
    bytes
        .map(|b| {
            std::str::from_utf8(b).map_err(|e| {
                Error::with_detail(
                    ErrorKind::InvalidUtf8,
                    format!(
                        "{name} is not valid UTF-8 (invalid byte at offset {})",
                        e.valid_up_to()
                    ),
                )
            })
        })
        .transpose()
}

/// Checks `action` (SPEC §3 step 5): `None` and `""` are invalid; whitespace is a valid action.
pub fn check_action(action: Option<&str>) -> Result<&str> {
    match action {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(Error::new(ErrorKind::InvalidAction)),
    }
}

/// Index of the first byte that JSON must escape (`"`, `\`, or below 0x20), or `bytes.len()`.
/// Eight bytes at a time: most strings in events need no escaping at all.
fn escape_free_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let x = u64::from_le_bytes(word);
        // A byte below 0x20, or equal to '"' or '\': the classic "has less than" and "has
        // zero" tests. Bytes >= 0x80 can set the "less than" bit falsely; the byte loop below
        // sorts those out.
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        if below_space
            | has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')))
            != 0
        {
            break;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .unwrap_or(bytes.len() - i)
}

/// Appends `s` as a JSON string, escaped exactly as serde_json (and Go) escape: `"`, `\`, and
/// control characters; everything else, non-ASCII included, is written as is.
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut rest = bytes;
    loop {
        let clean = escape_free_prefix(rest);
        out.extend_from_slice(&rest[..clean]);
        let Some(&b) = rest.get(clean) else { break };
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            _ => b'u',
        };
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            out.extend_from_slice(&[
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        }
        rest = &rest[clean + 1..];
    }
    out.push(b'"');
}

/// Text for the wire, and whether it is known to need no escaping: strings serde_json could
/// borrow from the input had no escapes there, so they hold no `"`, `\` or control character
/// (JSON forbids them raw), and the constant parts of the common data are plain.
#[derive(Clone, Copy)]
struct WireText<'a> {
    text: &'a str,
    clean: bool,
}

impl<'a> WireText<'a> {
    fn of(s: &'a Cow<'a, str>) -> WireText<'a> {
        WireText {
            text: s.as_ref(),
            clean: matches!(s, Cow::Borrowed(_)),
        }
    }

    fn plain(text: &'a str) -> WireText<'a> {
        WireText { text, clean: true }
    }

    fn write(self, out: &mut Vec<u8>) {
        if self.clean {
            out.push(b'"');
            out.extend_from_slice(self.text.as_bytes());
            out.push(b'"');
        } else {
            write_json_str(out, self.text);
        }
    }
}

/// Appends a data value: a string as JSON text, numbers in serde_json's forms (itoa for
/// integers, the shortest round trip for floats, `50.0` for whole ones).
fn write_scalar(out: &mut Vec<u8>, value: &Scalar<'_>) {
    match value {
        Scalar::Str(s) => WireText::of(s).write(out),
        Scalar::Bool(true) => out.extend_from_slice(b"true"),
        Scalar::Bool(false) => out.extend_from_slice(b"false"),
        // Writing to a Vec cannot fail.
        Scalar::UInt(n) => drop(serde_json::to_writer(&mut *out, n)),
        Scalar::Int(n) => drop(serde_json::to_writer(&mut *out, n)),
        Scalar::Float(x) => drop(serde_json::to_writer(&mut *out, x)),
        // Objects and arrays never get here (Data::parse refuses them).
        Scalar::Null | Scalar::Object | Scalar::Array => out.extend_from_slice(b"null"),
    }
}

/// Room for an event's text: exact for plain strings, generous for numbers.
fn encoded_size(identifiers: &Identifiers<'_>, data: &Data<'_>, common_len: usize) -> usize {
    let ids: usize = identifiers
        .0
        .iter()
        .map(|(k, v)| k.len() + v.text().len() + 6)
        .sum();
    let values: usize = data
        .0
        .iter()
        .map(|(k, v)| {
            k.len()
                + 4
                + match v {
                    Scalar::Str(s) => s.len() + 2,
                    Scalar::Bool(_) | Scalar::Null => 5,
                    _ => 24,
                }
        })
        .sum();
    48 + ids + values + common_len
}

/// Encodes one event as it goes on the wire (SPEC §5): `{"type":…,"action":…,"identifiers":{…},
/// "data":{…}}`, compact, object keys sorted bytewise. The data is the common data merged with
/// the caller's (both sorted), the caller's value winning on a shared key. `identifiers` must
/// already be normalised.
pub fn encode(
    event_type: Option<&str>,
    action: &str,
    identifiers: &Identifiers<'_>,
    data: &Data<'_>,
    common: &CommonData,
    idempotence_id: &str,
) -> Vec<u8> {
    let event_type = match event_type {
        Some(t) if !t.is_empty() => t,
        _ => DEFAULT_EVENT_TYPE,
    };
    let configured = |text: &'_ str| escape_free_prefix(text.as_bytes()) == text.len();
    // Sorted bytewise, as the caller's data is.
    let common_pairs = [
        (
            "data_source",
            common.data_source.as_str(),
            configured(&common.data_source),
        ),
        ("data_source_type", "sdk", true),
        (
            "data_source_version",
            common.data_source_version.as_str(),
            configured(&common.data_source_version),
        ),
        ("idempotence_id", idempotence_id, true),
    ];
    let common_len: usize = common_pairs
        .iter()
        .map(|(k, v, _)| k.len() + v.len() + 6)
        .sum();

    let mut out = Vec::with_capacity(
        event_type.len() + action.len() + encoded_size(identifiers, data, common_len),
    );
    out.extend_from_slice(b"{\"type\":");
    write_json_str(&mut out, event_type);
    out.extend_from_slice(b",\"action\":");
    write_json_str(&mut out, action);
    out.extend_from_slice(b",\"identifiers\":{");
    for (i, (k, v)) in identifiers.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        WireText::of(k).write(&mut out);
        out.push(b':');
        write_scalar(&mut out, v);
    }
    out.extend_from_slice(b"},\"data\":{");
    let mut theirs = data.0.iter().peekable();
    let mut ours = common_pairs.iter().peekable();
    let mut first = true;
    loop {
        let take_ours = match (ours.peek(), theirs.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((ok, _, _)), Some((tk, _))) => {
                if *ok == tk.as_ref() {
                    ours.next(); // the caller's value replaces ours
                    continue;
                }
                ok.as_bytes() < tk.as_bytes()
            }
        };
        if !first {
            out.push(b',');
        }
        first = false;
        if take_ours {
            let (k, v, clean) = ours.next().expect("peeked");
            WireText::plain(k).write(&mut out);
            out.push(b':');
            WireText {
                text: v,
                clean: *clean,
            }
            .write(&mut out);
        } else {
            let (k, v) = theirs.next().expect("peeked");
            WireText::of(k).write(&mut out);
            out.push(b':');
            write_scalar(&mut out, v);
        }
    }
    out.extend_from_slice(b"}}");
    out
}

/// One call's event, as the caller gave it: bytes that should be UTF-8 (the core checks, so
/// every binding reports bad text the same way). `None` stands for a NULL pointer.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventInput<'a> {
    /// ODP event type; `None` or `""` means `"fullstack"`.
    pub event_type: Option<&'a [u8]>,
    /// ODP action; must not be empty.
    pub action: Option<&'a [u8]>,
    /// A JSON object of string values.
    pub identifiers_json: Option<&'a [u8]>,
    /// A JSON object of scalar values, or `None`.
    pub data_json: Option<&'a [u8]>,
}

impl<'a> EventInput<'a> {
    /// An input from Rust strings.
    pub fn new(
        event_type: Option<&'a str>,
        action: Option<&'a str>,
        identifiers_json: Option<&'a str>,
        data_json: Option<&'a str>,
    ) -> EventInput<'a> {
        EventInput {
            event_type: event_type.map(str::as_bytes),
            action: action.map(str::as_bytes),
            identifiers_json: identifiers_json.map(str::as_bytes),
            data_json: data_json.map(str::as_bytes),
        }
    }

    /// Total bytes of the inputs.
    pub fn size(&self) -> usize {
        [
            self.event_type,
            self.action,
            self.identifiers_json,
            self.data_json,
        ]
        .iter()
        .map(|s| s.map_or(0, <[u8]>::len))
        .sum()
    }
}

/// Every check that depends on the input alone, then the encoding with a fresh
/// `idempotence_id`: the whole per-event work of `send_event` except the client's state.
///
/// The first failure is returned in SPEC order: undecodable input (`InvalidUtf8`, then
/// `InvalidJson`) before anything else, then `InvalidIdentifiers`, `InvalidAction`,
/// `InvalidData`. The client interleaves its state checks between these.
pub fn prepare(input: &EventInput<'_>, common: &CommonData) -> Result<Vec<u8>> {
    let event_type = utf8(input.event_type, "event_type")?;
    let action = utf8(input.action, "action")?;
    let identifiers = Identifiers::parse(utf8(input.identifiers_json, "identifiers")?);
    let data = Data::parse(utf8(input.data_json, "data")?);
    for result in [identifiers.as_ref().err(), data.as_ref().err()] {
        if let Some(e) = result.filter(|e| e.kind() == ErrorKind::InvalidJson) {
            return Err(e.clone());
        }
    }
    let mut identifiers = identifiers?;
    let action = check_action(action)?;
    let data = data?;
    identifiers.normalise();
    let id = super::ids::new_idempotence_id();
    let id = std::str::from_utf8(&id).unwrap_or_default();
    Ok(encode(event_type, action, &identifiers, &data, common, id))
}

/// Wraps encoded events into the request body: a JSON array.
pub fn batch_body<'a>(events: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut body = Vec::with_capacity(4096);
    body.push(b'[');
    for (i, e) in events.into_iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(e);
    }
    body.push(b']');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(json: &str) -> Identifiers<'_> {
        let mut i = Identifiers::parse(Some(json)).unwrap();
        i.normalise();
        i
    }

    fn keys(i: &Identifiers<'_>) -> Vec<(String, String)> {
        i.pairs()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fs_user_id_aliases_convert_in_any_case() {
        for alias in [
            "fs-user-id",
            "FS-USER-ID",
            "FS_USER_ID",
            "Fs_User_Id",
            "fs_User_ID",
        ] {
            let json = format!(r#"{{"{alias}":"u1","email":"a@b.c"}}"#);
            let i = ids(&json);
            assert_eq!(
                keys(&i),
                pairs(&[("email", "a@b.c"), ("fs_user_id", "u1")]),
                "{alias}"
            );
        }
    }

    #[test]
    fn mixed_separators_and_other_spellings_do_not_convert() {
        for key in [
            "fs_user-id",
            "fs-user_id",
            "FS-USER_ID",
            "fsuserid",
            "fs.user.id",
            "fs_user_id2",
        ] {
            let json = format!(r#"{{"{key}":"u1"}}"#);
            let i = ids(&json);
            assert_eq!(keys(&i), pairs(&[(key, "u1")]), "{key}");
        }
    }

    #[test]
    fn present_fs_user_id_wins_and_aliases_stay() {
        let i = ids(r#"{"FS-USER-ID":"alias","fs_user_id":"real"}"#);
        assert_eq!(
            keys(&i),
            pairs(&[("FS-USER-ID", "alias"), ("fs_user_id", "real")])
        );
    }

    #[test]
    fn first_alias_in_input_order_wins_and_replaces_an_empty_fs_user_id() {
        let i = ids(r#"{"fs_user_id":"","FS-USER-ID":"first","fs-user-id":"second"}"#);
        assert_eq!(
            keys(&i),
            pairs(&[("fs-user-id", "second"), ("fs_user_id", "first")])
        );
        let i = ids(r#"{"Fs-User-Id":"first","fs_user_id":"","FS_USER_ID":"second"}"#);
        assert_eq!(
            keys(&i),
            pairs(&[("FS_USER_ID", "second"), ("fs_user_id", "first")])
        );
        // Nothing to promote: the empty value stays, as given.
        assert_eq!(
            keys(&ids(r#"{"fs_user_id":""}"#)),
            pairs(&[("fs_user_id", "")])
        );
    }

    #[test]
    fn identifiers_sorted_and_duplicates_keep_the_last_value() {
        let i = ids(r#"{"b":"1","a":"2","b":"3"}"#);
        assert_eq!(keys(&i), pairs(&[("a", "2"), ("b", "3")]));
    }

    #[test]
    fn identifier_errors() {
        let e = |json: Option<&str>| Identifiers::parse(json).unwrap_err();
        let empty = "ODP events must have at least one key-value pair in identifiers";
        for json in [None, Some("{}"), Some("null"), Some(" null ")] {
            let err = e(json);
            assert_eq!(err.kind(), ErrorKind::InvalidIdentifiers);
            assert_eq!(err.detail(), empty);
        }
        let err = e(Some(r#"{"email":"a","age":3}"#));
        assert_eq!(err.kind(), ErrorKind::InvalidIdentifiers);
        assert_eq!(
            err.detail(),
            "ODP identifiers are not valid: the value of \"age\" is a number; identifier values must be strings"
        );
        let err = e(Some(r#"["a"]"#));
        assert_eq!(
            err.detail(),
            "ODP identifiers are not valid: identifiers must be a JSON object, not an array"
        );
        let err = e(Some(r#"{"a":"b""#));
        assert_eq!(err.kind(), ErrorKind::InvalidJson);
        assert_eq!(
            err.detail(),
            "identifiers is not valid JSON: EOF while parsing an object at line 1 column 8"
        );
        assert_eq!(e(Some(r#"{"a":"b"} x"#)).kind(), ErrorKind::InvalidJson);
        // Empty-string values are accepted, as in the Go SDK.
        assert!(Identifiers::parse(Some(r#"{"vuid":""}"#)).is_ok());
    }

    #[test]
    fn data_value_rules() {
        let ok = [
            r#"{"key11":"value-1","key12":true,"key13":3.5,"key14":null,"key15":1}"#,
            r#"{"max":9007199254740992,"min":-9007199254740992,"f":9007199254740992.0,"nf":-9007199254740992.0}"#,
            "{}",
            "null",
        ];
        for json in ok {
            assert!(Data::parse(Some(json)).is_ok(), "{json}");
        }
        let bad = [
            (r#"{"key11":{}}"#, "the value of \"key11\" is an object; values must be strings, numbers, booleans or null"),
            (r#"{"key12":[]}"#, "the value of \"key12\" is an array; values must be strings, numbers, booleans or null"),
            (r#"{"n":9007199254740993}"#, "the value of \"n\" (9007199254740993) is beyond ±2^53, the largest number sent exactly"),
            (r#"{"n":-9007199254740993}"#, "the value of \"n\" (-9007199254740993) is beyond ±2^53, the largest number sent exactly"),
            (r#"{"n":18014398509481984}"#, "the value of \"n\" (18014398509481984) is beyond ±2^53, the largest number sent exactly"),
            (r#"{"n":9007199254740994.0}"#, "the value of \"n\" (9007199254740994) is beyond ±2^53, the largest number sent exactly"),
            (r#"{"n":1e300}"#, "beyond ±2^53"),
            (r#"{"n":1e400}"#, "holds a number too large to represent"),
            ("[]", "data must be a JSON object, not an array"),
            ("\"x\"", "data must be a JSON object, not a string"),
        ];
        for (json, why) in bad {
            let err = Data::parse(Some(json)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidData, "{json}");
            assert!(
                err.detail().starts_with("ODP data is not valid: "),
                "{}",
                err.detail()
            );
            assert!(err.detail().contains(why), "{json}: {}", err.detail());
        }
        assert_eq!(
            Data::parse(Some("{")).unwrap_err().kind(),
            ErrorKind::InvalidJson
        );
    }

    #[test]
    fn utf8_errors_name_the_argument_and_offset() {
        let e = utf8(Some(&[b'o', b'k', 0xc3][..]), "action").unwrap_err();
        assert_eq!(
            (e.kind(), e.detail()),
            (
                ErrorKind::InvalidUtf8,
                "action is not valid UTF-8 (invalid byte at offset 2)"
            )
        );
        assert_eq!(utf8(Some("é".as_bytes()), "x").unwrap(), Some("é"));
        assert_eq!(utf8(None, "x").unwrap(), None);
    }

    #[test]
    fn action_rules() {
        assert_eq!(
            check_action(None).unwrap_err().detail(),
            "ODP action is not valid (cannot be empty)"
        );
        assert_eq!(
            check_action(Some("")).unwrap_err().kind(),
            ErrorKind::InvalidAction
        );
        assert_eq!(check_action(Some(" ")).unwrap(), " ");
    }

    const UUID: &str = "11111111-2222-4333-8444-555555555555";

    fn encoded(event_type: Option<&str>, ids_json: &str, data_json: Option<&str>) -> String {
        let i = ids(ids_json);
        let d = Data::parse(data_json).unwrap();
        let common = CommonData::new("libodp", "0.1.0");
        String::from_utf8(encode(event_type, "purchased", &i, &d, &common, UUID)).unwrap()
    }

    #[test]
    fn encodes_the_spec_example_byte_for_byte() {
        let got = encoded(
            Some("fullstack"),
            r#"{"fs_user_id":"user123","email":"a@b.com"}"#,
            Some(r#"{"item":"shirt","price":50.0}"#),
        );
        assert_eq!(
            got,
            format!(
                r#"{{"type":"fullstack","action":"purchased","identifiers":{{"email":"a@b.com","fs_user_id":"user123"}},"data":{{"data_source":"libodp","data_source_type":"sdk","data_source_version":"0.1.0","idempotence_id":"{UUID}","item":"shirt","price":50.0}}}}"#
            )
        );
    }

    #[test]
    fn default_type_and_no_data() {
        for t in [None, Some("")] {
            let got = encoded(t, r#"{"vuid":"v"}"#, None);
            assert!(
                got.starts_with(r#"{"type":"fullstack","action":"purchased","#),
                "{got}"
            );
            assert!(
                got.ends_with(&format!(r#""idempotence_id":"{UUID}"}}}}"#)),
                "{got}"
            );
        }
    }

    #[test]
    fn user_data_overrides_common_data_with_any_type() {
        let got = encoded(
            None,
            r#"{"vuid":"v"}"#,
            Some(
                r#"{"idempotence_id":234,"data_source_type":"456","data_source":true,"data_source_version":6.78,"abc":null}"#,
            ),
        );
        assert!(
            got.ends_with(r#""data":{"abc":null,"data_source":true,"data_source_type":"456","data_source_version":6.78,"idempotence_id":234}}"#),
            "{got}"
        );
    }

    #[test]
    fn numbers_keep_their_form_and_strings_are_escaped() {
        let got = encoded(
            Some("t\"y"),
            r#"{"e":"line\nbreak \u00e9 ☃"}"#,
            Some(r#"{"i":-5,"u":7,"f":0.1,"big":9007199254740992,"s":"<&>"}"#),
        );
        assert!(got.starts_with(r#"{"type":"t\"y","#), "{got}");
        assert!(
            got.contains(r#""identifiers":{"e":"line\nbreak é ☃"}"#),
            "{got}"
        );
        assert!(got.contains(r#""big":9007199254740992,"#), "{got}");
        assert!(got.contains(r#""f":0.1,"i":-5,"#), "{got}");
        assert!(got.contains(r#""s":"<&>","u":7}"#), "{got}");
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let all: String = (0u32..0x80)
            .filter_map(char::from_u32)
            .chain("é☃😀\u{2028}".chars())
            .collect();
        let long = format!("{}\u{1}{}é\\", "x".repeat(17), "y".repeat(9));
        for s in [
            all.as_str(),
            "",
            "plain",
            "\"q\"",
            "a\\b",
            "\u{7f}",
            "exactly8",
            "ééééé\"",
            &long,
        ] {
            let mut ours = Vec::new();
            write_json_str(&mut ours, s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn the_fast_path_reads_numbers_exactly_as_serde_json() {
        for n in [
            "0",
            "7",
            "-7",
            "123456789012345678",
            "-123456789012345678",
            "0.1",
            "-0.0",
            "50.0",
            "1e-400",
            "1E+2",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "5e-324",
            "4.9e-324",
            "9007199254740993.0",
            "0.30000000000000004",
            "1.00000000000000011102230246251565",
        ] {
            check_fast_path_agrees_with_serde_json(&format!(r#"{{"n":{n}}}"#));
            assert!(
                flat_json::scan(&format!(r#"{{"n":{n}}}"#), |_, _| {}),
                "{n}"
            );
        }
    }

    #[test]
    fn batch_body_is_a_compact_array() {
        assert_eq!(batch_body([&b"{}"[..], b"{\"a\":1}"]), b"[{},{\"a\":1}]");
        assert_eq!(batch_body(std::iter::empty()), b"[]");
    }
}

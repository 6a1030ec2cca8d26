//! The fast path of event parsing: a strict scanner for the usual event object — flat, with
//! strings that need no unescaping and ordinary numbers. It borrows everything from the input
//! and allocates one vector. Anything else (escapes, nesting, unusual numbers, any syntax error)
//! returns `None`, and the caller uses serde_json instead, so every error message and edge case
//! stays serde_json's. The two paths must agree on every input the scanner accepts: the fuzz
//! target checks it (`agrees_with_serde_json`).

/// A value of a flat object, as serde_json would read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A string without escapes.
    Str(&'a str),
    /// A non-negative integer.
    UInt(u64),
    /// A negative integer.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Hands the pairs of a flat JSON object to `pair`, in input order. Returns false when the text
/// is anything but the simple case (the full parser then decides; `pair` may have seen some
/// pairs by then, which the caller discards).
pub fn scan<'a>(text: &'a str, pair: impl FnMut(&'a str, Value<'a>)) -> bool {
    scan_pairs(text, pair).is_some()
}

fn scan_pairs<'a>(text: &'a str, mut pair: impl FnMut(&'a str, Value<'a>)) -> Option<()> {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    s.skip_space();
    s.expect(b'{')?;
    s.skip_space();
    if s.peek()? == b'}' {
        s.at += 1;
    } else {
        loop {
            s.skip_space();
            let key = s.string()?;
            s.skip_space();
            s.expect(b':')?;
            s.skip_space();
            let value = s.value()?;
            pair(key, value);
            s.skip_space();
            match s.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
    }
    s.skip_space();
    (s.at == s.bytes.len()).then_some(())
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// A string with no escape and no control character (JSON forbids them raw).
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let len = self.bytes[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if self.bytes[start + len] != b'"' {
            return None;
        }
        self.at = start + len + 1;
        // Both ends sit next to ASCII quotes, so they are character boundaries.
        self.text.get(start..start + len)
    }

    fn literal(&mut self, word: &[u8], value: Value<'a>) -> Option<Value<'a>> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Some(value)
        } else {
            None
        }
    }

    fn value(&mut self) -> Option<Value<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Value::Str),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// JSON's number grammar. Integers of up to 18 digits are read exactly; other numbers with
    /// a fraction or an exponent as the nearest f64 (serde_json with `float_roundtrip` reads
    /// them the same way). Everything else — `-0`, longer integers, overflow — is left to
    /// serde_json.
    fn number(&mut self) -> Option<Value<'a>> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let int_start = self.at;
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let int_digits = self.at - int_start;
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digit()?;
            self.digits();
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.digit()?;
            self.digits();
            is_float = true;
        }
        let text = &self.text[start..self.at];
        if is_float {
            let x = exact_decimal(text).or_else(|| text.parse::<f64>().ok())?;
            return x.is_finite().then_some(Value::Float(x));
        }
        if int_digits > 18 {
            return None;
        }
        let magnitude: u64 = self.text[int_start..self.at].parse().ok()?;
        match (negative, magnitude) {
            (false, n) => Some(Value::UInt(n)),
            (true, 0) => None,
            (true, n) => Some(Value::Int(-(n as i64))),
        }
    }

    fn digit(&mut self) -> Option<()> {
        self.next()?.is_ascii_digit().then_some(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }
}

/// Clinger's fast path: a decimal whose digits fit in 2^53 and whose power of ten is at most 22
/// is one exactly represented integer times or divided by one exactly represented power, so a
/// single correctly rounded operation gives the correctly rounded value (as `str::parse` would,
/// only without its general machinery). `None` for anything else.
fn exact_decimal(text: &str) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (digits_part, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let mut mantissa: u64 = 0;
    let mut fraction_digits = 0i32;
    let mut seen_point = false;
    for b in digits_part.bytes() {
        match b {
            b'.' => seen_point = true,
            b'0'..=b'9' => {
                mantissa = mantissa.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                if seen_point {
                    fraction_digits += 1;
                }
            }
            _ => return None,
        }
    }
    if mantissa >= 1 << 53 {
        return None;
    }
    let power = exponent.checked_sub(fraction_digits)?;
    let m = mantissa as f64;
    let x = match power {
        0..=22 => m * POW10[power as usize],
        -22..=-1 => m / POW10[(-power) as usize],
        _ => return None,
    };
    Some(if negative { -x } else { x })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> Option<Vec<(&str, Value<'_>)>> {
        let mut pairs = Vec::new();
        scan(text, |k, v| pairs.push((k, v))).then_some(pairs)
    }

    #[test]
    fn exact_decimals_match_the_standard_parser() {
        for text in [
            "50.0",
            "0.1",
            "-2.5e3",
            "123456.789",
            "1e22",
            "1e-22",
            "900719925474099.1",
            "3.14159e-5",
        ] {
            assert_eq!(
                exact_decimal(text),
                Some(text.parse::<f64>().unwrap()),
                "{text}"
            );
        }
        for text in [
            "1e23",
            "9007199254740993.0",
            "1e-23",
            "12345678901234567890.0",
        ] {
            assert_eq!(exact_decimal(text), None, "{text}");
        }
    }

    #[test]
    fn reads_the_usual_event() {
        let pairs = collect(r#" { "fs_user_id" : "user123", "price":50.0, "n":-7, "u":0, "b":true, "f":false, "z":null, "e":1.5e3 } "#).unwrap();
        assert_eq!(
            pairs,
            [
                ("fs_user_id", Value::Str("user123")),
                ("price", Value::Float(50.0)),
                ("n", Value::Int(-7)),
                ("u", Value::UInt(0)),
                ("b", Value::Bool(true)),
                ("f", Value::Bool(false)),
                ("z", Value::Null),
                ("e", Value::Float(1500.0)),
            ]
        );
        assert_eq!(collect("{}").unwrap(), []);
        assert_eq!(collect(r#"{"é":"☃","a":"b","a":"c"}"#).unwrap().len(), 3);
    }

    #[test]
    fn leaves_everything_unusual_to_serde_json() {
        for text in [
            "",
            "null",
            "[]",
            "{",
            "{}x",
            r#"{"a":"b",}"#,
            r#"{"a" "b"}"#,
            r#"{"a":"\n"}"#,
            r#"{"a\"":"b"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":{}}"#,
            r#"{"a":[]}"#,
            r#"{"a":01}"#,
            r#"{"a":-0}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":+1}"#,
            r#"{"a":1e400}"#,
            r#"{"a":1234567890123456789}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":NaN}"#,
            "{\"a\":1}\u{0}",
            r#"{"a":1 2}"#,
        ] {
            assert_eq!(collect(text), None, "{text:?}");
        }
    }
}

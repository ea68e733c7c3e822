//! Secret redaction, applied to every field and value before any log output.

use aho_corasick::AhoCorasick;
use std::borrow::Cow;

/// Credential schemes whose credential is redacted wherever it appears (`Bearer <token>`).
const SCHEMES: [&str; 2] = ["bearer", "basic"];

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Field-name patterns redacted by default.
pub const DEFAULT_PATTERNS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "secret",
    "private_key",
    "private-key",
    "privatekey",
    "credential",
    "authorization",
    "cookie",
];

/// Redacts secrets: whole values of fields whose name contains a configured pattern
/// (case-insensitive), bearer and basic credentials inside any value, and `pattern=value` or
/// `pattern: value` pairs inside any value.
///
/// ```
/// use only1mcp_obs::log::Redactor;
/// let r = Redactor::default();
/// assert!(r.is_secret_field("X-Api_Key"));
/// assert_eq!(r.redact("Authorization: Bearer abc.def"), "Authorization: [REDACTED]");
/// assert_eq!(r.redact("GET /?token=s3cr3t&x=1"), "GET /?token=[REDACTED]&x=1");
/// assert_eq!(r.redact("x-api-key: k1 k2"), "x-api-key: [REDACTED]");
/// assert_eq!(r.redact(r#"{"passphrase": "correct horse"}"#), r#"{"passphrase": "[REDACTED]"}"#);
/// assert_eq!(r.redact("https://bob:hunter2@db.local/x"), "https://bob:[REDACTED]@db.local/x");
/// ```
///
/// Every pass over the value is linear in its length, whatever it holds: a value a client
/// controls cannot make redaction slow.
#[derive(Debug, Clone)]
pub struct Redactor {
    patterns: Vec<String>,
    /// The patterns, matched case-insensitively: field names.
    names: Option<AhoCorasick>,
    /// The patterns, the credential schemes and `://`: whether a value needs the full scan.
    markers: Option<AhoCorasick>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(DEFAULT_PATTERNS.iter().copied())
    }
}

impl Redactor {
    /// A redactor for these field-name patterns (matched case-insensitively, as substrings).
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Self {
        let patterns: Vec<String> = patterns
            .into_iter()
            .map(|p| p.as_ref().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        // Only a pattern set too large for an automaton fails to build: the scans below then
        // run on every value, which is slower and just as correct.
        let automaton = |needles: &[&str]| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(needles)
                .ok()
        };
        let mut needles: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let names = automaton(&needles);
        needles.extend(SCHEMES);
        needles.push("://");
        let markers = automaton(&needles);
        Redactor {
            patterns,
            names,
            markers,
        }
    }

    /// Whether a field of this name holds a secret.
    pub fn is_secret_field(&self, name: &str) -> bool {
        match &self.names {
            Some(names) => names.is_match(name),
            None => {
                let name = name.to_ascii_lowercase();
                self.patterns.iter().any(|p| name.contains(p.as_str()))
            }
        }
    }

    /// The value with embedded credentials replaced.
    pub fn redact<'a>(&self, value: &'a str) -> Cow<'a, str> {
        if self.markers.as_ref().is_some_and(|m| !m.is_match(value)) {
            return Cow::Borrowed(value);
        }
        let lower = value.to_ascii_lowercase();
        let mut cuts: Vec<(usize, usize)> = Vec::new();
        for scheme in SCHEMES {
            find_credentials(&lower, scheme, &mut cuts);
        }
        for pattern in &self.patterns {
            find_pairs(&lower, pattern, &mut cuts);
        }
        find_userinfo(value, &mut cuts);
        if cuts.is_empty() {
            return Cow::Borrowed(value);
        }
        cuts.sort_unstable();
        let mut out = String::with_capacity(value.len());
        let mut at = 0;
        for (start, end) in cuts {
            if start < at {
                // Overlaps a cut already made: extend it.
                if end > at {
                    at = end;
                }
                continue;
            }
            out.push_str(&value[at..start]);
            out.push_str(REDACTED);
            at = end;
        }
        out.push_str(&value[at..]);
        Cow::Owned(out)
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/=:%".contains(&b)
}

/// `Bearer <token>`: the scheme word and the credential after it.
fn find_credentials(lower: &str, scheme: &str, cuts: &mut Vec<(usize, usize)>) {
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..].find(scheme).map(|i| i + from) {
        from = i + scheme.len();
        let word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let mut j = from;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        if !word_start || j == from {
            continue;
        }
        let token_start = j;
        while j < bytes.len() && is_token_byte(bytes[j]) {
            j += 1;
        }
        if j > token_start {
            cuts.push((i, j));
            from = j;
        }
    }
}

/// Bytes that may continue a key after the pattern (`api_key_id`).
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `pattern=value`, `pattern: value`, `"pattern": "value"`: the value after the separator.
///
/// Linear in the input: a match that is not followed by a separator moves the search past the
/// rest of its key, where no other match could end differently.
fn find_pairs(lower: &str, pattern: &str, cuts: &mut Vec<(usize, usize)>) {
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..].find(pattern).map(|i| i + from) {
        let mut j = i + pattern.len();
        while j < bytes.len() && is_key_byte(bytes[j]) {
            j += 1;
        }
        from = if pattern.bytes().all(is_key_byte) {
            j
        } else {
            i + pattern.len()
        };
        // Closing quotes, possibly escaped (`\"` in Debug output).
        while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b'\\') {
            j += 1;
        }
        // `key = value`: spaces before the separator too.
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        if j >= bytes.len() || (bytes[j] != b'=' && bytes[j] != b':') {
            continue;
        }
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        let (value_start, value_end) = value_span(bytes, j);
        if value_end > value_start {
            cuts.push((value_start, value_end));
            from = from.max(value_end);
        }
    }
}

/// Where the value starting at `at` begins and ends: a quoted value (`"a b"`, `\"a b\"`) runs to
/// its closing quote, spaces included; an unquoted one to a delimiter, or to the space before
/// the next `key=` or `key:`.
fn value_span(bytes: &[u8], at: usize) -> (usize, usize) {
    let escaped = bytes.get(at) == Some(&b'\\');
    let quote_at = if escaped { at + 1 } else { at };
    if let Some(&quote) = bytes.get(quote_at).filter(|b| matches!(b, b'"' | b'\'')) {
        let start = quote_at + 1;
        let mut j = start;
        while j < bytes.len() && bytes[j] != b'\n' {
            let closes = bytes[j] == quote && (escaped == (bytes[j - 1] == b'\\'));
            if closes {
                return (start, if escaped { j - 1 } else { j });
            }
            j += 1;
        }
        return (start, j);
    }
    let mut j = at;
    while j < bytes.len() {
        match bytes[j] {
            b'&' | b',' | b';' | b'"' | b'\'' | b'\\' | b'\n' | b'\r' | b'\t' | b'}' => break,
            b' ' => {
                let mut next = j;
                while next < bytes.len() && bytes[next] == b' ' {
                    next += 1;
                }
                let mut word = next;
                while word < bytes.len() && (is_key_byte(bytes[word]) || bytes[word] == b'.') {
                    word += 1;
                }
                let starts_pair = word > next && matches!(bytes.get(word), Some(b'=' | b':'));
                if next == bytes.len() || starts_pair {
                    break;
                }
                j = word.max(next);
            }
            _ => j += 1,
        }
    }
    (at, j)
}

/// `scheme://user:password@host`: the password.
fn find_userinfo(value: &str, cuts: &mut Vec<(usize, usize)>) {
    let bytes = value.as_bytes();
    let mut from = 0;
    while let Some(i) = value[from..].find("://").map(|i| i + from) {
        let start = i + 3;
        let mut j = start;
        let mut colon = None;
        // A later `://` holds a `/`, which ends this scan: each byte is looked at once.
        while j < bytes.len() && !matches!(bytes[j], b'/' | b'?' | b'#' | b'@' | b' ' | b'\n') {
            if bytes[j] == b':' && colon.is_none() {
                colon = Some(j);
            }
            j += 1;
        }
        if let (Some(b'@'), Some(colon)) = (bytes.get(j), colon)
            && j > colon + 1
        {
            cuts.push((colon + 1, j));
        }
        from = j.max(start);
    }
}

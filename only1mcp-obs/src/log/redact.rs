//! Secret redaction, applied to every field and value before any log output.

use std::borrow::Cow;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Field-name patterns redacted by default.
pub const DEFAULT_PATTERNS: &[&str] = &[
    "password",
    "passwd",
    "token",
    "api_key",
    "apikey",
    "secret",
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
/// ```
#[derive(Debug, Clone)]
pub struct Redactor {
    patterns: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(DEFAULT_PATTERNS.iter().copied())
    }
}

impl Redactor {
    /// A redactor for these field-name patterns (matched case-insensitively, as substrings).
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Self {
        let patterns = patterns
            .into_iter()
            .map(|p| p.as_ref().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        Redactor { patterns }
    }

    /// Whether a field of this name holds a secret.
    pub fn is_secret_field(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.patterns.iter().any(|p| name.contains(p.as_str()))
    }

    /// The value with embedded credentials replaced.
    pub fn redact<'a>(&self, value: &'a str) -> Cow<'a, str> {
        let lower = value.to_ascii_lowercase();
        let mut cuts: Vec<(usize, usize)> = Vec::new();
        for scheme in ["bearer", "basic"] {
            find_credentials(&lower, scheme, &mut cuts);
        }
        for pattern in &self.patterns {
            find_pairs(&lower, pattern, &mut cuts);
        }
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

/// `pattern=value`, `pattern: value`, `"pattern": "value"`: the value after the separator.
fn find_pairs(lower: &str, pattern: &str, cuts: &mut Vec<(usize, usize)>) {
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(i) = lower[from..].find(pattern).map(|i| i + from) {
        from = i + pattern.len();
        let mut j = from;
        // The rest of the key (`api_key_id`), a closing quote, then `=` or `:`.
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-')
        {
            j += 1;
        }
        // Closing quotes, possibly escaped (`\"` in Debug output).
        while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b'\\') {
            j += 1;
        }
        if j >= bytes.len() || (bytes[j] != b'=' && bytes[j] != b':') {
            continue;
        }
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'"' | b'\'' | b'\\') {
            j += 1;
        }
        let value_start = j;
        while j < bytes.len()
            && !matches!(
                bytes[j],
                b'&' | b',' | b';' | b'"' | b'\'' | b'\\' | b' ' | b'\n' | b'\r' | b'\t' | b'}'
            )
        {
            j += 1;
        }
        if j > value_start {
            cuts.push((value_start, j));
            from = j;
        }
    }
}

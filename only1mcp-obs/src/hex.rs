//! Trace and span ids as lowercase hex, written with a table instead of `format!("{:032x}")`,
//! whose padding machinery showed up in profiles of the request path (an id is written for every
//! request: its correlation id, its trace id in the response header, logs and audit records).

use opentelemetry::trace::{SpanId, TraceId};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex, two digits per byte.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// A 128-bit value as 32 hex digits.
pub(crate) fn u128_hex(value: u128) -> String {
    encode(&value.to_be_bytes())
}

/// A trace id as its 32 hex digits (what its `Display` writes).
pub(crate) fn trace_id(id: TraceId) -> String {
    encode(&id.to_bytes())
}

/// A span id as its 16 hex digits (what its `Display` writes).
pub(crate) fn span_id(id: SpanId) -> String {
    encode(&id.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_digits_as_display() {
        for value in [
            0u128,
            1,
            0xdead_beef,
            u128::MAX,
            0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
        ] {
            assert_eq!(u128_hex(value), format!("{value:032x}"));
            let trace = TraceId::from_bytes(value.to_be_bytes());
            assert_eq!(trace_id(trace), trace.to_string());
            let span = SpanId::from_bytes((value as u64).to_be_bytes());
            assert_eq!(span_id(span), span.to_string());
        }
    }
}

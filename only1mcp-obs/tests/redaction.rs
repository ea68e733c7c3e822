//! Redaction under attack: linear time whatever the value holds, and the secret shapes seen in
//! the wild (API-key headers, passphrases with spaces, private keys, URL userinfo) never survive.

use only1mcp_obs::log::Redactor;
use std::time::{Duration, Instant};

/// The best of seven runs of `redact` over `input` (the least disturbed by other work).
fn redact_time(redactor: &Redactor, input: &str) -> Duration {
    (0..7)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(redactor.redact(std::hint::black_box(input)));
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Inputs that made redaction quadratic: matches that are not followed by a separator, long
/// runs after a scheme word, URL schemes without a host.
fn adversarial(len: usize) -> Vec<String> {
    let shapes = [
        "token",
        "passwordx",
        "bearer ",
        "://a:",
        "api_key\"\"",
        "secret=",
        "x=\"",
    ];
    shapes.iter().map(|s| s.repeat(len / s.len())).collect()
}

#[test]
fn redaction_grows_linearly_with_adversarial_input() {
    let redactor = Redactor::default();
    for (small, large) in adversarial(256 << 10).iter().zip(adversarial(1 << 20)) {
        let t_small = redact_time(&redactor, small);
        let t_large = redact_time(&redactor, &large);
        let ratio = t_large.as_secs_f64() / t_small.as_secs_f64().max(1e-9);
        println!(
            "{:?}...: 256 KiB {t_small:?}, 1 MiB {t_large:?} (x{ratio:.1})",
            &large[..12]
        );
        // Four times the input: about four times the work when linear, sixteen when quadratic.
        assert!(
            ratio < 10.0,
            "{:?}: x{ratio:.1} for 4x the input",
            &large[..12]
        );
    }
}

mod secret_shapes {
    use only1mcp_obs::log::Redactor;
    use proptest::prelude::*;

    /// A secret: long enough not to occur in the text around it by chance.
    fn secret() -> impl Strategy<Value = String> {
        "[A-Za-z0-9+/=._~-]{12,40}"
    }

    /// A secret that may hold spaces, as passphrases do.
    fn phrase() -> impl Strategy<Value = String> {
        "[A-Za-z0-9]{6,12}( [A-Za-z0-9]{4,12}){1,4}"
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn new_secret_shapes_never_survive(
            secret in secret(),
            phrase in phrase(),
            noise in "[a-z ]{0,20}",
        ) {
            let r = Redactor::default();
            let cases = [
                format!("{noise} x-api-key: {secret}"),
                format!("{noise} X-Api-Key={secret}&page=2"),
                format!("{noise} passphrase={secret}"),
                format!(r#"{{"private_key": "{secret}", "user": "bob"}}"#),
                format!("private-key: {secret}"),
                format!("credentials={secret};{noise}"),
                format!("client_credential: {secret}"),
                // A `/` in userinfo must be percent-encoded, or it ends the authority.
                format!("postgres://admin:{}@db.internal:5432/app {noise}", secret.replace('/', "%2F")),
                format!(r#"{{"password": "{phrase}"}}"#),
                format!("passphrase = \"{phrase}\" {noise}"),
                format!("password: {phrase}"),
            ];
            let encoded = secret.replace('/', "%2F");
            for text in &cases {
                let out = r.redact(text);
                prop_assert!(!out.contains(&secret) && !out.contains(&encoded), "{} -> {}", text, out);
                if text.contains(&phrase) {
                    for word in phrase.split(' ').filter(|w| w.len() >= 6) {
                        prop_assert!(!out.contains(word), "{} -> {}", text, out);
                    }
                }
            }
        }
    }
}

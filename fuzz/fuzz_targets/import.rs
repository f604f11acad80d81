//! Fuzzes what a user's file goes through on import: `import::parse` (PEM with any mix of blocks,
//! legacy `Proc-Type: 4,ENCRYPTED` PEM keys, DER certificates and keys, encrypted PKCS#8, and the
//! PKCS#12 container walk with its MAC, PBES1/PBES2 decryption, empty-password tries, bag limit
//! and work budget), then on success `import::order_chain` and `import::check`, and
//! `certs::parse_pem` on the same bytes when they are UTF-8. The input is the whole file, so the
//! seed corpus is simply tests/fixtures/import/ (make-encrypted.sh adds PKCS#12 and legacy PEM
//! seeds with the passphrase below).
//!
//! Besides "no panic, no hang, no OOM" it asserts the invariants callers rely on: the chain report
//! indexes only existing certificates, each exactly once across `order` and `unrelated`; every
//! error message names the file and never contains the passphrase.

#![no_main]

use certdesk::certs;
use certdesk::credentials::Secret;
use certdesk::import::{self, Bundle, ImportError, Target};
use libfuzzer_sys::fuzz_target;

/// The name the input is imported under; every error message must mention it.
const NAME: &str = "fuzz-input.pem";
/// The passphrase of the encrypted fixtures (leaf-encrypted.key, leaf.p12, legacy.p12,
/// no-mac.p12, legacy-aes128.key, legacy-des3-rsa.key), so mutations of them get past decryption.
const PASSPHRASE: &str = "correct-horse";
/// 2027-01-01, inside the fixtures' validity.
const NOW: i64 = 1_798_761_600;

fuzz_target!(|data: &[u8]| {
    let mut result = import::parse(NAME, data, None);
    if matches!(
        result,
        Err(ImportError::NeedsPassphrase { .. } | ImportError::WrongPassphrase { .. })
    ) {
        // Only encrypted inputs pay for a second (key-derivation) attempt.
        let passphrase = Secret::new(PASSPHRASE.to_string());
        result = import::parse(NAME, data, Some(&passphrase));
    }
    match result {
        Ok(bundle) => exercise(&bundle),
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains(NAME),
                "error does not name the file: {message}"
            );
            // A passphrase typed by the user must not surface in a message (the input itself may
            // of course hold the same text, e.g. in a PEM label the message quotes).
            let input_has_it = data
                .windows(PASSPHRASE.len())
                .any(|w| w == PASSPHRASE.as_bytes());
            assert!(
                input_has_it || !message.contains(PASSPHRASE),
                "error shows the passphrase"
            );
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(infos) = certs::parse_pem(text) {
            assert!(!infos.is_empty(), "parse_pem succeeded with no certificate");
            for info in &infos {
                let _ = info.validity_at(NOW);
                let _ = import::names_of(info);
            }
        }
    }
});

fn exercise(bundle: &Bundle) {
    let count = bundle.certificates.len();
    match import::order_chain(bundle) {
        None => assert_eq!(
            count, 0,
            "order_chain gave nothing for {count} certificates"
        ),
        Some(chain) => {
            assert!(!chain.order.is_empty(), "empty chain order");
            let mut seen = vec![false; count];
            for &i in chain.order.iter().chain(&chain.unrelated) {
                assert!(i < count, "chain index {i} out of range ({count})");
                assert!(!seen[i], "certificate {i} placed twice");
                seen[i] = true;
            }
            assert!(
                seen.iter().all(|s| *s),
                "a certificate is missing from the report"
            );
            let pem = bundle.chain_pem(&chain);
            assert_eq!(
                certs::parse_pem(&pem).map(|c| c.len()).unwrap_or(0),
                chain.order.len(),
                "the chain PEM does not re-parse to the chain"
            );
        }
    }
    if let Some(key) = &bundle.key {
        let pem = key.to_pkcs8_pem();
        assert!(!format!("{key:?}").contains(pem.expose()), "key printed");
        for cert in &bundle.certificates {
            let _ = import::key_matches(cert, key);
        }
    }
    for (needs_key, allow_invalid_dates, domain) in [
        (true, false, Some("www.example.com")),
        (false, true, Some("a.cdn.example.com.")),
        (false, false, None),
    ] {
        let target = Target {
            domain: domain.map(str::to_string),
            cert_name: Some("fuzz-certificate".into()),
            needs_key,
            allow_invalid_dates,
            now: NOW,
        };
        let checks = import::check(bundle, &target);
        assert!(!checks.is_empty(), "no checks ran");
        let _ = import::passes(&checks);
    }
}

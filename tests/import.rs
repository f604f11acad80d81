//! The import corpus (tests/fixtures/import, made by make.sh with OpenSSL): every supported format
//! parses, and every bad input gets its own specific error and changes nothing.

// Helpers outside #[test] fns unwrap too: in a test, a failed unwrap is a failed assertion.
#![allow(clippy::unwrap_used)]

use certdesk::credentials::Secret;
use certdesk::import::{self, Bundle, ImportError, Target, Verdict};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn load(name: &str, passphrase: Option<&str>) -> Result<Bundle, ImportError> {
    let bytes = import::read_file(&fixture(name))?;
    import::parse(name, &bytes, passphrase.map(Secret::from).as_ref())
}

fn load_all(names: &[&str]) -> Bundle {
    let mut bundle = Bundle::default();
    for name in names {
        bundle.merge(load(name, None).unwrap()).unwrap();
    }
    bundle
}

/// 2027-01-01, inside every good fixture's validity (made 2026-11-26, valid ~8 years).
const NOW: i64 = 1_798_761_600;

fn target(domain: Option<&str>) -> Target {
    Target {
        domain: domain.map(str::to_string),
        cert_name: Some("www-example-2026".into()),
        needs_key: true,
        allow_invalid_dates: false,
        now: NOW,
    }
}

fn verdict(checks: &[import::Check], name: &str) -> Verdict {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {checks:?}"))
        .verdict
}

#[test]
fn every_key_format_yields_the_same_key() {
    let reference = load("leaf.key", None).unwrap().key.unwrap();
    for (name, pass) in [
        ("leaf-sec1.key", None),
        ("leaf-key.der", None),
        ("leaf-encrypted.key", Some("correct-horse")),
        ("bundle.pem", None),
        ("leaf.p12", Some("correct-horse")),
    ] {
        let key = load(name, pass)
            .unwrap()
            .key
            .unwrap_or_else(|| panic!("{name}: no key"));
        assert_eq!(key.public_key_der(), reference.public_key_der(), "{name}");
        assert_eq!(key.bits, Some(256), "{name}");
    }
    let rsa = load("rsa-pkcs1.key", None).unwrap().key.unwrap();
    assert_eq!(rsa.bits, Some(2048));
    let rsa_cert = load("rsa.pem", None).unwrap();
    assert!(import::key_matches(&rsa_cert.certificates[0], &rsa));
}

#[test]
fn der_and_pkcs12_certificates_parse() {
    let der = load("leaf.der", None).unwrap();
    let pem = load("leaf.pem", None).unwrap();
    assert_eq!(
        der.certificates[0].info.sha256,
        pem.certificates[0].info.sha256
    );
    let p12 = load("leaf.p12", Some("correct-horse")).unwrap();
    assert_eq!(p12.certificates.len(), 2, "leaf + intermediate");
}

#[test]
fn shuffled_chain_is_ordered_and_verified() {
    let bundle = load_all(&["chain-shuffled.pem", "leaf.key"]);
    let chain = import::order_chain(&bundle).unwrap();
    let names: Vec<_> = chain
        .order
        .iter()
        .map(|&i| bundle.certificates[i].info.common_name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "www.example.com",
            "certdesk test intermediate",
            "certdesk test root"
        ]
    );
    assert!(
        chain.links_verified && chain.unrelated.is_empty(),
        "{chain:?}"
    );
    let checks = import::check(&bundle, &target(Some("img.cdn.example.com")));
    assert!(import::passes(&checks), "{checks:?}");
    assert_eq!(verdict(&checks, "chain"), Verdict::Pass);
    assert_eq!(verdict(&checks, "covers domain"), Verdict::Pass);
    // Leaf first in the PEM that would be uploaded.
    assert!(
        bundle
            .chain_pem(&chain)
            .starts_with(&bundle.certificates[chain.order[0]].info.pem)
    );
}

#[test]
fn domain_coverage_follows_wildcard_rules() {
    let bundle = load_all(&["leaf.pem", "leaf.key"]);
    for (domain, ok) in [
        ("www.example.com", true),
        ("a.cdn.example.com", true),
        ("cdn.example.com", false),
        ("a.b.cdn.example.com", false),
        ("example.org", false),
    ] {
        assert_eq!(
            import::covers_domain(&bundle.certificates[0].info, domain),
            ok,
            "{domain}"
        );
    }
    let checks = import::check(&bundle, &target(Some("example.org")));
    assert_eq!(verdict(&checks, "covers domain"), Verdict::Fail);
    assert!(!import::passes(&checks));
}

/// A fixture, its passphrase, and the error it must produce.
type BadInput = (&'static str, Option<&'static str>, fn(&ImportError) -> bool);

#[test]
fn bad_inputs_get_specific_errors() {
    let cases: [BadInput; 10] = [
        ("empty.pem", None, |e| {
            matches!(e, ImportError::Empty { .. })
        }),
        ("not-a-cert.txt", None, |e| {
            matches!(e, ImportError::NoPemBlock { .. })
        }),
        ("garbage.bin", None, |e| {
            matches!(e, ImportError::NotRecognised { .. })
        }),
        ("truncated.pem", None, |e| {
            matches!(e, ImportError::CorruptPem { .. })
        }),
        ("corrupt-base64.pem", None, |e| {
            matches!(
                e,
                ImportError::CorruptPem { .. } | ImportError::MalformedBlock { .. }
            )
        }),
        (
            "leaf.csr",
            None,
            |e| matches!(e, ImportError::UnsupportedBlock { label, .. } if label == "CERTIFICATE REQUEST"),
        ),
        (
            "ed25519.key",
            None,
            |e| matches!(e, ImportError::UnsupportedAlgorithm { algorithm, .. } if algorithm == "Ed25519"),
        ),
        ("legacy-encrypted.key", None, |e| {
            matches!(e, ImportError::LegacyEncryptedKey { .. })
        }),
        ("leaf-encrypted.key", None, |e| {
            matches!(e, ImportError::NeedsPassphrase { .. })
        }),
        ("leaf.p12", Some("wrong"), |e| {
            matches!(e, ImportError::WrongPassphrase { .. })
        }),
    ];
    for (name, pass, expected) in cases {
        let err = load(name, pass).expect_err(name);
        assert!(expected(&err), "{name}: unexpected {err:?}");
        let message = err.to_string();
        assert!(
            message.contains(name) || matches!(err, ImportError::SeveralKeys { .. }),
            "{name}: message {message:?} does not name the file"
        );
    }
    assert!(matches!(
        load("leaf-encrypted.key", Some("wrong")),
        Err(ImportError::WrongPassphrase { .. })
    ));
    assert!(matches!(
        load("leaf.p12", None),
        Err(ImportError::NeedsPassphrase { .. })
    ));
}

#[test]
fn huge_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.pem");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    let err = import::read_file(&path).unwrap_err();
    assert!(
        matches!(err, ImportError::TooLarge { size, .. } if size == 50 * 1024 * 1024),
        "{err:?}"
    );
    assert!(err.to_string().contains("huge.pem"));
    assert!(matches!(
        import::read_file(&dir.path().join("missing.pem")),
        Err(ImportError::Unreadable { .. })
    ));
}

#[test]
fn pairing_mistakes_fail_the_checks() {
    let mismatched = load_all(&["leaf.pem", "other.key"]);
    let checks = import::check(&mismatched, &target(None));
    assert_eq!(verdict(&checks, "key matches certificate"), Verdict::Fail);
    assert!(
        checks
            .iter()
            .any(|c| c.detail.contains("Certificate.MissMatch"))
    );

    let cert_only = load_all(&["leaf.pem"]);
    assert_eq!(
        verdict(
            &import::check(&cert_only, &target(None)),
            "key matches certificate"
        ),
        Verdict::Fail
    );

    let key_only = load_all(&["leaf.key"]);
    let checks = import::check(&key_only, &target(None));
    assert_eq!(verdict(&checks, "certificate present"), Verdict::Fail);
    assert!(checks[0].detail.contains("without its certificate"));

    let mut two_keys = load_all(&["leaf.key"]);
    assert!(matches!(
        two_keys.merge(load("other.key", None).unwrap()),
        Err(ImportError::SeveralKeys { .. })
    ));
}

#[test]
fn expired_certificate_fails_unless_overridden() {
    let bundle = load_all(&["expired.pem", "expired.key"]);
    let mut t = target(None);
    let checks = import::check(&bundle, &t);
    assert_eq!(verdict(&checks, "validity"), Verdict::Fail);
    t.allow_invalid_dates = true;
    let checks = import::check(&bundle, &t);
    assert_eq!(verdict(&checks, "validity"), Verdict::Warn);
    assert!(import::passes(&checks), "{checks:?}");
}

#[test]
fn long_names_are_refused() {
    let bundle = load_all(&["leaf.pem", "leaf.key"]);
    let mut t = target(None);
    t.cert_name = Some("x".repeat(129));
    assert_eq!(
        verdict(&import::check(&bundle, &t), "name length"),
        Verdict::Fail
    );
    t.cert_name = Some("é".repeat(128));
    assert_eq!(
        verdict(&import::check(&bundle, &t), "name length"),
        Verdict::Pass
    );
}

#[test]
fn private_keys_never_print() {
    let key = load("leaf.key", None).unwrap().key.unwrap();
    let pem = key.to_pkcs8_pem();
    let body_line = pem.expose().lines().nth(1).unwrap().to_string();
    let shown = format!("{key:?} {pem:?} {pem}");
    assert!(!shown.contains(&body_line), "{shown}");
    assert!(shown.contains("redacted"));
}

/// Crafted inputs (tests/fixtures/import/fuzz-regressions, made by make.py there) that once kept
/// an import busy for hours or aborted the program; each now gets its own error at once.
fn regression(name: &str, passphrase: Option<&str>) -> Result<Bundle, ImportError> {
    load(&format!("fuzz-regressions/{name}"), passphrase)
}

#[test]
fn costly_key_derivation_is_refused_before_deriving() {
    for name in ["pbkdf2-2e31-iterations.key", "scrypt-n2e40.key"] {
        for passphrase in [None, Some("correct-horse")] {
            let err = regression(name, passphrase).expect_err(name);
            assert!(
                matches!(err, ImportError::KeyDerivationTooCostly { .. }),
                "{name}: {err:?}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
    }
    let err = regression("pbkdf2-2e31-iterations.key", Some("x")).unwrap_err();
    assert!(
        err.to_string().contains("2147483647 PBKDF2 iterations"),
        "{err}"
    );
    let err = regression("scrypt-n2e40.key", Some("x")).unwrap_err();
    assert!(err.to_string().contains("N=1099511627776 r=8"), "{err}");
    // The ordinary cost (OpenSSL's 2048 iterations) still decrypts.
    assert!(load("leaf-encrypted.key", Some("correct-horse")).is_ok());
}

#[test]
fn oversized_rsa_keys_are_refused_before_key_maths() {
    for name in ["rsa-16400-bit.key", "rsa-16400-bit-pkcs8.key"] {
        let err = regression(name, None).expect_err(name);
        assert!(
            matches!(err, ImportError::KeyTooLarge { bits, limit, .. } if bits > limit && limit == import::MAX_RSA_BITS),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
    let ordinary = load("rsa-pkcs1.key", None).unwrap().key.unwrap();
    assert_eq!(ordinary.bits, Some(2048));
}

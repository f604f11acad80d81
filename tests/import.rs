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
            matches!(e, ImportError::NeedsPassphrase { .. })
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

// ---------------------------------------------------------------------------------------------
// Files made by `openssl` on the fly (issue 13): every PKCS#12 and legacy-PEM variant admins
// meet, crafted hostile PKCS#12 files, and inputs that are not files. These tests need the
// `openssl` command (OpenSSL 3; CI installs it in .ci/run) and fail, never skip, without it.
// ---------------------------------------------------------------------------------------------

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `openssl` in `dir`; its standard output. Panics with openssl's message on failure.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("these tests need the `openssl` command (apt-get install openssl): {e}")
        });
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A scratch directory holding copies of the key, leaf and intermediate fixtures.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["leaf.key", "leaf.pem", "intermediate.pem", "rsa-pkcs1.key"] {
        std::fs::copy(fixture(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn parse_file(path: &Path, passphrase: Option<&str>) -> Result<Bundle, ImportError> {
    let bytes = import::read_file(path)?;
    import::parse(
        &import::display_name(path),
        &bytes,
        passphrase.map(Secret::from).as_ref(),
    )
}

/// The leaf key's public key (what every variant must yield).
fn leaf_public_key() -> Vec<u8> {
    load("leaf.key", None)
        .unwrap()
        .key
        .unwrap()
        .public_key_der()
        .to_vec()
}

/// Asserts that `bundle` is the leaf key with the leaf (and intermediate) certificate.
fn assert_leaf_bundle(bundle: &Bundle, what: &str) {
    let key = bundle
        .key
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: no key"));
    assert_eq!(key.public_key_der(), leaf_public_key(), "{what}");
    assert_eq!(bundle.certificates.len(), 2, "{what}: leaf + intermediate");
    assert!(
        import::key_matches(&bundle.certificates[0], key),
        "{what}: the key does not match the leaf"
    );
}

#[test]
fn every_pkcs12_variant_openssl_writes_opens_with_its_password() {
    let dir = workdir();
    let password = "correct horse";
    let variants: [(&str, &[&str]); 10] = [
        // OpenSSL 3 default: PBES2 / PBKDF2 / HMAC-SHA256 / AES-256-CBC, SHA-256 MAC.
        ("default", &[]),
        // -legacy: RC2-40 certificates, 3DES key, SHA-1 MAC.
        ("legacy", &["-legacy"]),
        (
            "aes128",
            &["-keypbe", "AES-128-CBC", "-certpbe", "AES-128-CBC"],
        ),
        (
            "aes192",
            &["-keypbe", "AES-192-CBC", "-certpbe", "AES-192-CBC"],
        ),
        ("descert", &["-descert"]),
        ("sha512-mac", &["-macalg", "sha512"]),
        ("sha1-mac", &["-macalg", "sha1"]),
        ("no-mac", &["-nomac"]),
        ("legacy-no-mac", &["-legacy", "-nomac"]),
        ("many-iterations", &["-iter", "200000"]),
    ];
    for (name, extra) in variants {
        let file = format!("{name}.p12");
        let pass = format!("pass:{password}");
        let mut args = vec![
            "pkcs12",
            "-export",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.pem",
            "-certfile",
            "intermediate.pem",
            "-passout",
            &pass,
            "-out",
            &file,
        ];
        args.extend_from_slice(extra);
        openssl(dir.path(), &args);
        let path = dir.path().join(&file);
        let bundle = parse_file(&path, Some(password)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_leaf_bundle(&bundle, name);
        assert!(
            matches!(
                parse_file(&path, Some("wrong horse")),
                Err(ImportError::WrongPassphrase { .. })
            ),
            "{name}: a wrong passphrase"
        );
        assert!(
            matches!(
                parse_file(&path, None),
                Err(ImportError::NeedsPassphrase { .. })
            ),
            "{name}: no passphrase"
        );
    }
}

#[test]
fn pkcs12_with_a_non_ascii_password_or_no_encryption_opens() {
    let dir = workdir();
    openssl(
        dir.path(),
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.pem",
            "-certfile",
            "intermediate.pem",
            "-passout",
            "pass:pässwörd-中文",
            "-out",
            "utf8.p12",
        ],
    );
    assert_leaf_bundle(
        &parse_file(&dir.path().join("utf8.p12"), Some("pässwörd-中文")).unwrap(),
        "utf8",
    );
    // No MAC and no encryption at all: nothing to ask.
    openssl(
        dir.path(),
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.pem",
            "-certfile",
            "intermediate.pem",
            "-nomac",
            "-keypbe",
            "NONE",
            "-certpbe",
            "NONE",
            "-passout",
            "pass:",
            "-out",
            "plain.p12",
        ],
    );
    assert_leaf_bundle(
        &parse_file(&dir.path().join("plain.p12"), None).unwrap(),
        "plain",
    );
}

#[test]
fn empty_password_pkcs12_opens_without_asking() {
    let dir = workdir();
    for (name, extra) in [("empty", &[][..]), ("empty-legacy", &["-legacy"][..])] {
        let file = format!("{name}.p12");
        let mut args = vec![
            "pkcs12",
            "-export",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.pem",
            "-certfile",
            "intermediate.pem",
            "-passout",
            "pass:",
            "-out",
            &file,
        ];
        args.extend_from_slice(extra);
        openssl(dir.path(), &args);
        let path = dir.path().join(&file);
        assert_leaf_bundle(&parse_file(&path, None).unwrap(), name);
        // A passphrase typed for a file that has none: the empty one still opens it.
        assert_leaf_bundle(&parse_file(&path, Some("typed anyway")).unwrap(), name);
    }
}

/// DER building blocks for crafting PKCS#12 files the way other tools write them (the
/// cryptography is done by `openssl`: the encrypted keys by `openssl pkcs8`, the MAC key by its
/// PKCS12KDF and the MAC by its HMAC).
mod craft {
    use der08::Encode;

    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = (len as u64).to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (8 - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(content);
        out
    }
    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }
    pub fn oid(text: &str) -> Vec<u8> {
        der08::asn1::ObjectIdentifier::new(text)
            .unwrap()
            .to_der()
            .unwrap()
    }
    pub fn octets(bytes: &[u8]) -> Vec<u8> {
        tlv(0x04, bytes)
    }
    pub fn explicit0(inner: Vec<u8>) -> Vec<u8> {
        tlv(0xa0, &inner)
    }
    pub fn int(value: u32) -> Vec<u8> {
        value.to_der().unwrap()
    }
    const DATA: &str = "1.2.840.113549.1.7.1";
    pub const KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
    pub const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
    pub const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";

    pub fn bag(kind: &str, value: Vec<u8>) -> Vec<u8> {
        seq(&[oid(kind), explicit0(value)])
    }
    pub fn cert_bag(cert_der: &[u8]) -> Vec<u8> {
        bag(
            CERT_BAG,
            seq(&[oid("1.2.840.113549.1.9.22.1"), explicit0(octets(cert_der))]),
        )
    }
    /// A ContentInfo of type data holding `contents`.
    pub fn data(contents: Vec<u8>) -> Vec<u8> {
        seq(&[oid(DATA), explicit0(octets(&contents))])
    }
    /// The authenticated safe of unencrypted parts, each a list of bags.
    pub fn auth_safe(parts: Vec<Vec<Vec<u8>>>) -> Vec<u8> {
        seq(&parts
            .into_iter()
            .map(|bags| data(seq(&bags)))
            .collect::<Vec<_>>())
    }
    /// The PFX, with a MAC when given (SHA-1 digest, salt, iterations).
    pub fn pfx(auth_safe: &[u8], mac: Option<(Vec<u8>, &[u8], u32)>) -> Vec<u8> {
        let mut parts = vec![int(3), data(auth_safe.to_vec())];
        if let Some((digest, salt, iterations)) = mac {
            parts.push(seq(&[
                seq(&[seq(&[oid("1.3.14.3.2.26"), vec![5, 0]]), octets(&digest)]),
                octets(salt),
                int(iterations),
            ]));
        }
        seq(&parts)
    }
}

/// The SHA-1 MAC of `auth_safe` under `password_hex` (the KDF input as is: a BMPString with its
/// terminator, or nothing for a NULL password), computed by openssl.
fn openssl_mac(dir: &Path, auth_safe: &[u8], password_hex: &str, salt: &[u8]) -> Vec<u8> {
    let key = openssl(
        dir,
        &[
            "kdf",
            "-keylen",
            "20",
            "-kdfopt",
            "digest:SHA1",
            "-kdfopt",
            &format!("hexpass:{password_hex}"),
            "-kdfopt",
            &format!("hexsalt:{}", hex::encode(salt)),
            "-kdfopt",
            "iter:2048",
            "-kdfopt",
            "id:3",
            "PKCS12KDF",
        ],
    );
    let key = key.trim().replace(':', "");
    std::fs::write(dir.join("auth-safe.der"), auth_safe).unwrap();
    let mac = openssl(
        dir,
        &[
            "mac",
            "-digest",
            "SHA1",
            "-macopt",
            &format!("hexkey:{key}"),
            "-in",
            "auth-safe.der",
            "HMAC",
        ],
    );
    hex::decode(mac.trim()).unwrap()
}

#[test]
fn pkcs12_with_pbes2_leaving_out_the_prf_opens() {
    let dir = workdir();
    // PBKDF2 with hmacWithSHA1 is written without its PRF (it is the default): as Java, Windows
    // and OpenSSL 1.x write PKCS#12 key bags.
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-v2prf",
            "hmacWithSHA1",
            "-in",
            "leaf.key",
            "-outform",
            "DER",
            "-passout",
            "pass:pw",
            "-out",
            "key.p8",
        ],
    );
    let key = std::fs::read(dir.path().join("key.p8")).unwrap();
    let sha1_prf = craft::oid("1.2.840.113549.2.7");
    assert!(
        !key.windows(sha1_prf.len()).any(|w| w == sha1_prf),
        "openssl wrote the PRF after all"
    );
    let leaf = std::fs::read(fixture("leaf.der")).unwrap();
    let auth_safe = craft::auth_safe(vec![
        vec![craft::cert_bag(&leaf)],
        vec![craft::bag(craft::SHROUDED_KEY_BAG, key)],
    ]);
    let salt = [7u8; 8];
    // "pw" as a BMPString with its two-byte terminator.
    let mac = openssl_mac(dir.path(), &auth_safe, "007000770000", &salt);
    let with_mac = dir.path().join("no-prf.p12");
    std::fs::write(&with_mac, craft::pfx(&auth_safe, Some((mac, &salt, 2048)))).unwrap();
    let bundle = parse_file(&with_mac, Some("pw")).unwrap();
    assert_eq!(bundle.key.unwrap().public_key_der(), leaf_public_key());
    assert!(matches!(
        parse_file(&with_mac, Some("pW")),
        Err(ImportError::WrongPassphrase { .. })
    ));
    // Without a MAC, the decryption alone decides.
    let without_mac = dir.path().join("no-prf-no-mac.p12");
    std::fs::write(&without_mac, craft::pfx(&auth_safe, None)).unwrap();
    assert!(parse_file(&without_mac, Some("pw")).unwrap().key.is_some());
    assert!(matches!(
        parse_file(&without_mac, Some("pW")),
        Err(ImportError::WrongPassphrase { .. })
    ));
    assert!(matches!(
        parse_file(&without_mac, None),
        Err(ImportError::NeedsPassphrase { .. })
    ));
}

#[test]
fn pkcs12_with_a_null_password_mac_opens_without_asking() {
    let dir = workdir();
    // Windows and some Java exports protect with a NULL password: zero bytes into the KDF, where
    // OpenSSL's "" is the two-byte terminator. The key bag is unencrypted, as such files have it.
    openssl(
        dir.path(),
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-outform", "DER", "-out", "plain.p8",
        ],
    );
    let key = std::fs::read(dir.path().join("plain.p8")).unwrap();
    let leaf = std::fs::read(fixture("leaf.der")).unwrap();
    let auth_safe = craft::auth_safe(vec![vec![
        craft::cert_bag(&leaf),
        craft::bag(craft::KEY_BAG, key),
    ]]);
    let salt = [9u8; 8];
    let mac = openssl_mac(dir.path(), &auth_safe, "", &salt);
    let path = dir.path().join("null-password.p12");
    std::fs::write(&path, craft::pfx(&auth_safe, Some((mac, &salt, 2048)))).unwrap();
    let bundle = parse_file(&path, None).unwrap();
    assert_eq!(bundle.key.unwrap().public_key_der(), leaf_public_key());
    assert_eq!(bundle.certificates.len(), 1);
}

#[test]
fn crafted_many_bag_pkcs12_is_refused_quickly() {
    let dir = workdir();
    // One real key at the per-derivation limit (1 000 000 PBKDF2 iterations), in 300 bags: each
    // bag alone is allowed, together they are 300 times the work of one.
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-iter",
            "1000000",
            "-in",
            "leaf.key",
            "-outform",
            "DER",
            "-passout",
            "pass:pw",
            "-out",
            "costly.p8",
        ],
    );
    let key = std::fs::read(dir.path().join("costly.p8")).unwrap();
    let bags: Vec<Vec<u8>> = (0..300)
        .map(|_| craft::bag(craft::SHROUDED_KEY_BAG, key.clone()))
        .collect();
    let costly = dir.path().join("costly.p12");
    std::fs::write(&costly, craft::pfx(&craft::auth_safe(vec![bags]), None)).unwrap();
    for passphrase in [None, Some("pw")] {
        let started = Instant::now();
        let err = parse_file(&costly, passphrase).unwrap_err();
        assert!(
            matches!(err, ImportError::KeyDerivationTooCostly { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("costly.p12"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}: the work was done before the refusal",
            started.elapsed()
        );
    }

    // Thousands of tiny certificate bags: refused by count, before anything is decrypted.
    let leaf = std::fs::read(fixture("leaf.der")).unwrap();
    let many: Vec<Vec<u8>> = (0..import::MAX_PKCS12_BAGS + 1)
        .map(|_| craft::cert_bag(&leaf))
        .collect();
    let crowded = dir.path().join("crowded.p12");
    std::fs::write(&crowded, craft::pfx(&craft::auth_safe(vec![many]), None)).unwrap();
    let started = Instant::now();
    let err = parse_file(&crowded, None).unwrap_err();
    assert!(
        matches!(err, ImportError::TooManyBags { limit, .. } if limit == import::MAX_PKCS12_BAGS),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_pkcs12_parse_stops_when_cancelled() {
    let dir = workdir();
    // Six key bags of 1 000 000 iterations: about a second or more of derivations in all.
    openssl(
        dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-iter",
            "1000000",
            "-in",
            "leaf.key",
            "-outform",
            "DER",
            "-passout",
            "pass:pw",
            "-out",
            "slow.p8",
        ],
    );
    let key = std::fs::read(dir.path().join("slow.p8")).unwrap();
    let bags: Vec<Vec<u8>> = (0..6)
        .map(|_| craft::bag(craft::SHROUDED_KEY_BAG, key.clone()))
        .collect();
    let bytes = craft::pfx(&craft::auth_safe(vec![bags]), None);
    let cancel = import::CancelFlag::new();
    let started = Instant::now();
    let worker = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            import::parse_cancellable("slow.p12", &bytes, Some(&Secret::from("pw")), &cancel)
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    cancel.cancel();
    let result = worker.join().unwrap();
    assert!(
        matches!(result, Err(ImportError::Cancelled { .. })),
        "{result:?}"
    );
    // At most the derivation in progress finishes after the flag.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // A guard dropped before the parse starts stops it at once.
    let flag = import::CancelFlag::new();
    drop(flag.cancel_on_drop());
    assert!(flag.is_cancelled());
}

#[test]
fn every_legacy_encrypted_pem_variant_opens_with_its_passphrase() {
    let dir = workdir();
    let rsa_reference = load("rsa-pkcs1.key", None).unwrap().key.unwrap();
    for cipher in ["-aes128", "-aes192", "-aes256", "-des3"] {
        for (kind, input, reference) in [
            ("ec", "leaf.key", leaf_public_key()),
            (
                "rsa",
                "rsa-pkcs1.key",
                rsa_reference.public_key_der().to_vec(),
            ),
        ] {
            let file = format!("{kind}{cipher}.key");
            openssl(
                dir.path(),
                &[
                    kind,
                    "-in",
                    input,
                    "-traditional",
                    cipher,
                    "-passout",
                    "pass:pw1234",
                    "-out",
                    &file,
                ],
            );
            let path = dir.path().join(&file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.contains("Proc-Type: 4,ENCRYPTED") && text.contains("DEK-Info: "),
                "{file} is not legacy-encrypted:\n{text}"
            );
            let bundle =
                parse_file(&path, Some("pw1234")).unwrap_or_else(|e| panic!("{file}: {e}"));
            let key = bundle.key.unwrap();
            assert_eq!(key.public_key_der(), reference, "{file}");
            assert!(
                key.source.contains("legacy encrypted PEM"),
                "{}",
                key.source
            );
            assert!(
                matches!(
                    parse_file(&path, Some("wrong")),
                    Err(ImportError::WrongPassphrase { .. })
                ),
                "{file}: wrong passphrase"
            );
            assert!(
                matches!(
                    parse_file(&path, None),
                    Err(ImportError::NeedsPassphrase { .. })
                ),
                "{file}: no passphrase"
            );
        }
    }
    // Single DES needs OpenSSL 3's legacy provider to write; certdesk still opens it.
    openssl(
        dir.path(),
        &[
            "ec",
            "-in",
            "leaf.key",
            "-des",
            "-provider",
            "legacy",
            "-provider",
            "default",
            "-passout",
            "pass:pw1234",
            "-out",
            "ec-des.key",
        ],
    );
    let des = dir.path().join("ec-des.key");
    assert!(
        std::fs::read_to_string(&des)
            .unwrap()
            .contains("DEK-Info: DES-CBC,")
    );
    assert_eq!(
        parse_file(&des, Some("pw1234"))
            .unwrap()
            .key
            .unwrap()
            .public_key_der(),
        leaf_public_key()
    );
    // The committed fixture (openssl ec -aes256, passphrase "x") as well.
    assert_eq!(
        load("legacy-encrypted.key", Some("x"))
            .unwrap()
            .key
            .unwrap()
            .public_key_der(),
        leaf_public_key()
    );
}

#[test]
fn encrypted_pkcs8_with_the_default_prf_or_3des_opens() {
    let dir = workdir();
    for (file, args) in [
        (
            "sha1-prf.key",
            &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"][..],
        ),
        ("des3.key", &["-v2", "des3"][..]),
    ] {
        let mut all = vec![
            "pkcs8", "-topk8", "-in", "leaf.key", "-passout", "pass:pw", "-out", file,
        ];
        all.extend_from_slice(args);
        openssl(dir.path(), &all);
        let key = parse_file(&dir.path().join(file), Some("pw"))
            .unwrap()
            .key
            .unwrap();
        assert_eq!(key.public_key_der(), leaf_public_key(), "{file}");
        assert!(matches!(
            parse_file(&dir.path().join(file), Some("nope")),
            Err(ImportError::WrongPassphrase { .. })
        ));
    }
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.pem");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let err = import::read_file(&fifo).unwrap_err();
    assert!(
        matches!(&err, ImportError::NotARegularFile { kind, .. } if kind.contains("FIFO")),
        "{err:?}"
    );
    assert!(err.to_string().contains("pipe.pem"), "{err}");
    let err = import::read_file(Path::new("/dev/zero")).unwrap_err();
    assert!(
        matches!(&err, ImportError::NotARegularFile { kind, .. } if kind.contains("device")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn the_committed_encrypted_fuzz_seeds_open() {
    // Made by tests/fixtures/import/make-encrypted.sh; they seed the fuzz target's corpus.
    for name in [
        "legacy-aes128.key",
        "legacy-des3-rsa.key",
        "legacy.p12",
        "no-mac.p12",
    ] {
        let bundle = load(name, Some("correct-horse")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(bundle.key.is_some(), "{name}");
        assert!(
            matches!(load(name, None), Err(ImportError::NeedsPassphrase { .. })),
            "{name}"
        );
    }
    assert!(load("empty-password.p12", None).unwrap().key.is_some());
}

//! Certificate inspection: X.509 parsing, fingerprints, key algorithm and size, validity.
//! Pure: PEM text or DER bytes in, findings out. Knows nothing of clouds, the UI, the disk or the
//! clock (the current time is always an argument).

use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::IpAddr;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

/// Seconds in a day, for validity arithmetic.
const SECONDS_PER_DAY: i64 = 86_400;

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The text holds no `-----BEGIN CERTIFICATE-----` block.
    #[error("no certificate found (expected a -----BEGIN CERTIFICATE----- block)")]
    NoCertificate,
    /// The PEM armour is broken (bad base64, missing END line...).
    #[error("the PEM text is not valid: {0}")]
    Pem(String),
    /// The DER inside is not an X.509 certificate.
    #[error("the certificate is not valid X.509: {0}")]
    Der(String),
}

/// A certificate digest (SHA-256 or SHA-1) of the DER encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(Vec<u8>);

impl Fingerprint {
    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex without separators (`ab12…`), the form APIs and `openssl x509 -fingerprint`
    /// comparisons use once separators are dropped.
    pub fn hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Upper-case hex pairs separated by colons (`AB:12:…`), the form admins read in viewers.
    pub fn colon_hex(&self) -> String {
        colon_separated_upper_hex(&self.0)
    }

    /// `true` when `text` names this digest, ignoring case, colons and spaces.
    pub fn matches(&self, text: &str) -> bool {
        let cleaned: String = text
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect::<String>()
            .to_ascii_lowercase();
        cleaned == self.hex()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.colon_hex())
    }
}

fn colon_separated_upper_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{b:02X}"));
    }
    out
}

/// A subject alternative name entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectAltName {
    /// `DNS:` host name (may be a wildcard).
    Dns(String),
    /// `IP:` address.
    Ip(IpAddr),
    /// `email:` RFC 822 address.
    Email(String),
    /// `URI:` uniform resource identifier.
    Uri(String),
    /// Any other kind, already rendered for display.
    Other(String),
}

impl fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectAltName::Dns(v) => write!(f, "DNS:{v}"),
            SubjectAltName::Ip(v) => write!(f, "IP:{v}"),
            SubjectAltName::Email(v) => write!(f, "email:{v}"),
            SubjectAltName::Uri(v) => write!(f, "URI:{v}"),
            SubjectAltName::Other(v) => f.write_str(v),
        }
    }
}

/// The public key's algorithm, with the curve for elliptic keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA (any modulus size).
    Rsa,
    /// ECDSA over NIST P-256 (prime256v1).
    EcP256,
    /// ECDSA over NIST P-384.
    EcP384,
    /// ECDSA over NIST P-521.
    EcP521,
    /// Chinese SM2 curve (what KMS `EC_SM2` and PCA `SM2` keys use).
    Sm2,
    /// An elliptic key over another named curve (dotted OID).
    EcOther(String),
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// DSA.
    Dsa,
    /// Anything else (dotted OID of the algorithm).
    Other(String),
}

impl KeyAlgorithm {
    /// Short human name, e.g. `RSA`, `EC P-256`.
    pub fn label(&self) -> String {
        match self {
            KeyAlgorithm::Rsa => "RSA".into(),
            KeyAlgorithm::EcP256 => "EC P-256".into(),
            KeyAlgorithm::EcP384 => "EC P-384".into(),
            KeyAlgorithm::EcP521 => "EC P-521".into(),
            KeyAlgorithm::Sm2 => "EC SM2".into(),
            KeyAlgorithm::EcOther(oid) => format!("EC ({oid})"),
            KeyAlgorithm::Ed25519 => "Ed25519".into(),
            KeyAlgorithm::Ed448 => "Ed448".into(),
            KeyAlgorithm::Dsa => "DSA".into(),
            KeyAlgorithm::Other(oid) => format!("unknown ({oid})"),
        }
    }
}

/// The subject public key: algorithm and size in bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// Algorithm (and curve).
    pub algorithm: KeyAlgorithm,
    /// Size in bits (RSA modulus length, curve size), when it can be told.
    pub bits: Option<u32>,
}

impl fmt::Display for PublicKeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bits {
            Some(bits) => write!(f, "{} {bits} bits", self.algorithm.label()),
            None => f.write_str(&self.algorithm.label()),
        }
    }
}

/// Where `now` falls relative to a certificate's validity window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidityState {
    /// `now` is before notBefore.
    NotYetValid,
    /// Valid; whole days until notAfter (0 on the last day).
    Valid {
        /// Whole days left.
        days_left: i64,
    },
    /// notAfter has passed; whole days since.
    Expired {
        /// Whole days since expiry (0 on the day it expired).
        days_ago: i64,
    },
}

impl fmt::Display for ValidityState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidityState::NotYetValid => f.write_str("not yet valid"),
            ValidityState::Valid { days_left: 1 } => f.write_str("1 day left"),
            ValidityState::Valid { days_left } => write!(f, "{days_left} days left"),
            ValidityState::Expired { days_ago: 0 } => f.write_str("expired today"),
            ValidityState::Expired { days_ago: 1 } => f.write_str("expired 1 day ago"),
            ValidityState::Expired { days_ago } => write!(f, "expired {days_ago} days ago"),
        }
    }
}

/// Whole days from `now` to `not_after` (both UNIX seconds), rounded towards negative infinity:
/// 0 on the last day, negative once expired.
pub fn days_left(not_after: i64, now: i64) -> i64 {
    not_after.saturating_sub(now).div_euclid(SECONDS_PER_DAY)
}

/// Everything the detail panel and the import flow show about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Subject distinguished name (RFC 4514 style, e.g. `CN=a.example.com, O=Example`).
    pub subject: String,
    /// The subject's first common name, when present.
    pub common_name: Option<String>,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Subject alternative names, in certificate order.
    pub subject_alt_names: Vec<SubjectAltName>,
    /// Serial number as upper-case hex pairs separated by colons.
    pub serial: String,
    /// notBefore as UNIX seconds.
    pub not_before: i64,
    /// notAfter as UNIX seconds.
    pub not_after: i64,
    /// SHA-256 of the DER encoding.
    pub sha256: Fingerprint,
    /// SHA-1 of the DER encoding.
    pub sha1: Fingerprint,
    /// Subject public key.
    pub public_key: PublicKeyInfo,
    /// Signature algorithm (short name such as `sha256WithRSAEncryption`, else the dotted OID).
    pub signature_algorithm: String,
    /// Basic constraints say CA.
    pub is_ca: bool,
    /// The certificate in PEM, re-encoded from its DER (so it is always well-formed).
    pub pem: String,
}

impl CertificateInfo {
    /// Validity relative to `now` (UNIX seconds).
    pub fn validity_at(&self, now: i64) -> ValidityState {
        if now < self.not_before {
            ValidityState::NotYetValid
        } else if now > self.not_after {
            ValidityState::Expired {
                days_ago: now
                    .saturating_sub(self.not_after)
                    .div_euclid(SECONDS_PER_DAY),
            }
        } else {
            ValidityState::Valid {
                days_left: days_left(self.not_after, now),
            }
        }
    }

    /// `true` when subject and issuer are the same name.
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }
}

/// Every certificate in a PEM text, in order (a leaf followed by its chain, typically).
/// Blocks of other kinds (keys, CSRs) are skipped; a text with no certificate is an error.
pub fn parse_pem(text: &str) -> Result<Vec<CertificateInfo>, CertError> {
    let blocks = pem::parse_many(text.as_bytes()).map_err(|e| CertError::Pem(e.to_string()))?;
    let certs: Vec<CertificateInfo> = blocks
        .iter()
        .filter(|b| {
            matches!(
                b.tag(),
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
            )
        })
        .map(|b| parse_der(b.contents()))
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(CertError::NoCertificate);
    }
    Ok(certs)
}

/// The SHA-256 and SHA-1 fingerprints (lower-case hex, no colons) of the first certificate of a
/// PEM text: hashes of its DER bytes, without parsing the certificate (cheap enough for every row
/// a list call returns with its PEM).
pub fn pem_fingerprints(text: &str) -> Option<(String, String)> {
    let block = pem::parse_many(text.as_bytes())
        .ok()?
        .into_iter()
        .find(|b| {
            matches!(
                b.tag(),
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
            )
        })?;
    let der = block.contents();
    Some((
        hex::encode(Sha256::digest(der)),
        hex::encode(Sha1::digest(der)),
    ))
}

/// The first certificate of a PEM text (the leaf, by convention).
pub fn parse_first_pem(text: &str) -> Result<CertificateInfo, CertError> {
    parse_pem(text)?
        .into_iter()
        .next()
        .ok_or(CertError::NoCertificate)
}

/// One DER-encoded X.509 certificate.
pub fn parse_der(der: &[u8]) -> Result<CertificateInfo, CertError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| CertError::Der(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertError::Der(format!(
            "{} unexpected bytes after the certificate",
            rest.len()
        )));
    }
    let used = &der[..der.len() - rest.len()];
    Ok(inspect(&cert, used))
}

fn inspect(cert: &X509Certificate<'_>, der: &[u8]) -> CertificateInfo {
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let subject_alt_names = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext.value.general_names.iter().map(san_of).collect(),
        _ => Vec::new(),
    };
    let signature_algorithm = oid_name(&cert.signature_algorithm.algorithm);
    CertificateInfo {
        subject: cert.subject().to_string(),
        common_name,
        issuer: cert.issuer().to_string(),
        subject_alt_names,
        serial: colon_separated_upper_hex(cert.raw_serial()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        sha256: Fingerprint(Sha256::digest(der).to_vec()),
        sha1: Fingerprint(Sha1::digest(der).to_vec()),
        public_key: key_info(cert),
        signature_algorithm,
        is_ca: cert.is_ca(),
        pem: pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec())),
    }
}

fn oid_name(oid: &x509_parser::der_parser::Oid<'_>) -> String {
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn san_of(name: &GeneralName<'_>) -> SubjectAltName {
    match name {
        GeneralName::DNSName(v) => SubjectAltName::Dns((*v).to_string()),
        GeneralName::RFC822Name(v) => SubjectAltName::Email((*v).to_string()),
        GeneralName::URI(v) => SubjectAltName::Uri((*v).to_string()),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => {
                let mut a = [0u8; 4];
                a.copy_from_slice(bytes);
                SubjectAltName::Ip(IpAddr::from(a))
            }
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(bytes);
                SubjectAltName::Ip(IpAddr::from(a))
            }
            _ => SubjectAltName::Other(format!("IP:{}", hex::encode(bytes))),
        },
        GeneralName::DirectoryName(n) => SubjectAltName::Other(format!("DirName:{n}")),
        GeneralName::RegisteredID(oid) => SubjectAltName::Other(format!("RID:{oid}")),
        other => SubjectAltName::Other(format!("{other:?}")),
    }
}

/// OIDs of key algorithms and named curves certdesk recognises.
mod oids {
    pub const RSA: &str = "1.2.840.113549.1.1.1";
    pub const RSA_PSS: &str = "1.2.840.113549.1.1.10";
    pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
    pub const DSA: &str = "1.2.840.10040.4.1";
    pub const ED25519: &str = "1.3.101.112";
    pub const ED448: &str = "1.3.101.113";
    pub const P256: &str = "1.2.840.10045.3.1.7";
    pub const P384: &str = "1.3.132.0.34";
    pub const P521: &str = "1.3.132.0.35";
    pub const SM2: &str = "1.2.156.10197.1.301";
}

fn key_info(cert: &X509Certificate<'_>) -> PublicKeyInfo {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let parsed_bits = spki
        .parsed()
        .ok()
        .map(|k| match k {
            // The modulus may carry a leading zero byte; count from the first set bit.
            PublicKey::RSA(rsa) => significant_bits(rsa.modulus),
            other => other.key_size() as u32,
        })
        .filter(|b| *b > 0);
    match alg.as_str() {
        oids::RSA | oids::RSA_PSS => PublicKeyInfo {
            algorithm: KeyAlgorithm::Rsa,
            bits: parsed_bits,
        },
        oids::EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            let (algorithm, bits) = match curve.as_deref() {
                Some(oids::P256) => (KeyAlgorithm::EcP256, Some(256)),
                Some(oids::P384) => (KeyAlgorithm::EcP384, Some(384)),
                Some(oids::P521) => (KeyAlgorithm::EcP521, Some(521)),
                Some(oids::SM2) => (KeyAlgorithm::Sm2, Some(256)),
                Some(other) => (KeyAlgorithm::EcOther(other.to_string()), parsed_bits),
                None => (KeyAlgorithm::EcOther("unnamed curve".into()), parsed_bits),
            };
            PublicKeyInfo { algorithm, bits }
        }
        oids::ED25519 => PublicKeyInfo {
            algorithm: KeyAlgorithm::Ed25519,
            bits: Some(256),
        },
        oids::ED448 => PublicKeyInfo {
            algorithm: KeyAlgorithm::Ed448,
            bits: Some(456),
        },
        oids::DSA => PublicKeyInfo {
            algorithm: KeyAlgorithm::Dsa,
            bits: parsed_bits,
        },
        other => PublicKeyInfo {
            algorithm: KeyAlgorithm::Other(other.to_string()),
            bits: parsed_bits,
        },
    }
}

fn significant_bits(big_endian: &[u8]) -> u32 {
    let trimmed: &[u8] = match big_endian.iter().position(|b| *b != 0) {
        Some(first) => &big_endian[first..],
        None => return 0,
    };
    let leading = trimmed[0].leading_zeros();
    (trimmed.len() as u32) * 8 - leading
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType, SerialNumber,
    };

    const RSA_TEST_KEY: &str = include_str!("../tests/fixtures/rsa2048-test-only.key.pem");

    fn params(cn: &str, sans: Vec<SanType>) -> CertificateParams {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        dn.push(DnType::OrganizationName, "Example Org");
        p.distinguished_name = dn;
        p.subject_alt_names = sans;
        p.not_before = rcgen::date_time_ymd(2024, 1, 1);
        p.not_after = rcgen::date_time_ymd(2026, 1, 1);
        p.serial_number = Some(SerialNumber::from_slice(&[0x01, 0xAB, 0xCD]));
        p
    }

    fn unix(y: i32, m: u8, d: u8) -> i64 {
        rcgen::date_time_ymd(y, m, d).unix_timestamp()
    }

    #[test]
    fn ec_p256_leaf_is_fully_described() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let sans = vec![
            SanType::DnsName("a.example.com".try_into().unwrap()),
            SanType::DnsName("*.b.example.com".try_into().unwrap()),
            SanType::IpAddress("10.0.0.7".parse().unwrap()),
            SanType::Rfc822Name("ops@example.com".try_into().unwrap()),
        ];
        let cert = params("a.example.com", sans).self_signed(&key).unwrap();
        let info = parse_first_pem(&cert.pem()).unwrap();

        assert_eq!(info.common_name.as_deref(), Some("a.example.com"));
        assert!(
            info.subject.contains("CN=a.example.com"),
            "{}",
            info.subject
        );
        assert!(info.subject.contains("O=Example Org"), "{}", info.subject);
        assert!(info.is_self_issued());
        assert_eq!(
            info.subject_alt_names,
            vec![
                SubjectAltName::Dns("a.example.com".into()),
                SubjectAltName::Dns("*.b.example.com".into()),
                SubjectAltName::Ip("10.0.0.7".parse().unwrap()),
                SubjectAltName::Email("ops@example.com".into()),
            ]
        );
        assert_eq!(info.serial, "01:AB:CD");
        assert_eq!(info.not_before, unix(2024, 1, 1));
        assert_eq!(info.not_after, unix(2026, 1, 1));
        assert_eq!(info.public_key.algorithm, KeyAlgorithm::EcP256);
        assert_eq!(info.public_key.bits, Some(256));
        assert_eq!(info.public_key.to_string(), "EC P-256 256 bits");
        assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");
        assert!(!info.is_ca);
    }

    #[test]
    fn fingerprints_are_digests_of_the_der() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let cert = params("fp.example.com", vec![]).self_signed(&key).unwrap();
        let der: &[u8] = cert.der();
        let info = parse_der(der).unwrap();

        assert_eq!(info.sha256.as_bytes(), Sha256::digest(der).as_slice());
        assert_eq!(info.sha1.as_bytes(), Sha1::digest(der).as_slice());
        assert_eq!(info.sha256.hex().len(), 64);
        assert_eq!(info.sha1.hex().len(), 40);
        let colon = info.sha256.colon_hex();
        assert_eq!(colon.len(), 32 * 3 - 1);
        assert_eq!(colon, colon.to_uppercase());
        assert!(info.sha256.matches(&colon));
        assert!(info.sha256.matches(&info.sha256.hex().to_uppercase()));
        assert!(!info.sha1.matches(&info.sha256.hex()));
        assert_eq!(info.public_key.algorithm, KeyAlgorithm::EcP384);
        assert_eq!(info.public_key.bits, Some(384));
        // Re-encoded PEM parses back to the same certificate.
        assert_eq!(parse_first_pem(&info.pem).unwrap(), info);
    }

    #[test]
    fn rsa_key_size_is_the_modulus_length() {
        let key = KeyPair::from_pem_and_sign_algo(RSA_TEST_KEY, &rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = params("rsa.example.com", vec![]).self_signed(&key).unwrap();
        let info = parse_first_pem(&cert.pem()).unwrap();
        assert_eq!(info.public_key.algorithm, KeyAlgorithm::Rsa);
        assert_eq!(info.public_key.bits, Some(2048));
        assert_eq!(info.signature_algorithm, "sha256WithRSAEncryption");
    }

    #[test]
    fn ed25519_and_a_chain_in_order() {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let mut ca_params = params("Example Root CA", vec![]);
        ca_params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let leaf = params("leaf.example.com", vec![])
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();

        let bundle = format!("{}\n{}", leaf.pem(), ca.pem());
        let chain = parse_pem(&bundle).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].common_name.as_deref(), Some("leaf.example.com"));
        assert!(chain[0].issuer.contains("CN=Example Root CA"));
        assert!(!chain[0].is_self_issued());
        assert_eq!(chain[0].signature_algorithm, "ed25519");
        assert!(chain[1].is_ca);
        assert_eq!(chain[1].public_key.algorithm, KeyAlgorithm::Ed25519);
    }

    #[test]
    fn keys_and_junk_are_reported_not_panicked_on() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        assert_eq!(
            parse_pem(&key.serialize_pem()),
            Err(CertError::NoCertificate)
        );
        assert_eq!(parse_pem("hello"), Err(CertError::NoCertificate));
        assert!(matches!(
            parse_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
            Err(CertError::Pem(_))
        ));
        let not_x509 = pem::encode(&pem::Pem::new("CERTIFICATE", vec![0x30, 0x03, 1, 2, 3]));
        assert!(matches!(parse_pem(&not_x509), Err(CertError::Der(_))));
        assert!(matches!(parse_der(&[]), Err(CertError::Der(_))));
        let cert = params("x", vec![]).self_signed(&key).unwrap();
        let mut trailing = cert.der().to_vec();
        trailing.push(0);
        assert!(matches!(parse_der(&trailing), Err(CertError::Der(_))));
    }

    #[test]
    fn validity_and_days_left() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let info = parse_der(params("v", vec![]).self_signed(&key).unwrap().der()).unwrap();
        assert_eq!(
            info.validity_at(unix(2023, 12, 31)),
            ValidityState::NotYetValid
        );
        assert_eq!(
            info.validity_at(unix(2025, 12, 2)),
            ValidityState::Valid { days_left: 30 }
        );
        assert_eq!(
            info.validity_at(unix(2026, 1, 1) - 1),
            ValidityState::Valid { days_left: 0 }
        );
        assert_eq!(
            info.validity_at(unix(2026, 1, 11)),
            ValidityState::Expired { days_ago: 10 }
        );
        assert_eq!(
            ValidityState::Valid { days_left: 30 }.to_string(),
            "30 days left"
        );
        assert_eq!(days_left(1_000, 1_000 + SECONDS_PER_DAY), -1);
        assert_eq!(days_left(i64::MAX, i64::MIN), i64::MAX / SECONDS_PER_DAY);
    }
}

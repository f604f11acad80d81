//! Import of what admins bring — PEM and DER certificates (chains in any order), private keys
//! (PKCS#1, PKCS#8, SEC1, encrypted PKCS#8, OpenSSL's legacy encrypted PEM) and PKCS#12 bundles —
//! and the checks that catch a mistake before the cloud does (key matches, validity, chain,
//! domain, name length, size).
//!
//! Pure except for [`read_file`]: bytes in, findings out; the clock is an argument. Uses the
//! well-kept parsers (x509-parser, pem, pkcs8/pkcs1/sec1, rsa, p256/p384/sm2, RustCrypto's pkcs12
//! structures in [`p12`]); no hand-written ASN.1 or cryptography. Private key bytes live only in
//! zeroizing buffers and never print. A parse that derives keys can be stopped from another
//! thread ([`parse_cancellable`]).

mod legacy_pem;
mod p12;

use crate::certs::{self, CertificateInfo, KeyAlgorithm, ValidityState};
use crate::credentials::Secret;
use pkcs8::der::Decode;
use pkcs8::{EncodePrivateKey, EncodePublicKey};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

/// Largest file certdesk reads: a long chain plus key is ~20 KiB, so 1 MiB is generous, and a
/// bigger file is certainly the wrong one.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Longest certificate name the clouds accept (VOD `InvalidCertName.TooLong`).
pub const MAX_CERT_NAME_CHARS: usize = 128;

/// Largest certificate + chain PEM certdesk sends. VOD carries SSLPub in the URL query (SDK
/// behaviour) and the gateway's limit is not documented; 64 KiB stays well inside what HTTP
/// front ends accept, and no real chain comes near it.
pub const MAX_UPLOAD_PEM_BYTES: usize = 64 * 1024;

/// Most PBKDF2 iterations an encrypted key may ask for before certdesk derives its key. OpenSSL
/// writes 2048 and OWASP's advice is 600 000; the count is a u32 the file chooses, and 2^32
/// iterations keep an import busy for hours. The same bound holds for each derivation in a
/// PKCS#12 file, which also has a total budget ([`MAX_PKCS12_WORK`]).
pub const MAX_KDF_ITERATIONS: u32 = 1_000_000;

/// Total key-derivation work (hash-block iterations) one PKCS#12 file may ask for, across all its
/// bags and the passwords tried; checked before the work starts.
pub const MAX_PKCS12_WORK: u64 = p12::MAX_TOTAL_WORK;

/// Most bags one PKCS#12 file may hold; checked before any is decrypted.
pub const MAX_PKCS12_BAGS: usize = p12::MAX_BAGS;

/// Most memory (128·N·r bytes) an encrypted key's scrypt parameters may ask for: a file choosing
/// N = 2^40 would otherwise make the allocation abort the whole program. Same bound as for PKCS#12.
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 1 << 30;

/// Most scrypt lanes (p) an encrypted key may ask for; each costs another full pass.
pub const MAX_SCRYPT_PARALLELISM: u16 = 16;

/// Largest RSA modulus certdesk reads. The clouds take at most 4096-bit keys; checking a crafted
/// key of a megabit or so (it still fits in [`MAX_FILE_BYTES`]) costs minutes of big-number maths.
pub const MAX_RSA_BITS: usize = 16_384;

/// Why an input could not be used. Every variant says what was wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The path.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// Nothing in it.
    #[error("{name} is empty")]
    Empty {
        /// File or source name.
        name: String,
    },
    /// A FIFO, device, directory or socket: reading it could hang or never end.
    #[error("{name} is {kind}, not a regular file: choose the certificate or key file itself")]
    NotARegularFile {
        /// File name.
        name: String,
        /// What it is, in words.
        kind: String,
    },
    /// Far larger than any certificate or key.
    #[error(
        "{name} is {size} bytes; certificates and keys are never larger than {limit} bytes — is this the right file?"
    )]
    TooLarge {
        /// File name.
        name: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Text, but no PEM block.
    #[error("{name} is text but holds no PEM block (-----BEGIN …-----)")]
    NoPemBlock {
        /// File name.
        name: String,
    },
    /// Binary, but none of the known DER/PKCS#12 structures.
    #[error(
        "{name} is binary data that is not a DER certificate, DER private key or PKCS#12 (.p12/.pfx) file"
    )]
    NotRecognised {
        /// File name.
        name: String,
    },
    /// The PEM armour or its base64 is broken.
    #[error("{name}: the PEM text is corrupted or truncated ({detail})")]
    CorruptPem {
        /// File name.
        name: String,
        /// What the PEM parser said.
        detail: String,
    },
    /// A PEM block decoded, but its DER is not what its label says.
    #[error("{name}: the {label} block is malformed or truncated ({detail})")]
    MalformedBlock {
        /// File name.
        name: String,
        /// PEM label.
        label: String,
        /// Parser message.
        detail: String,
    },
    /// A PEM block of a kind certdesk does not import (CSR, public key, …).
    #[error("{name}: a {label} block is not a certificate or private key{hint}")]
    UnsupportedBlock {
        /// File name.
        name: String,
        /// PEM label.
        label: String,
        /// Extra advice.
        hint: String,
    },
    /// Encrypted input and no passphrase given.
    #[error("{name} is encrypted: enter its passphrase")]
    NeedsPassphrase {
        /// File name.
        name: String,
    },
    /// The passphrase did not decrypt it.
    #[error("{name}: wrong passphrase")]
    WrongPassphrase {
        /// File name.
        name: String,
    },
    /// Encrypted with an algorithm certdesk does not open.
    #[error(
        "{name}: encrypted with {algorithm}, which certdesk does not open; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc` (a key) or `openssl pkcs12 -export` (a .p12)"
    )]
    UnsupportedEncryption {
        /// File name.
        name: String,
        /// The algorithm (or mode) named.
        algorithm: String,
    },
    /// A PKCS#12 file with more bags than any real one.
    #[error(
        "{name}: the PKCS#12 file holds {count} or more bags (certdesk reads at most {limit}); is this the right file?"
    )]
    TooManyBags {
        /// File name.
        name: String,
        /// How many were found before stopping.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The parse was cancelled (the import window closed, other files were picked).
    #[error("{name}: reading was cancelled")]
    Cancelled {
        /// File name.
        name: String,
    },
    /// A key of an algorithm the clouds (or the crates) do not take.
    #[error(
        "{name}: unsupported key algorithm {algorithm} (RSA, EC P-256/P-384 and SM2 are supported)"
    )]
    UnsupportedAlgorithm {
        /// File name.
        name: String,
        /// Algorithm label or OID.
        algorithm: String,
    },
    /// An encrypted key or PKCS#12 file whose key-derivation parameters ask for far more work or
    /// memory than any tool writes (a crafted file would hang or abort the import).
    #[error(
        "{name}: the encryption asks for {detail}, far more than any tool writes; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc` (a key) or `openssl pkcs12 -export` (a .p12)"
    )]
    KeyDerivationTooCostly {
        /// File name.
        name: String,
        /// The parameter and its limit.
        detail: String,
    },
    /// An RSA key far larger than any certificate's.
    #[error("{name}: a {bits}-bit RSA key is larger than certdesk reads (at most {limit} bits)")]
    KeyTooLarge {
        /// File name.
        name: String,
        /// The modulus size.
        bits: usize,
        /// The limit.
        limit: usize,
    },
    /// More than one private key across the imported files.
    #[error(
        "more than one private key was imported ({first} and {second}); import exactly one key"
    )]
    SeveralKeys {
        /// Source of the first key.
        first: String,
        /// Source of the second key.
        second: String,
    },
}

/// A private key, held as PKCS#8 DER in a zeroizing buffer. Never printed.
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    public_key_der: Vec<u8>,
    /// Algorithm (and curve).
    pub algorithm: KeyAlgorithm,
    /// Size in bits.
    pub bits: Option<u32>,
    /// Where it came from (file name) and in which format.
    pub source: String,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .field("bits", &self.bits)
            .field("source", &self.source)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl PrivateKey {
    /// The key as a PKCS#8 PEM, ready for an upload parameter; zeroized when dropped.
    pub fn to_pkcs8_pem(&self) -> Secret {
        let pem = pem::Pem::new("PRIVATE KEY", self.pkcs8.to_vec());
        let text = pem::encode(&pem);
        // `pem::Pem` does not zeroize: wipe its copy of the key bytes now.
        let mut contents = pem.into_contents();
        zeroize::Zeroize::zeroize(&mut contents);
        Secret::new(text)
    }

    /// DER SubjectPublicKeyInfo of the matching public key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }
}

/// One imported certificate.
#[derive(Debug, Clone)]
pub struct ImportedCertificate {
    /// Everything the detail view shows.
    pub info: CertificateInfo,
    /// DER bytes.
    pub der: Vec<u8>,
    /// Where it came from.
    pub source: String,
}

/// Everything read from one or more files.
#[derive(Debug, Default)]
pub struct Bundle {
    /// Certificates in the order they were found.
    pub certificates: Vec<ImportedCertificate>,
    /// The private key, when one was imported.
    pub key: Option<PrivateKey>,
}

impl Bundle {
    /// Adds another file's content (a certificate file plus a key file, say).
    pub fn merge(&mut self, other: Bundle) -> Result<(), ImportError> {
        if let (Some(mine), Some(theirs)) = (&self.key, &other.key) {
            return Err(ImportError::SeveralKeys {
                first: mine.source.clone(),
                second: theirs.source.clone(),
            });
        }
        for cert in other.certificates {
            if !self.certificates.iter().any(|c| c.der == cert.der) {
                self.certificates.push(cert);
            }
        }
        if other.key.is_some() {
            self.key = other.key;
        }
        Ok(())
    }

    /// The chain, leaf first, as a PEM text (what upload APIs take).
    pub fn chain_pem(&self, chain: &ChainReport) -> String {
        chain
            .order
            .iter()
            .filter_map(|&i| self.certificates.get(i))
            .map(|c| c.info.pem.clone())
            .collect::<Vec<_>>()
            .join("")
    }
}

/// Reads a file for import: regular files only (a FIFO or a device such as `/dev/zero` is refused
/// before it is read), at most [`MAX_FILE_BYTES`] (checked before reading and while reading), not
/// empty. The bytes are zeroized when dropped (the file may hold a key).
pub fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    use crate::files::{Accept, ReadError, read_bounded};
    let name = display_name(path);
    let bytes = read_bounded(path, MAX_FILE_BYTES, Accept::RegularFiles).map_err(|e| match e {
        ReadError::Io(e) => ImportError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        },
        ReadError::NotAFile { kind } => ImportError::NotARegularFile {
            name: name.clone(),
            kind: kind.to_string(),
        },
        ReadError::TooLarge { size, limit } => ImportError::TooLarge {
            name: name.clone(),
            size: size.unwrap_or(limit.saturating_add(1)),
            limit,
        },
    })?;
    if bytes.is_empty() {
        return Err(ImportError::Empty { name });
    }
    Ok(bytes)
}

/// The file name shown in messages.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A flag that stops a parse still deriving keys (the import window closed, other files were
/// picked). Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag not raised yet.
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }

    /// Raises the flag: the parse stops before its next key derivation or bag.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelFlag::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A guard that raises this flag when dropped: whoever owns the work (the import dialog)
    /// holds it, so dropping the owner stops the parse.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Raises its [`CancelFlag`] when dropped.
#[derive(Debug, Default)]
pub struct CancelOnDrop(CancelFlag);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Parses one input (PEM text with any mix of blocks, DER, or PKCS#12).
pub fn parse(name: &str, bytes: &[u8], passphrase: Option<&Secret>) -> Result<Bundle, ImportError> {
    parse_cancellable(name, bytes, passphrase, &CancelFlag::new())
}

/// [`parse`] that stops with [`ImportError::Cancelled`] once `cancel` is raised (checked before
/// every key derivation and PKCS#12 bag).
pub fn parse_cancellable(
    name: &str,
    bytes: &[u8],
    passphrase: Option<&Secret>,
    cancel: &CancelFlag,
) -> Result<Bundle, ImportError> {
    if cancel.is_cancelled() {
        return Err(ImportError::Cancelled {
            name: name.to_string(),
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::Empty {
            name: name.to_string(),
        });
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge {
            name: name.to_string(),
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    if looks_like_text(bytes) {
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            return parse_pem_text(name, bytes, passphrase);
        }
        return Err(ImportError::NoPemBlock {
            name: name.to_string(),
        });
    }
    parse_der_input(name, bytes, passphrase, cancel)
}

fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    })
}

fn parse_pem_text(
    name: &str,
    bytes: &[u8],
    passphrase: Option<&Secret>,
) -> Result<Bundle, ImportError> {
    let corrupt = |e: pem::PemError| ImportError::CorruptPem {
        name: name.to_string(),
        detail: e.to_string(),
    };
    let blocks = pem::parse_many(bytes).map_err(corrupt)?;
    if blocks.is_empty() {
        return Err(ImportError::CorruptPem {
            name: name.to_string(),
            detail: "a BEGIN line without a matching END line".into(),
        });
    }
    let mut bundle = Bundle::default();
    for block in blocks {
        let label = block.tag().to_string();
        // OpenSSL's legacy encryption: `Proc-Type: 4,ENCRYPTED` + `DEK-Info: cipher,iv`.
        let dek_info = block
            .headers()
            .get("Proc-Type")
            .filter(|v| v.contains("ENCRYPTED"))
            .map(|_| block.headers().get("DEK-Info").unwrap_or("").to_string());
        let contents = Zeroizing::new(block.into_contents());
        match label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                let info =
                    certs::parse_der(&contents).map_err(|e| ImportError::MalformedBlock {
                        name: name.to_string(),
                        label: label.clone(),
                        detail: e.to_string(),
                    })?;
                bundle.certificates.push(ImportedCertificate {
                    info,
                    der: contents.to_vec(),
                    source: name.to_string(),
                });
            }
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                let format = match label.as_str() {
                    "RSA PRIVATE KEY" => KeyFormat::Pkcs1,
                    "EC PRIVATE KEY" => KeyFormat::Sec1,
                    "ENCRYPTED PRIVATE KEY" => KeyFormat::EncryptedPkcs8,
                    _ => KeyFormat::Pkcs8,
                };
                let key = match dek_info {
                    Some(dek_info) if format != KeyFormat::EncryptedPkcs8 => {
                        legacy_key(name, format, &dek_info, &contents, passphrase)?
                    }
                    _ => decode_key(name, format, &contents, passphrase)?,
                };
                let mut single = Bundle {
                    certificates: Vec::new(),
                    key: Some(key),
                };
                std::mem::swap(&mut single.certificates, &mut bundle.certificates);
                single.merge(std::mem::take(&mut bundle))?;
                bundle = single;
            }
            other => {
                let hint = match other {
                    "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                        " (it is a CSR: have it signed, then import the signed certificate)"
                    }
                    "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                        " (a public key cannot be uploaded; the private key is needed)"
                    }
                    "EC PARAMETERS" => continue, // OpenSSL writes these before SEC1 keys; harmless.
                    "PKCS7" | "CMS" => " (export the certificates from it as PEM)",
                    _ => "",
                };
                return Err(ImportError::UnsupportedBlock {
                    name: name.to_string(),
                    label: other.to_string(),
                    hint: hint.to_string(),
                });
            }
        }
    }
    Ok(bundle)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyFormat {
    Pkcs8,
    EncryptedPkcs8,
    Pkcs1,
    Sec1,
}

fn parse_der_input(
    name: &str,
    bytes: &[u8],
    passphrase: Option<&Secret>,
    cancel: &CancelFlag,
) -> Result<Bundle, ImportError> {
    if X509Certificate::from_der(bytes).is_ok_and(|(rest, _)| rest.is_empty()) {
        let info = certs::parse_der(bytes).map_err(|e| ImportError::MalformedBlock {
            name: name.to_string(),
            label: "DER certificate".into(),
            detail: e.to_string(),
        })?;
        return Ok(Bundle {
            certificates: vec![ImportedCertificate {
                info,
                der: bytes.to_vec(),
                source: name.to_string(),
            }],
            key: None,
        });
    }
    for format in [
        KeyFormat::Pkcs8,
        KeyFormat::EncryptedPkcs8,
        KeyFormat::Pkcs1,
        KeyFormat::Sec1,
    ] {
        if der_has_shape(format, bytes) {
            let key = decode_key(name, format, bytes, passphrase)?;
            return Ok(Bundle {
                certificates: Vec::new(),
                key: Some(key),
            });
        }
    }
    parse_pkcs12(name, bytes, passphrase, cancel)
}

/// Decrypts an OpenSSL legacy encrypted PEM key (`DEK-Info`) and decodes it as `format`.
fn legacy_key(
    name: &str,
    format: KeyFormat,
    dek_info: &str,
    ciphertext: &[u8],
    passphrase: Option<&Secret>,
) -> Result<PrivateKey, ImportError> {
    use legacy_pem::LegacyPemError;
    let plain =
        legacy_pem::decrypt(dek_info, ciphertext, passphrase.map(Secret::expose)).map_err(|e| {
            match e {
                LegacyPemError::NeedsPassphrase => ImportError::NeedsPassphrase {
                    name: name.to_string(),
                },
                LegacyPemError::WrongPassphrase => ImportError::WrongPassphrase {
                    name: name.to_string(),
                },
                LegacyPemError::Unsupported(cipher) => ImportError::UnsupportedEncryption {
                    name: name.to_string(),
                    algorithm: format!("the legacy PEM cipher {cipher}"),
                },
                LegacyPemError::Malformed(detail) => ImportError::MalformedBlock {
                    name: name.to_string(),
                    label: "encrypted private key".into(),
                    detail,
                },
            }
        })?;
    // A wrong passphrase pads correctly about once in 256 tries: the structure tells.
    if !der_has_shape(format, &plain) {
        return Err(ImportError::WrongPassphrase {
            name: name.to_string(),
        });
    }
    let mut key = decode_key(name, format, &plain, None)?;
    key.source = format!("{name} (legacy encrypted PEM)");
    Ok(key)
}

/// Whether `bytes` parse as the ASN.1 structure of `format` (before any key maths).
fn der_has_shape(format: KeyFormat, bytes: &[u8]) -> bool {
    match format {
        KeyFormat::Pkcs8 => pkcs8::PrivateKeyInfo::from_der(bytes).is_ok(),
        KeyFormat::EncryptedPkcs8 => pkcs8::EncryptedPrivateKeyInfo::from_der(bytes).is_ok(),
        KeyFormat::Pkcs1 => pkcs1::RsaPrivateKey::from_der(bytes).is_ok(),
        KeyFormat::Sec1 => sec1::EcPrivateKey::from_der(bytes).is_ok(),
    }
}

fn parse_pkcs12(
    name: &str,
    bytes: &[u8],
    passphrase: Option<&Secret>,
    cancel: &CancelFlag,
) -> Result<Bundle, ImportError> {
    use p12::P12Error;
    let named = |detail: String| ImportError::MalformedBlock {
        name: name.to_string(),
        label: "PKCS#12".into(),
        detail,
    };
    let contents =
        p12::open(bytes, passphrase.map(Secret::expose), &cancel.0).map_err(|e| match e {
            P12Error::NotPkcs12 => ImportError::NotRecognised {
                name: name.to_string(),
            },
            P12Error::Malformed(detail) => named(detail),
            P12Error::NeedsPassphrase => ImportError::NeedsPassphrase {
                name: name.to_string(),
            },
            P12Error::WrongPassphrase => ImportError::WrongPassphrase {
                name: name.to_string(),
            },
            P12Error::Unsupported(algorithm) => ImportError::UnsupportedEncryption {
                name: name.to_string(),
                algorithm,
            },
            P12Error::TooCostly(detail) => ImportError::KeyDerivationTooCostly {
                name: name.to_string(),
                detail,
            },
            P12Error::TooManyBags(count) => ImportError::TooManyBags {
                name: name.to_string(),
                count,
                limit: p12::MAX_BAGS,
            },
            P12Error::Cancelled => ImportError::Cancelled {
                name: name.to_string(),
            },
        })?;
    let mut bundle = Bundle::default();
    for der in &contents.certificates {
        if cancel.is_cancelled() {
            return Err(ImportError::Cancelled {
                name: name.to_string(),
            });
        }
        let info = certs::parse_der(der).map_err(|e| ImportError::MalformedBlock {
            name: name.to_string(),
            label: "PKCS#12 certificate".into(),
            detail: e.to_string(),
        })?;
        if !bundle.certificates.iter().any(|c| &c.der == der) {
            bundle.certificates.push(ImportedCertificate {
                info,
                der: der.clone(),
                source: name.to_string(),
            });
        }
    }
    for der in &contents.keys {
        let mut key = decode_key(name, KeyFormat::Pkcs8, der, None)?;
        key.source = format!("{name} (PKCS#12)");
        if let Some(existing) = &bundle.key {
            return Err(ImportError::SeveralKeys {
                first: existing.source.clone(),
                second: key.source,
            });
        }
        bundle.key = Some(key);
    }
    if bundle.certificates.is_empty() && bundle.key.is_none() {
        return Err(named("it holds no certificate and no private key".into()));
    }
    Ok(bundle)
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_SM2: &str = "1.2.156.10197.1.301";

/// Decodes a private key of any supported format into PKCS#8 + its public key.
fn decode_key(
    name: &str,
    format: KeyFormat,
    der: &[u8],
    passphrase: Option<&Secret>,
) -> Result<PrivateKey, ImportError> {
    let malformed = |detail: String| ImportError::MalformedBlock {
        name: name.to_string(),
        label: "private key".into(),
        detail,
    };
    match format {
        KeyFormat::EncryptedPkcs8 => {
            // Structure and cost first: a malformed or crafted file is not worth a passphrase.
            let info = pkcs8::EncryptedPrivateKeyInfo::from_der(der)
                .map_err(|e| malformed(e.to_string()))?;
            check_kdf_cost(name, &info.encryption_algorithm)?;
            let Some(passphrase) = passphrase else {
                return Err(ImportError::NeedsPassphrase {
                    name: name.to_string(),
                });
            };
            let document =
                info.decrypt(passphrase.expose())
                    .map_err(|_| ImportError::WrongPassphrase {
                        name: name.to_string(),
                    })?;
            let mut key = decode_key(name, KeyFormat::Pkcs8, document.as_bytes(), None)?;
            key.source = format!("{name} (encrypted PKCS#8)");
            Ok(key)
        }
        KeyFormat::Pkcs1 => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            check_rsa_size(name, der)?;
            let key =
                rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| malformed(e.to_string()))?;
            rsa_key(name, "PKCS#1", &key)
        }
        KeyFormat::Sec1 => {
            let parsed = sec1::EcPrivateKey::from_der(der).map_err(|e| malformed(e.to_string()))?;
            let curve = parsed
                .parameters
                .and_then(|p| p.named_curve())
                .map(|oid| oid.to_string())
                .unwrap_or_default();
            ec_key(name, "SEC1", &curve, |c| match c {
                OID_P256 => p256::SecretKey::from_sec1_der(der)
                    .map(EcKey::P256)
                    .map_err(|e| e.to_string()),
                OID_P384 => p384::SecretKey::from_sec1_der(der)
                    .map(EcKey::P384)
                    .map_err(|e| e.to_string()),
                OID_SM2 => sm2::SecretKey::from_sec1_der(der)
                    .map(EcKey::Sm2)
                    .map_err(|e| e.to_string()),
                _ => Err(String::new()),
            })
        }
        KeyFormat::Pkcs8 => {
            let info =
                pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| malformed(e.to_string()))?;
            let algorithm = info.algorithm.oid.to_string();
            match algorithm.as_str() {
                OID_RSA => {
                    use rsa::pkcs8::DecodePrivateKey;
                    check_rsa_size(name, info.private_key)?;
                    let key = rsa::RsaPrivateKey::from_pkcs8_der(der)
                        .map_err(|e| malformed(e.to_string()))?;
                    rsa_key(name, "PKCS#8", &key)
                }
                OID_EC => {
                    let curve = info
                        .algorithm
                        .parameters_oid()
                        .map(|o| o.to_string())
                        .unwrap_or_default();
                    ec_key(name, "PKCS#8", &curve, |c| {
                        use pkcs8::DecodePrivateKey;
                        match c {
                            OID_P256 => p256::SecretKey::from_pkcs8_der(der)
                                .map(EcKey::P256)
                                .map_err(|e| e.to_string()),
                            OID_P384 => p384::SecretKey::from_pkcs8_der(der)
                                .map(EcKey::P384)
                                .map_err(|e| e.to_string()),
                            OID_SM2 => sm2::SecretKey::from_pkcs8_der(der)
                                .map(EcKey::Sm2)
                                .map_err(|e| e.to_string()),
                            _ => Err(String::new()),
                        }
                    })
                }
                other => Err(ImportError::UnsupportedAlgorithm {
                    name: name.to_string(),
                    algorithm: match other {
                        "1.3.101.112" => "Ed25519".to_string(),
                        "1.3.101.113" => "Ed448".to_string(),
                        "1.2.840.10040.4.1" => "DSA".to_string(),
                        oid => format!("OID {oid}"),
                    },
                }),
            }
        }
    }
}

/// Refuses PBES2 parameters whose key derivation would take far longer, or far more memory, than
/// any real file's (see [`MAX_KDF_ITERATIONS`]). PBES1 counts are 16-bit: always cheap.
fn check_kdf_cost(
    name: &str,
    scheme: &pkcs8::pkcs5::EncryptionScheme<'_>,
) -> Result<(), ImportError> {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    let EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    let too_costly = match &params.kdf {
        Kdf::Pbkdf2(pbkdf2) if pbkdf2.iteration_count > MAX_KDF_ITERATIONS => Some(format!(
            "{} PBKDF2 iterations (certdesk allows {MAX_KDF_ITERATIONS})",
            pbkdf2.iteration_count
        )),
        Kdf::Scrypt(scrypt) => {
            let memory = 128u64
                .checked_mul(scrypt.cost_parameter)
                .and_then(|m| m.checked_mul(u64::from(scrypt.block_size)));
            let within = memory.is_some_and(|m| m <= MAX_SCRYPT_MEMORY_BYTES)
                && scrypt.parallelization <= MAX_SCRYPT_PARALLELISM;
            (!within).then(|| {
                format!(
                    "scrypt with N={} r={} p={} (certdesk allows 128·N·r up to {} MiB and p up to {MAX_SCRYPT_PARALLELISM})",
                    scrypt.cost_parameter,
                    scrypt.block_size,
                    scrypt.parallelization,
                    MAX_SCRYPT_MEMORY_BYTES >> 20
                )
            })
        }
        _ => None,
    };
    match too_costly {
        Some(detail) => Err(ImportError::KeyDerivationTooCostly {
            name: name.to_string(),
            detail,
        }),
        None => Ok(()),
    }
}

/// Refuses an RSA key (PKCS#1 DER) whose modulus exceeds [`MAX_RSA_BITS`], before the rsa crate
/// checks it. A structure that does not parse is left to the decoder's own error.
fn check_rsa_size(name: &str, pkcs1_der: &[u8]) -> Result<(), ImportError> {
    let Ok(key) = pkcs1::RsaPrivateKey::from_der(pkcs1_der) else {
        return Ok(());
    };
    let modulus = key.modulus.as_bytes();
    let bits = match modulus.first() {
        Some(&top) => modulus.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    };
    if bits > MAX_RSA_BITS {
        return Err(ImportError::KeyTooLarge {
            name: name.to_string(),
            bits,
            limit: MAX_RSA_BITS,
        });
    }
    Ok(())
}

enum EcKey {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    Sm2(sm2::SecretKey),
}

fn ec_key(
    name: &str,
    format: &str,
    curve: &str,
    decode: impl FnOnce(&str) -> Result<EcKey, String>,
) -> Result<PrivateKey, ImportError> {
    let unsupported = || ImportError::UnsupportedAlgorithm {
        name: name.to_string(),
        algorithm: match curve {
            "1.3.132.0.35" => "EC P-521".to_string(),
            "" => "EC with explicit (unnamed) curve parameters".to_string(),
            oid => format!("EC curve {oid}"),
        },
    };
    let malformed = |detail: String| ImportError::MalformedBlock {
        name: name.to_string(),
        label: "private key".into(),
        detail,
    };
    if !matches!(curve, OID_P256 | OID_P384 | OID_SM2) {
        return Err(unsupported());
    }
    let key = decode(curve).map_err(malformed)?;
    let (pkcs8, public, algorithm, bits) = match &key {
        EcKey::P256(k) => (
            k.to_pkcs8_der(),
            k.public_key().to_public_key_der(),
            KeyAlgorithm::EcP256,
            256,
        ),
        EcKey::P384(k) => (
            k.to_pkcs8_der(),
            k.public_key().to_public_key_der(),
            KeyAlgorithm::EcP384,
            384,
        ),
        EcKey::Sm2(k) => (
            k.to_pkcs8_der(),
            k.public_key().to_public_key_der(),
            KeyAlgorithm::Sm2,
            256,
        ),
    };
    let pkcs8 = pkcs8.map_err(|e| malformed(e.to_string()))?;
    let public = public.map_err(|e| malformed(e.to_string()))?;
    Ok(PrivateKey {
        pkcs8: Zeroizing::new(pkcs8.as_bytes().to_vec()),
        public_key_der: public.as_bytes().to_vec(),
        algorithm,
        bits: Some(bits),
        source: format!("{name} ({format})"),
    })
}

fn rsa_key(name: &str, format: &str, key: &rsa::RsaPrivateKey) -> Result<PrivateKey, ImportError> {
    use rsa::traits::PublicKeyParts;
    let malformed = |detail: String| ImportError::MalformedBlock {
        name: name.to_string(),
        label: "private key".into(),
        detail,
    };
    let pkcs8 = key.to_pkcs8_der().map_err(|e| malformed(e.to_string()))?;
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| malformed(e.to_string()))?;
    Ok(PrivateKey {
        pkcs8: Zeroizing::new(pkcs8.as_bytes().to_vec()),
        public_key_der: public.as_bytes().to_vec(),
        algorithm: KeyAlgorithm::Rsa,
        bits: Some((key.size() * 8) as u32),
        source: format!("{name} ({format})"),
    })
}

/// The public key bits of a DER SubjectPublicKeyInfo (what "matches" compares).
fn spki_key_bits(spki_der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::x509::SubjectPublicKeyInfo;
    SubjectPublicKeyInfo::from_der(spki_der)
        .ok()
        .map(|(_, spki)| spki.subject_public_key.data.to_vec())
}

fn cert_key_bits(der: &[u8]) -> Option<Vec<u8>> {
    X509Certificate::from_der(der)
        .ok()
        .map(|(_, c)| c.public_key().subject_public_key.data.to_vec())
}

/// Whether the certificate's public key is the private key's public key.
pub fn key_matches(cert: &ImportedCertificate, key: &PrivateKey) -> bool {
    match (
        cert_key_bits(&cert.der),
        spki_key_bits(key.public_key_der()),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The certificates ordered into a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Indexes into `Bundle::certificates`, leaf first.
    pub order: Vec<usize>,
    /// Certificates that are not part of the leaf's chain.
    pub unrelated: Vec<usize>,
    /// Every link's signature verified against the next certificate's key.
    pub links_verified: bool,
    /// Problems found (broken signatures, unrelated certificates).
    pub problems: Vec<String>,
}

/// Finds the leaf (the certificate matching the key, else the one that issued nothing else) and
/// orders the rest by issuer, verifying each link's signature.
pub fn order_chain(bundle: &Bundle) -> Option<ChainReport> {
    let certs = &bundle.certificates;
    if certs.is_empty() {
        return None;
    }
    let issued_something = |i: usize| {
        certs.iter().enumerate().any(|(j, other)| {
            j != i && !other.info.is_self_issued() && other.info.issuer == certs[i].info.subject
        })
    };
    let leaf = bundle
        .key
        .as_ref()
        .and_then(|key| certs.iter().position(|c| key_matches(c, key)))
        .or_else(|| (0..certs.len()).find(|&i| !issued_something(i)))
        .unwrap_or(0);
    let mut order = vec![leaf];
    let mut problems = Vec::new();
    let mut links_verified = true;
    loop {
        let current = order[order.len() - 1];
        if certs[current].info.is_self_issued() {
            break;
        }
        let next = (0..certs.len())
            .find(|&j| !order.contains(&j) && certs[j].info.subject == certs[current].info.issuer);
        let Some(next) = next else { break };
        if !signature_verifies(&certs[current].der, &certs[next].der) {
            links_verified = false;
            problems.push(format!(
                "{} names {} as issuer, but its signature does not verify with that certificate's key",
                label_of(&certs[current].info),
                label_of(&certs[next].info)
            ));
        }
        order.push(next);
    }
    let unrelated: Vec<usize> = (0..certs.len()).filter(|i| !order.contains(i)).collect();
    for &i in &unrelated {
        problems.push(format!(
            "{} is not part of the leaf's chain",
            label_of(&certs[i].info)
        ));
    }
    Some(ChainReport {
        order,
        unrelated,
        links_verified,
        problems,
    })
}

fn label_of(info: &CertificateInfo) -> String {
    info.common_name
        .clone()
        .unwrap_or_else(|| info.subject.clone())
}

fn signature_verifies(child_der: &[u8], issuer_der: &[u8]) -> bool {
    match (
        X509Certificate::from_der(child_der),
        X509Certificate::from_der(issuer_der),
    ) {
        (Ok((_, child)), Ok((_, issuer))) => {
            child.verify_signature(Some(issuer.public_key())).is_ok()
        }
        _ => false,
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Fine.
    Pass,
    /// Usable, but look (e.g. expires soon, chain incomplete, expired with override).
    Warn,
    /// Would be rejected by the cloud or break the site.
    Fail,
}

/// One named check with its verdict and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub detail: String,
}

/// Where the import is going, for the checks that depend on it.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The CDN domain the certificate must cover.
    pub domain: Option<String>,
    /// The certificate name that will be sent.
    pub cert_name: Option<String>,
    /// A private key is required (CDN upload) rather than forbidden (KMS signed certificate).
    pub needs_key: bool,
    /// Accept an expired or not-yet-valid certificate (explicit user override): warn instead of fail.
    pub allow_invalid_dates: bool,
    /// Current UNIX time.
    pub now: i64,
}

/// Runs every check for `target`. `Fail` anywhere means: do not upload.
pub fn check(bundle: &Bundle, target: &Target) -> Vec<Check> {
    let mut checks = Vec::new();
    let chain = order_chain(bundle);
    let leaf = chain
        .as_ref()
        .and_then(|c| bundle.certificates.get(c.order[0]));

    let Some(leaf) = leaf else {
        checks.push(Check {
            name: "certificate present",
            verdict: Verdict::Fail,
            detail: match &bundle.key {
                Some(_) => {
                    "a private key without its certificate: import the certificate too".into()
                }
                None => "nothing imported".into(),
            },
        });
        return checks;
    };
    match (&bundle.key, target.needs_key) {
        (Some(key), _) => checks.push(if key_matches(leaf, key) {
            Check { name: "key matches certificate", verdict: Verdict::Pass, detail: format!("{} key matches {}", key.algorithm.label(), label_of(&leaf.info)) }
        } else {
            Check {
                name: "key matches certificate",
                verdict: Verdict::Fail,
                detail: format!("the private key ({}) does not belong to {} ({}): the cloud would answer Certificate.MissMatch", key.algorithm.label(), label_of(&leaf.info), leaf.info.public_key),
            }
        }),
        (None, true) => checks.push(Check { name: "key matches certificate", verdict: Verdict::Fail, detail: "a certificate without its private key: import the key too".into() }),
        (None, false) => {}
    }
    let date_failure = if target.allow_invalid_dates {
        Verdict::Warn
    } else {
        Verdict::Fail
    };
    checks.push(match leaf.info.validity_at(target.now) {
        ValidityState::Valid { days_left } if days_left < 30 => Check {
            name: "validity",
            verdict: Verdict::Warn,
            detail: format!("valid, but only {days_left} days left"),
        },
        ValidityState::Valid { days_left } => Check {
            name: "validity",
            verdict: Verdict::Pass,
            detail: format!("valid, {days_left} days left"),
        },
        ValidityState::Expired { days_ago } => Check {
            name: "validity",
            verdict: date_failure,
            detail: format!(
                "expired {days_ago} days ago{}",
                if target.allow_invalid_dates {
                    " (override accepted)"
                } else {
                    ": upload only with an explicit override"
                }
            ),
        },
        ValidityState::NotYetValid => Check {
            name: "validity",
            verdict: date_failure,
            detail: format!(
                "not valid yet{}",
                if target.allow_invalid_dates {
                    " (override accepted)"
                } else {
                    ": upload only with an explicit override"
                }
            ),
        },
    });
    if let Some(chain) = &chain {
        let top = &bundle.certificates[chain.order[chain.order.len() - 1]].info;
        checks.push(if !chain.links_verified || !chain.unrelated.is_empty() {
            Check { name: "chain", verdict: Verdict::Fail, detail: chain.problems.join("; ") }
        } else if top.is_self_issued() {
            Check { name: "chain", verdict: Verdict::Pass, detail: format!("{} certificate(s), links verified, ends at root {}", chain.order.len(), label_of(top)) }
        } else {
            Check {
                name: "chain",
                verdict: Verdict::Warn,
                detail: format!("{} certificate(s), links verified; the issuer of {} is not included (fine if it is a well-known root)", chain.order.len(), label_of(top)),
            }
        });
    }
    if let Some(domain) = &target.domain {
        checks.push(if covers_domain(&leaf.info, domain) {
            Check {
                name: "covers domain",
                verdict: Verdict::Pass,
                detail: format!("{} is covered", domain),
            }
        } else {
            Check {
                name: "covers domain",
                verdict: Verdict::Fail,
                detail: format!(
                    "{} is not among the certificate's names ({}): browsers would reject the site",
                    domain,
                    names_of(&leaf.info).join(", ")
                ),
            }
        });
    }
    if let Some(name) = &target.cert_name {
        let chars = name.chars().count();
        checks.push(if chars == 0 {
            Check {
                name: "name length",
                verdict: Verdict::Fail,
                detail: "the certificate name is empty".into(),
            }
        } else if chars > MAX_CERT_NAME_CHARS {
            Check {
                name: "name length",
                verdict: Verdict::Fail,
                detail: format!(
                    "{chars} characters; at most {MAX_CERT_NAME_CHARS} (InvalidCertName.TooLong)"
                ),
            }
        } else {
            Check {
                name: "name length",
                verdict: Verdict::Pass,
                detail: format!("{chars} of {MAX_CERT_NAME_CHARS} characters"),
            }
        });
    }
    let size = chain
        .as_ref()
        .map(|c| bundle.chain_pem(c).len())
        .unwrap_or(0);
    checks.push(if size > MAX_UPLOAD_PEM_BYTES {
        Check {
            name: "size",
            verdict: Verdict::Fail,
            detail: format!(
                "the certificate chain is {size} bytes of PEM; at most {MAX_UPLOAD_PEM_BYTES}"
            ),
        }
    } else {
        Check {
            name: "size",
            verdict: Verdict::Pass,
            detail: format!("{size} bytes of PEM"),
        }
    });
    checks
}

/// DNS names a certificate is valid for: its SAN DNS entries, else its CN.
pub fn names_of(info: &CertificateInfo) -> Vec<String> {
    let sans: Vec<String> = info
        .subject_alt_names
        .iter()
        .filter_map(|san| match san {
            certs::SubjectAltName::Dns(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    if sans.is_empty() {
        info.common_name.clone().into_iter().collect()
    } else {
        sans
    }
}

/// Whether the certificate covers `domain` (browser rules, see [`name_covers`]).
pub fn covers_domain(info: &CertificateInfo, domain: &str) -> bool {
    names_cover(&names_of(info), domain)
}

/// Whether any of a certificate's DNS `names` covers `domain` (see [`name_covers`]). The one
/// coverage check of certdesk: the import checks, rotation previews and the rotation's per-domain
/// refusal all use it.
pub fn names_cover<S: AsRef<str>>(names: &[S], domain: &str) -> bool {
    names.iter().any(|name| name_covers(name.as_ref(), domain))
}

/// Whether one certificate name covers `domain`, as browsers match (RFC 6125 §6.4.3 as Chrome and
/// Firefox apply it): case-insensitive, a trailing dot ignored; a wildcard only as the whole
/// left-most label (`*.example.com`), standing for exactly one non-empty label — it covers
/// `a.example.com`, not `example.com` nor `a.b.example.com`; no wildcard over a single label
/// (`*.com`) and no partial-label wildcards (`w*.example.com`), which browsers refuse. A
/// wildcard domain of a CDN (`*.example.com` accelerates every sub-domain) is covered by the
/// same wildcard name only.
pub fn name_covers(name: &str, domain: &str) -> bool {
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || domain.is_empty() {
        return false;
    }
    if name == domain {
        // Equal texts match, but a malformed wildcard name never does.
        return !name.contains('*') || is_wildcard_name(&name);
    }
    if !is_wildcard_name(&name) || domain.contains('*') {
        return false;
    }
    let suffix = &name[2..];
    domain
        .split_once('.')
        .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix)
}

/// `*.` followed by at least two labels and no other `*`.
fn is_wildcard_name(name: &str) -> bool {
    name.strip_prefix("*.").is_some_and(|suffix| {
        !suffix.contains('*')
            && suffix.contains('.')
            && suffix.split('.').all(|label| !label.is_empty())
    })
}

/// `true` when no check failed.
pub fn passes(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.verdict != Verdict::Fail)
}

/// The public key a certificate signing request (PEM) asks to be certified, as the raw key bits
/// of its SubjectPublicKeyInfo (what [`csr_key_check`] compares with a certificate's).
pub fn csr_public_key(csr_pem: &str) -> Result<Vec<u8>, String> {
    use x509_parser::certification_request::X509CertificationRequest;
    let block = pem::parse(csr_pem.trim()).map_err(|e| format!("the CSR is not PEM: {e}"))?;
    if !block.tag().contains("CERTIFICATE REQUEST") {
        return Err(format!(
            "expected a CERTIFICATE REQUEST, found {}",
            block.tag()
        ));
    }
    let (_, csr) = X509CertificationRequest::from_der(block.contents())
        .map_err(|e| format!("the CSR is malformed: {e}"))?;
    Ok(csr
        .certification_request_info
        .subject_pki
        .subject_public_key
        .data
        .to_vec())
}

/// The check that a signed certificate belongs to a CSR: its public key must be the one the CSR
/// asked to be certified (KMS UploadCertificate answers Certificate.MissMatch otherwise).
pub fn csr_key_check(bundle: &Bundle, csr_key: &[u8]) -> Check {
    const NAME: &str = "public key matches CSR";
    let leaf = order_chain(bundle).and_then(|c| bundle.certificates.get(c.order[0]).cloned());
    match leaf
        .as_ref()
        .and_then(|l| cert_key_bits(&l.der).map(|k| (l, k)))
    {
        None => Check {
            name: NAME,
            verdict: Verdict::Fail,
            detail: "no certificate imported".into(),
        },
        Some((leaf, key)) if key == csr_key => Check {
            name: NAME,
            verdict: Verdict::Pass,
            detail: format!(
                "{} carries the public key of the certificate request",
                label_of(&leaf.info)
            ),
        },
        Some((leaf, _)) => Check {
            name: NAME,
            verdict: Verdict::Fail,
            detail: format!(
                "{} ({}) was not issued for this certificate request: its public key differs from the CSR's",
                label_of(&leaf.info),
                leaf.info.public_key
            ),
        },
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn wildcards_cover_exactly_one_label_as_browsers_match() {
        for (name, domain, covered) in [
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "A.Example.COM.", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", ".example.com", false),
            ("example.com", "example.com", true),
            ("example.com", "www.example.com", false),
            ("www.example.com", "WWW.example.com", true),
            // A wildcard CDN domain is covered by the same wildcard only.
            ("*.example.com", "*.example.com", true),
            ("www.example.com", "*.example.com", false),
            // What browsers refuse.
            ("*.com", "example.com", false),
            ("w*.example.com", "www.example.com", false),
            ("*.*.example.com", "a.b.example.com", false),
            ("a.*.example.com", "a.b.example.com", false),
            ("", "example.com", false),
            ("example.com", "", false),
        ] {
            assert_eq!(name_covers(name, domain), covered, "{name} vs {domain}");
        }
        assert!(names_cover(
            &["shop.example.org", "*.example.com"],
            "a.example.com"
        ));
        assert!(!names_cover::<&str>(&[], "a.example.com"));
    }
}

//! The PKCS#12 (.p12 / .pfx) container walk: the integrity MAC, the password-based decryption of
//! its certificate and key bags, and the limits that keep a crafted file from holding the import
//! (a bag-count limit and a total key-derivation budget, both checked before the work they bound,
//! and a cancellation flag checked before every derivation and bag).
//!
//! What it opens: everything `openssl pkcs12 -export` (3.x) writes by default (PBES2 / PBKDF2 /
//! HMAC-SHA256 / AES-256-CBC, SHA-256 MAC) and with `-legacy` (RC2-40 for certificates, 3DES for
//! keys, SHA-1 MAC); PBES2 whose PBKDF2 leaves out the PRF (RFC 8018: hmacWithSHA1); files
//! without a MAC (`-nomac`) or without encryption (`-keypbe NONE -certpbe NONE`); the empty
//! password in both encodings implementations use (RFC 7292's two-zero-byte BMPString, and the
//! zero-length string of a NULL password), tried before asking for one.
//!
//! It hands back DER: certificates and PKCS#8 private keys. It knows nothing of what they mean
//! (the importer decodes them) nor of any window. RustCrypto's structures (pkcs12, cms, der), its
//! RFC 7292 KDF (`pkcs12::kdf`), PBES2 (pkcs5), HMAC and the block ciphers do the work: no cipher,
//! hash or KDF is written here.

use ::pkcs12::kdf::{Pkcs12KeyType, derive_key};
use ::pkcs12::pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams};
use ::pkcs12::{CertBag, MacData, Pfx, SafeBag};
use cbc02::cipher::{BlockModeDecrypt, InnerIvInit, KeyIvInit, block_padding::Pkcs7};
use cms::content_info::ContentInfo;
use cms::encrypted_data::EncryptedData;
use der08::Any;
use der08::asn1::{ContextSpecific, ObjectIdentifier, OctetString};
use der08::{Decode, Encode};
use hmac013::{KeyInit, Mac};
use std::sync::atomic::{AtomicBool, Ordering};
use zeroize::Zeroizing;

type AlgorithmIdentifier = cms::cert::x509::spki::AlgorithmIdentifierOwned;

/// Most bags (and content infos) one file may hold. A key with its chain is 2 to 10; a Java
/// truststore exported as PKCS#12 is ~150 certificates. Checked before any bag is decrypted.
pub const MAX_BAGS: usize = 512;

/// Total key-derivation work one file may ask for, in hash-block iterations (PBKDF2: iterations ×
/// output blocks; RFC 7292 KDF: iterations × output blocks; the MAC: one derivation per password
/// tried). A default `openssl pkcs12` file needs ~8 000; one key at the per-derivation limit of
/// 1 000 000 PBKDF2-SHA1 iterations for AES-256 needs 2 000 000. This is a few seconds of work at
/// most, and it is checked before each derivation starts (and for the whole file, as far as its
/// unencrypted structure shows, before the first one).
pub const MAX_TOTAL_WORK: u64 = 8_000_000;

/// Most iterations of one derivation (the same bound as for an encrypted PKCS#8 key).
pub const MAX_ITERATIONS: u64 = 1_000_000;

/// Most memory (128·N·r bytes) a scrypt KDF may ask for.
const MAX_SCRYPT_MEMORY_BYTES: u64 = 1 << 30;
/// Most scrypt lanes.
const MAX_SCRYPT_PARALLELISM: u16 = 16;

const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const OID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");

const OID_KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const OID_SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const OID_CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const OID_X509_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");

const OID_PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const OID_PBE_SHA_RC4_128: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.1");
const OID_PBE_SHA_RC4_40: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.2");
const OID_PBE_SHA_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const OID_PBE_SHA_2DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.4");
const OID_PBE_SHA_RC2_128: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.5");
const OID_PBE_SHA_RC2_40: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");

const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const OID_SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// What a PKCS#12 file held, as DER.
#[derive(Default)]
pub(super) struct Contents {
    /// X.509 certificates, in file order.
    pub certificates: Vec<Vec<u8>>,
    /// PKCS#8 `PrivateKeyInfo`s, zeroized when dropped.
    pub keys: Vec<Zeroizing<Vec<u8>>>,
}

/// Why a PKCS#12 file could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum P12Error {
    /// Not a PKCS#12 structure at all (the caller tries nothing else and says so).
    NotPkcs12,
    /// A PKCS#12 file whose inner structure is broken.
    Malformed(String),
    /// Encrypted, the empty password does not open it, and none was given.
    NeedsPassphrase,
    /// The MAC, or the decryption, proves the password wrong.
    WrongPassphrase,
    /// An algorithm or mode certdesk does not open (named).
    Unsupported(String),
    /// The file asks for more key-derivation work than [`MAX_TOTAL_WORK`] or one derivation's limit.
    TooCostly(String),
    /// More than [`MAX_BAGS`] bags.
    TooManyBags(usize),
    /// The caller's cancellation flag was raised.
    Cancelled,
}

/// One way of turning the password into bytes. PKCS#12's own KDF (the MAC, the RFC 7292 PBE
/// schemes) takes a BMPString with a two-zero-byte terminator; PBES2 takes the UTF-8 bytes.
#[derive(Clone)]
struct Password {
    /// Input of the RFC 7292 KDF.
    bmp: Zeroizing<Vec<u8>>,
    /// Input of PBKDF2 / scrypt.
    utf8: Zeroizing<Vec<u8>>,
}

impl Password {
    /// RFC 7292 Appendix B.1: UTF-16 big-endian plus a 2-byte zero terminator (what OpenSSL 1.1+
    /// does; characters beyond the BMP become surrogate pairs, as OpenSSL writes them).
    fn utf16(text: &str) -> Password {
        let mut bmp = Zeroizing::new(Vec::with_capacity(text.len() * 2 + 2));
        for unit in text.encode_utf16() {
            bmp.extend_from_slice(&unit.to_be_bytes());
        }
        bmp.extend_from_slice(&[0, 0]);
        Password {
            bmp,
            utf8: Zeroizing::new(text.as_bytes().to_vec()),
        }
    }

    /// OpenSSL before 1.1.0 widened each UTF-8 byte to 16 bits; OpenSSL 3 still tries it when
    /// the MAC does not verify, so files made that way open there too.
    fn widened_bytes(text: &str) -> Password {
        let mut bmp = Zeroizing::new(Vec::with_capacity(text.len() * 2 + 2));
        for byte in text.bytes() {
            bmp.extend_from_slice(&[0, byte]);
        }
        bmp.extend_from_slice(&[0, 0]);
        Password {
            bmp,
            utf8: Zeroizing::new(text.as_bytes().to_vec()),
        }
    }

    /// A NULL password: zero bytes into the KDF (Windows and some Java exports).
    fn null() -> Password {
        Password {
            bmp: Zeroizing::new(Vec::new()),
            utf8: Zeroizing::new(Vec::new()),
        }
    }

    /// The passwords to try, in order: the given one (both spellings when it is not ASCII), then
    /// the two encodings of "empty".
    fn candidates(given: Option<&str>) -> Vec<Password> {
        let mut out = Vec::new();
        if let Some(text) = given.filter(|t| !t.is_empty()) {
            out.push(Password::utf16(text));
            if !text.is_ascii() {
                out.push(Password::widened_bytes(text));
            }
        }
        out.push(Password::utf16(""));
        out.push(Password::null());
        out
    }
}

/// The work budget and the cancellation flag, consulted before every derivation.
struct Meter<'a> {
    spent: u64,
    cancel: &'a AtomicBool,
}

impl Meter<'_> {
    /// Refuses `cost` more work when it would exceed the budget, or when cancelled.
    fn charge(&mut self, cost: u64) -> Result<(), P12Error> {
        self.check_cancelled()?;
        let total = self.spent.saturating_add(cost);
        if total > MAX_TOTAL_WORK {
            return Err(P12Error::TooCostly(format!(
                "more than {MAX_TOTAL_WORK} key-derivation iterations in total (certdesk's limit for one file)"
            )));
        }
        self.spent = total;
        Ok(())
    }

    fn check_cancelled(&self) -> Result<(), P12Error> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(P12Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// One encrypted thing in the file: an EncryptedData content (holding bags) or a shrouded key.
struct Sealed {
    algorithm: AlgorithmIdentifier,
    ciphertext: Vec<u8>,
    kind: SealedKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SealedKind {
    /// Decrypts to a SafeContents.
    SafeContents,
    /// Decrypts to a PKCS#8 PrivateKeyInfo.
    Key,
}

/// Opens a PKCS#12 file with `passphrase` (or, without one, the empty password).
pub(super) fn open(
    bytes: &[u8],
    passphrase: Option<&str>,
    cancel: &AtomicBool,
) -> Result<Contents, P12Error> {
    let pfx = Pfx::from_der(bytes).map_err(|_| P12Error::NotPkcs12)?;
    let mut meter = Meter { spent: 0, cancel };
    meter.check_cancelled()?;

    let auth_safe_bytes = data_content(&pfx.auth_safe)?;
    let infos = Vec::<ContentInfo>::from_der(&auth_safe_bytes)
        .map_err(|e| P12Error::Malformed(format!("the authenticated safe: {e}")))?;

    // Everything readable without a password: plain bags, and what each encrypted part will cost.
    let mut bag_count = infos.len();
    check_bag_count(bag_count)?;
    let mut plain_bags: Vec<SafeBag> = Vec::new();
    let mut sealed: Vec<Sealed> = Vec::new();
    for info in &infos {
        if info.content_type == OID_DATA {
            let contents = data_content(info)?;
            let bags = parse_safe_contents(&contents)?;
            bag_count = bag_count.saturating_add(bags.len());
            check_bag_count(bag_count)?;
            plain_bags.extend(bags);
        } else if info.content_type == OID_ENCRYPTED_DATA {
            let der = info
                .content
                .to_der()
                .map_err(|e| P12Error::Malformed(format!("an encrypted part: {e}")))?;
            let encrypted = EncryptedData::from_der(&der)
                .map_err(|e| P12Error::Malformed(format!("an encrypted part: {e}")))?;
            let ciphertext = encrypted
                .enc_content_info
                .encrypted_content
                .map(|c| c.into_bytes().into_vec())
                .unwrap_or_default();
            sealed.push(Sealed {
                algorithm: encrypted.enc_content_info.content_enc_alg,
                ciphertext,
                kind: SealedKind::SafeContents,
            });
        } else if info.content_type == OID_ENVELOPED_DATA {
            return Err(P12Error::Unsupported(
                "public-key privacy mode (an enveloped part, encrypted to a certificate)".into(),
            ));
        } else {
            return Err(P12Error::Unsupported(format!(
                "a part of content type {}",
                info.content_type
            )));
        }
    }
    let mut contents = Contents::default();
    for bag in plain_bags {
        take_bag(bag, &mut contents, &mut sealed)?;
    }

    // The plan: every encrypted part's cost, known before the first derivation.
    let candidates = Password::candidates(passphrase);
    let mut planned: u64 = 0;
    for part in &sealed {
        planned = planned.saturating_add(decryption_cost(&part.algorithm)?);
    }
    let mac_cost = match &pfx.mac_data {
        Some(mac) => mac_cost(mac)?,
        None => 0,
    };
    // With a MAC the password is settled by the MAC (each candidate costs one MAC derivation);
    // without one, by the first encrypted part (each candidate costs one decryption of it).
    let settle_cost = match (&pfx.mac_data, sealed.first()) {
        (Some(_), _) => mac_cost.saturating_mul(candidates.len() as u64),
        (None, Some(first)) => decryption_cost(&first.algorithm)?
            .saturating_mul(candidates.len().saturating_sub(1) as u64),
        (None, None) => 0,
    };
    if planned.saturating_add(settle_cost) > MAX_TOTAL_WORK {
        return Err(P12Error::TooCostly(format!(
            "{} key-derivation iterations across {} encrypted parts (certdesk allows {MAX_TOTAL_WORK} for one file)",
            planned.saturating_add(settle_cost),
            sealed.len()
        )));
    }

    let password = match &pfx.mac_data {
        Some(mac) => Some(verify_mac(
            mac,
            &auth_safe_bytes,
            &candidates,
            passphrase,
            &mut meter,
        )?),
        None => None,
    };

    // Decrypt. Parts can reveal more bags (and more encrypted keys): the queue grows, the bag
    // limit and the budget are checked before each.
    let mut password = password;
    while let Some(part) = pop_front(&mut sealed) {
        meter.check_cancelled()?;
        let plain = match &password {
            Some(p) => {
                meter.charge(decryption_cost(&part.algorithm)?)?;
                match decrypt_checked(&part, p)? {
                    Some(plain) => plain,
                    // The MAC verified with this password, yet the part does not decrypt: a file
                    // whose parts use another password (`-twopass`) or a damaged one.
                    None if pfx.mac_data.is_some() => {
                        return Err(P12Error::Malformed(
                            "the MAC verifies but an encrypted part does not decrypt with the same password (a separate encryption password is not supported)".into(),
                        ));
                    }
                    None => return Err(wrong_or_needed(passphrase)),
                }
            }
            None => {
                // No MAC: the first part that decrypts to a well-formed structure settles it.
                let mut found = None;
                for candidate in &candidates {
                    meter.charge(decryption_cost(&part.algorithm)?)?;
                    if let Some(plain) = decrypt_checked(&part, candidate)? {
                        found = Some((candidate.clone(), plain));
                        break;
                    }
                }
                match found {
                    Some((candidate, plain)) => {
                        password = Some(candidate);
                        plain
                    }
                    None => return Err(wrong_or_needed(passphrase)),
                }
            }
        };
        match part.kind {
            SealedKind::Key => contents.keys.push(plain),
            SealedKind::SafeContents => {
                let bags = parse_safe_contents(&plain)?;
                bag_count = bag_count.saturating_add(bags.len());
                check_bag_count(bag_count)?;
                for bag in bags {
                    meter.check_cancelled()?;
                    take_bag(bag, &mut contents, &mut sealed)?;
                }
            }
        }
    }
    Ok(contents)
}

fn pop_front<T>(queue: &mut Vec<T>) -> Option<T> {
    if queue.is_empty() {
        None
    } else {
        Some(queue.remove(0))
    }
}

fn wrong_or_needed(passphrase: Option<&str>) -> P12Error {
    if passphrase.is_some_and(|p| !p.is_empty()) {
        P12Error::WrongPassphrase
    } else {
        P12Error::NeedsPassphrase
    }
}

fn check_bag_count(count: usize) -> Result<(), P12Error> {
    if count > MAX_BAGS {
        Err(P12Error::TooManyBags(count))
    } else {
        Ok(())
    }
}

/// The octets of an id-data ContentInfo.
fn data_content(info: &ContentInfo) -> Result<Zeroizing<Vec<u8>>, P12Error> {
    if info.content_type == OID_SIGNED_DATA {
        return Err(P12Error::Unsupported(
            "public-key integrity mode (a signed PKCS#12)".into(),
        ));
    }
    if info.content_type != OID_DATA {
        return Err(P12Error::Unsupported(format!(
            "content type {}",
            info.content_type
        )));
    }
    let octets: OctetString = info
        .content
        .decode_as()
        .map_err(|e| P12Error::Malformed(format!("a data part: {e}")))?;
    Ok(Zeroizing::new(octets.into_bytes().into_vec()))
}

fn parse_safe_contents(der: &[u8]) -> Result<Vec<SafeBag>, P12Error> {
    Vec::<SafeBag>::from_der(der).map_err(|e| P12Error::Malformed(format!("a bag list: {e}")))
}

/// The value of a bag: `SafeBag` keeps the `[0] EXPLICIT` wrapper around it.
fn bag_value(bag: &SafeBag, what: &str) -> Result<Vec<u8>, P12Error> {
    let wrapped = ContextSpecific::<Any>::from_der(&bag.bag_value)
        .map_err(|e| P12Error::Malformed(format!("{what}: {e}")))?;
    wrapped
        .value
        .to_der()
        .map_err(|e| P12Error::Malformed(format!("{what}: {e}")))
}

/// Files a bag: certificates and plain keys into `contents`, shrouded keys into the queue.
/// CRL, secret and nested bags are not certificates or keys: skipped.
fn take_bag(
    bag: SafeBag,
    contents: &mut Contents,
    sealed: &mut Vec<Sealed>,
) -> Result<(), P12Error> {
    if bag.bag_id == OID_CERT_BAG {
        let value = bag_value(&bag, "a certificate bag")?;
        let cert = CertBag::from_der(&value)
            .map_err(|e| P12Error::Malformed(format!("a certificate bag: {e}")))?;
        if cert.cert_id == OID_X509_CERTIFICATE {
            contents
                .certificates
                .push(cert.cert_value.into_bytes().into_vec());
        }
    } else if bag.bag_id == OID_KEY_BAG {
        contents
            .keys
            .push(Zeroizing::new(bag_value(&bag, "a key bag")?));
    } else if bag.bag_id == OID_SHROUDED_KEY_BAG {
        let value = bag_value(&bag, "an encrypted key bag")?;
        let info = EncryptedPrivateKeyInfo::from_der(&value)
            .map_err(|e| P12Error::Malformed(format!("an encrypted key bag: {e}")))?;
        sealed.push(Sealed {
            algorithm: info.encryption_algorithm,
            ciphertext: info.encrypted_data.into_bytes().into_vec(),
            kind: SealedKind::Key,
        });
    }
    Ok(())
}

/// Decrypts a part and checks the result is the structure it must be: `None` when the password
/// does not open it (bad padding, or garbage that happens to pad correctly).
fn decrypt_checked(
    part: &Sealed,
    password: &Password,
) -> Result<Option<Zeroizing<Vec<u8>>>, P12Error> {
    let Some(plain) = decrypt(&part.algorithm, &part.ciphertext, password)? else {
        return Ok(None);
    };
    let well_formed = match part.kind {
        SealedKind::SafeContents => Vec::<SafeBag>::from_der(&plain).is_ok(),
        SealedKind::Key => pkcs8::PrivateKeyInfo::try_from(plain.as_slice()).is_ok(),
    };
    Ok(well_formed.then_some(plain))
}

/// The cost of a MAC derivation, refusing one above the per-derivation limit.
fn mac_cost(mac: &MacData) -> Result<u64, P12Error> {
    let iterations = positive_iterations(i64::from(mac.iterations), "MAC")?;
    digest_sizes(&mac.mac.algorithm.oid)
        .ok_or_else(|| {
            P12Error::Unsupported(format!(
                "a MAC with digest {}",
                digest_name(&mac.mac.algorithm.oid)
            ))
        })
        .map(|_| iterations)
}

fn positive_iterations(value: i64, what: &str) -> Result<u64, P12Error> {
    let Ok(count) = u64::try_from(value) else {
        return Err(P12Error::Malformed(format!(
            "a negative {what} iteration count"
        )));
    };
    if count > MAX_ITERATIONS {
        return Err(P12Error::TooCostly(format!(
            "{count} {what} iterations (certdesk allows {MAX_ITERATIONS})"
        )));
    }
    Ok(count.max(1))
}

/// (output, block) sizes of a digest the MAC may use.
fn digest_sizes(oid: &ObjectIdentifier) -> Option<(usize, usize)> {
    match *oid {
        OID_SHA1 => Some((20, 64)),
        OID_SHA224 => Some((28, 64)),
        OID_SHA256 => Some((32, 64)),
        OID_SHA384 => Some((48, 128)),
        OID_SHA512 => Some((64, 128)),
        _ => None,
    }
}

fn digest_name(oid: &ObjectIdentifier) -> String {
    match *oid {
        OID_SHA1 => "SHA-1".into(),
        OID_SHA224 => "SHA-224".into(),
        OID_SHA256 => "SHA-256".into(),
        OID_SHA384 => "SHA-384".into(),
        OID_SHA512 => "SHA-512".into(),
        other => format!("OID {other}"),
    }
}

/// Verifies the MAC with each candidate; the one that verifies is the file's password.
fn verify_mac(
    mac: &MacData,
    data: &[u8],
    candidates: &[Password],
    passphrase: Option<&str>,
    meter: &mut Meter<'_>,
) -> Result<Password, P12Error> {
    let cost = mac_cost(mac)?;
    let salt = mac.mac_salt.as_bytes();
    let expected = mac.mac.digest.as_bytes();
    let rounds = i32::try_from(cost).unwrap_or(i32::MAX);
    for candidate in candidates {
        meter.charge(cost)?;
        macro_rules! verify_with {
            ($digest:ty) => {{
                let key = Zeroizing::new(derive_key::<$digest>(
                    &candidate.bmp,
                    salt,
                    Pkcs12KeyType::Mac,
                    rounds,
                    <$digest as hmac013::digest::OutputSizeUser>::output_size(),
                ));
                let mut hmac = hmac013::Hmac::<$digest>::new_from_slice(&key)
                    .map_err(|_| P12Error::Malformed("the MAC key".into()))?;
                hmac.update(data);
                hmac.verify_slice(expected).is_ok()
            }};
        }
        let verified = match mac.mac.algorithm.oid {
            OID_SHA1 => verify_with!(sha1_011::Sha1),
            OID_SHA224 => verify_with!(sha2_011::Sha224),
            OID_SHA256 => verify_with!(sha2_011::Sha256),
            OID_SHA384 => verify_with!(sha2_011::Sha384),
            OID_SHA512 => verify_with!(sha2_011::Sha512),
            _ => false,
        };
        if verified {
            return Ok(candidate.clone());
        }
    }
    Err(wrong_or_needed(passphrase))
}

/// The RFC 7292 PBE schemes: (key length, effective RC2 bits or 0 for 3DES, name).
fn pkcs12_pbe(oid: &ObjectIdentifier) -> Option<(usize, usize, &'static str)> {
    match *oid {
        OID_PBE_SHA_3DES => Some((24, 0, "pbeWithSHAAnd3-KeyTripleDES-CBC")),
        OID_PBE_SHA_2DES => Some((16, 0, "pbeWithSHAAnd2-KeyTripleDES-CBC")),
        OID_PBE_SHA_RC2_128 => Some((16, 128, "pbeWithSHAAnd128BitRC2-CBC")),
        OID_PBE_SHA_RC2_40 => Some((5, 40, "pbeWithSHAAnd40BitRC2-CBC")),
        _ => None,
    }
}

fn algorithm_name(oid: &ObjectIdentifier) -> String {
    match *oid {
        OID_PBE_SHA_RC4_128 => "pbeWithSHAAnd128BitRC4".into(),
        OID_PBE_SHA_RC4_40 => "pbeWithSHAAnd40BitRC4".into(),
        other => match other.to_string().as_str() {
            "1.2.840.113549.1.5.3" => "pbeWithMD5AndDES-CBC (PKCS#5 v1.5)".into(),
            "1.2.840.113549.1.5.10" => "pbeWithSHA1AndDES-CBC (PKCS#5 v1.5)".into(),
            "1.2.840.113549.1.5.6" => "pbeWithMD5AndRC2-CBC (PKCS#5 v1.5)".into(),
            "1.2.840.113549.1.5.11" => "pbeWithSHA1AndRC2-CBC (PKCS#5 v1.5)".into(),
            text => format!("OID {text}"),
        },
    }
}

/// What decrypting a part costs, in hash-block iterations; refuses what cannot be opened or
/// exceeds one derivation's limit.
fn decryption_cost(algorithm: &AlgorithmIdentifier) -> Result<u64, P12Error> {
    if let Some((key_len, _, _)) = pkcs12_pbe(&algorithm.oid) {
        let params = pkcs12_params(algorithm)?;
        let iterations = positive_iterations(i64::from(params.iterations), "key-derivation")?;
        // SHA-1 gives 20 bytes per block: the key (1 or 2 blocks) and the 8-byte IV (1 block).
        let blocks = key_len.div_ceil(20) as u64 + 1;
        return Ok(iterations.saturating_mul(blocks));
    }
    if algorithm.oid == OID_PBES2 {
        let params = pbes2_params(algorithm)?;
        return pbes2_cost(&params);
    }
    Err(P12Error::Unsupported(format!(
        "encryption {}",
        algorithm_name(&algorithm.oid)
    )))
}

fn pkcs12_params(algorithm: &AlgorithmIdentifier) -> Result<Pkcs12PbeParams, P12Error> {
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| P12Error::Malformed("PBE parameters are missing".into()))?;
    params
        .decode_as::<Pkcs12PbeParams>()
        .map_err(|e| P12Error::Malformed(format!("PBE parameters: {e}")))
}

fn pbes2_params(algorithm: &AlgorithmIdentifier) -> Result<pkcs5_08::pbes2::Parameters, P12Error> {
    let der = algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| P12Error::Malformed("PBES2 parameters are missing".into()))?
        .to_der()
        .map_err(|e| P12Error::Malformed(format!("PBES2 parameters: {e}")))?;
    pkcs5_08::pbes2::Parameters::from_der(&der).map_err(|e| {
        P12Error::Unsupported(format!(
            "PBES2 with these parameters ({e}; certdesk opens PBKDF2 or scrypt with AES-CBC, AES-GCM or 3DES)"
        ))
    })
}

fn pbes2_cost(params: &pkcs5_08::pbes2::Parameters) -> Result<u64, P12Error> {
    use pkcs5_08::pbes2::{Kdf, Pbkdf2Prf};
    let key_len = params.encryption.key_size() as u64;
    match &params.kdf {
        Kdf::Pbkdf2(pbkdf2) => {
            let iterations = positive_iterations(i64::from(pbkdf2.iteration_count), "PBKDF2")?;
            let out_len: u64 = match pbkdf2.prf {
                Pbkdf2Prf::HmacWithSha1 => 20,
                Pbkdf2Prf::HmacWithSha224 => 28,
                Pbkdf2Prf::HmacWithSha256 => 32,
                Pbkdf2Prf::HmacWithSha384 => 48,
                _ => 64,
            };
            Ok(iterations.saturating_mul(key_len.div_ceil(out_len).max(1)))
        }
        Kdf::Scrypt(scrypt) => {
            let memory = 128u64
                .checked_mul(scrypt.cost_parameter)
                .and_then(|m| m.checked_mul(u64::from(scrypt.block_size)));
            let within = memory.is_some_and(|m| m <= MAX_SCRYPT_MEMORY_BYTES)
                && scrypt.parallelization <= MAX_SCRYPT_PARALLELISM;
            if !within {
                return Err(P12Error::TooCostly(format!(
                    "scrypt with N={} r={} p={}",
                    scrypt.cost_parameter, scrypt.block_size, scrypt.parallelization
                )));
            }
            // Each of N·p·2 steps mixes 2r 64-byte blocks: count it like as many hash blocks.
            Ok(scrypt
                .cost_parameter
                .saturating_mul(u64::from(scrypt.parallelization))
                .saturating_mul(u64::from(scrypt.block_size))
                .saturating_mul(4))
        }
        other => Err(P12Error::Unsupported(format!(
            "PBES2 with KDF {}",
            other.oid()
        ))),
    }
}

/// Decrypts with `password`: `None` when the padding proves it wrong.
fn decrypt(
    algorithm: &AlgorithmIdentifier,
    ciphertext: &[u8],
    password: &Password,
) -> Result<Option<Zeroizing<Vec<u8>>>, P12Error> {
    if let Some((key_len, rc2_bits, name)) = pkcs12_pbe(&algorithm.oid) {
        let params = pkcs12_params(algorithm)?;
        let rounds = params.iterations.max(1);
        let salt = params.salt.as_bytes();
        let key = Zeroizing::new(derive_key::<sha1_011::Sha1>(
            &password.bmp,
            salt,
            Pkcs12KeyType::EncryptionKey,
            rounds,
            key_len,
        ));
        let iv = Zeroizing::new(derive_key::<sha1_011::Sha1>(
            &password.bmp,
            salt,
            Pkcs12KeyType::Iv,
            rounds,
            8,
        ));
        let bad_key = |_| P12Error::Malformed(format!("{name}: key or IV of the wrong length"));
        let plain = if rc2_bits > 0 {
            let cipher = rc2::Rc2::new_with_eff_key_len(&key, rc2_bits);
            cbc02::Decryptor::<rc2::Rc2>::inner_iv_slice_init(cipher, &iv)
                .map_err(bad_key)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext)
        } else if key_len == 24 {
            cbc02::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(bad_key)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext)
        } else {
            cbc02::Decryptor::<des::TdesEde2>::new_from_slices(&key, &iv)
                .map_err(bad_key)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext)
        };
        return Ok(plain.ok().map(Zeroizing::new));
    }
    if algorithm.oid == OID_PBES2 {
        let params = pbes2_params(algorithm)?;
        return match params.decrypt(password.utf8.as_slice(), ciphertext) {
            Ok(plain) => Ok(Some(Zeroizing::new(plain))),
            Err(pkcs5_08::Error::DecryptFailed) => Ok(None),
            Err(e) => Err(P12Error::Unsupported(format!("PBES2: {e}"))),
        };
    }
    Err(P12Error::Unsupported(format!(
        "encryption {}",
        algorithm_name(&algorithm.oid)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_put_the_given_password_first_then_both_empties() {
        let c = Password::candidates(Some("pw"));
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].bmp.as_slice(), &[0, b'p', 0, b'w', 0, 0]);
        assert_eq!(c[1].bmp.as_slice(), &[0, 0]);
        assert!(c[2].bmp.is_empty());
        let none = Password::candidates(None);
        assert_eq!(none.len(), 2);
        // Non-ASCII: UTF-16 first, then OpenSSL 1.0's byte widening.
        let c = Password::candidates(Some("é"));
        assert_eq!(c[0].bmp.as_slice(), &[0x00, 0xe9, 0, 0]);
        assert_eq!(c[1].bmp.as_slice(), &[0, 0xc3, 0, 0xa9, 0, 0]);
    }

    #[test]
    fn the_meter_refuses_past_the_budget_and_when_cancelled() {
        let flag = AtomicBool::new(false);
        let mut meter = Meter {
            spent: 0,
            cancel: &flag,
        };
        assert!(meter.charge(MAX_TOTAL_WORK).is_ok());
        assert!(matches!(meter.charge(1), Err(P12Error::TooCostly(_))));
        let mut fresh = Meter {
            spent: 0,
            cancel: &flag,
        };
        flag.store(true, Ordering::Relaxed);
        assert_eq!(fresh.charge(1), Err(P12Error::Cancelled));
    }

    #[test]
    fn garbage_is_not_pkcs12() {
        let flag = AtomicBool::new(false);
        assert!(matches!(
            open(b"\x30\x03\x02\x01\x03", None, &flag),
            Err(P12Error::NotPkcs12)
        ));
    }
}

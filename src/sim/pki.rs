//! Real X.509 for the simulator: deterministic ECDSA P-256 keys derived from the seed, RFC 6979
//! signatures (so a certificate is a pure function of seed and id), certificate authorities,
//! issuing, CSRs, and parsing of what clients upload (certificates and private keys). RSA-2048 and
//! SM2 keys with their CSRs for KMS CreateCertificate, generated only when a client asks for one
//! (RSA key generation takes tens to hundreds of milliseconds; start-up never pays for it).
//!
//! Knows nothing about HTTP or any cloud API; callers describe a certificate with [`CertSpec`].

use md5::Md5;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, RemoteKeyPair, SanType, SerialNumber,
};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use time::OffsetDateTime;

/// Errors of certificate generation (only possible with invalid specs; reported, never panicked).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct PkiError(String);

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        PkiError(e.to_string())
    }
}

/// An ECDSA P-256 key.
#[derive(Clone)]
pub(crate) struct EcKey {
    signing: SigningKey,
    public: Vec<u8>,
}

impl EcKey {
    /// The key for `label` under `seed`: SHA-256(seed, label, counter) until it is a valid scalar.
    pub(crate) fn derive(seed: u64, label: &str) -> EcKey {
        let mut counter: u32 = 0;
        loop {
            let mut h = Sha256::new();
            h.update(b"certdesk-sim-key");
            h.update(seed.to_be_bytes());
            h.update(label.as_bytes());
            h.update(counter.to_be_bytes());
            let bytes = h.finalize();
            if let Ok(signing) = SigningKey::from_slice(&bytes) {
                return EcKey::from_signing(signing);
            }
            // Probability ~2^-128 per try; the loop always ends.
            counter = counter.wrapping_add(1);
        }
    }

    /// A fresh random key (KMS CreateCertificate).
    pub(crate) fn random() -> EcKey {
        loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(signing) = SigningKey::from_slice(&bytes) {
                return EcKey::from_signing(signing);
            }
        }
    }

    fn from_signing(signing: SigningKey) -> EcKey {
        let public = signing
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        EcKey { signing, public }
    }

    /// Uncompressed SEC1 public point (65 bytes), as X.509 carries it.
    pub(crate) fn public_raw(&self) -> &[u8] {
        &self.public
    }

    /// The key as an rcgen key pair (signing goes through [`RemoteKeyPair`], deterministically).
    pub(crate) fn key_pair(&self) -> Result<KeyPair, PkiError> {
        Ok(KeyPair::from_remote(Box::new(self.clone()))?)
    }

    /// PKCS#8 PEM of the private key (what the SSL repository returns as `Key`).
    pub(crate) fn private_pem(&self) -> Result<String, PkiError> {
        use p256::pkcs8::EncodePrivateKey;
        self.signing
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| PkiError(e.to_string()))
    }
}

impl RemoteKeyPair for EcKey {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature: DerSignature = self.signing.sign(msg);
        Ok(signature.as_bytes().to_vec())
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// An RSA-2048 key (KMS CreateCertificate with KeySpec RSA_2048). Signs PKCS#1 v1.5 / SHA-256.
#[derive(Clone)]
pub(crate) struct RsaKey {
    private: Arc<rsa::RsaPrivateKey>,
    /// PKCS#1 RSAPublicKey DER: the subjectPublicKey bits of its SPKI.
    public: Vec<u8>,
}

impl RsaKey {
    /// A fresh 2048-bit key.
    pub(crate) fn random() -> Result<RsaKey, PkiError> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| PkiError(e.to_string()))?;
        let public = private
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| PkiError(e.to_string()))?
            .as_bytes()
            .to_vec();
        Ok(RsaKey {
            private: Arc::new(private),
            public,
        })
    }

    /// The RSAPublicKey DER, as X.509 carries it.
    pub(crate) fn public_raw(&self) -> &[u8] {
        &self.public
    }

    /// The key as an rcgen key pair.
    pub(crate) fn key_pair(&self) -> Result<KeyPair, PkiError> {
        Ok(KeyPair::from_remote(Box::new(self.clone()))?)
    }
}

impl RemoteKeyPair for RsaKey {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        use rsa::signature::SignatureEncoding;
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((*self.private).clone());
        Ok(signer.sign(msg).to_vec())
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// The distinguishing identifier of SM2 signatures when none is agreed (GM/T 0009-2012), what
/// OpenSSL and the Chinese CAs use.
const SM2_DIST_ID: &str = "1234567812345678";

/// An SM2 key (KMS CreateCertificate with KeySpec EC_SM2). rcgen has no SM2 signature, so its CSR
/// is assembled from x509-cert's structures and signed with the sm2 crate (SM2 with SM3).
#[derive(Clone)]
pub(crate) struct Sm2Key {
    secret: sm2::SecretKey,
    /// Uncompressed SEC1 point, as X.509 carries it.
    public: Vec<u8>,
}

impl Sm2Key {
    /// A fresh key.
    pub(crate) fn random() -> Sm2Key {
        use sm2::elliptic_curve::sec1::ToEncodedPoint;
        let secret = sm2::SecretKey::random(&mut rand::rngs::OsRng);
        let public = secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        Sm2Key { secret, public }
    }

    /// Uncompressed SEC1 public point (65 bytes).
    pub(crate) fn public_raw(&self) -> &[u8] {
        &self.public
    }

    /// SubjectPublicKeyInfo PEM.
    pub(crate) fn public_key_pem(&self) -> Result<String, PkiError> {
        use sm2::pkcs8::EncodePublicKey;
        self.secret
            .public_key()
            .to_public_key_pem(sm2::pkcs8::LineEnding::LF)
            .map_err(|e| PkiError(e.to_string()))
    }

    /// A PKCS#10 CSR (PEM) for `spec`'s subject, signed SM2-with-SM3.
    pub(crate) fn csr_pem(&self, spec: &CertSpec) -> Result<String, PkiError> {
        use der08::{Decode, Encode};
        use sm2::pkcs8::EncodePublicKey;
        use std::str::FromStr;
        use x509_cert::request::{CertReq, CertReqInfo, Version};
        let fail = |e: &dyn std::fmt::Display| PkiError(e.to_string());
        let spki_der = self
            .secret
            .public_key()
            .to_public_key_der()
            .map_err(|e| fail(&e))?;
        // RFC 4514 strings list the most specific attribute first.
        let rfc4514: Vec<String> = spec
            .subject
            .iter()
            .rev()
            .map(|(ty, value)| format!("{}={}", dn_short(ty), escape_rfc4514(value)))
            .collect();
        let info = CertReqInfo {
            version: Version::V1,
            subject: x509_cert::name::Name::from_str(&rfc4514.join(",")).map_err(|e| fail(&e))?,
            public_key: x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes())
                .map_err(|e| fail(&e))?,
            attributes: Default::default(),
        };
        let tbs = info.to_der().map_err(|e| fail(&e))?;
        let signer = sm2::dsa::SigningKey::new(SM2_DIST_ID, &self.secret).map_err(|e| fail(&e))?;
        let signature: sm2::dsa::Signature = p256::ecdsa::signature::Signer::sign(&signer, &tbs);
        // ECDSA-style DER: SEQUENCE { INTEGER r, INTEGER s }.
        let (r, s) = (signature.r_bytes(), signature.s_bytes());
        let mut integers = der08::asn1::UintRef::new(&r)
            .and_then(|r| r.to_der())
            .map_err(|e| fail(&e))?;
        integers.extend(
            der08::asn1::UintRef::new(&s)
                .and_then(|s| s.to_der())
                .map_err(|e| fail(&e))?,
        );
        let signature_der = der08::asn1::Any::new(der08::Tag::Sequence, integers)
            .and_then(|any| any.to_der())
            .map_err(|e| fail(&e))?;
        let request = CertReq {
            info,
            algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                // sm2sign-with-sm3
                oid: der08::asn1::ObjectIdentifier::new_unwrap("1.2.156.10197.1.501"),
                parameters: None,
            },
            signature: der08::asn1::BitString::from_bytes(&signature_der).map_err(|e| fail(&e))?,
        };
        let der = request.to_der().map_err(|e| fail(&e))?;
        Ok(::pem::encode_config(
            &::pem::Pem::new("CERTIFICATE REQUEST", der),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        ))
    }
}

/// An RFC 4514 attribute value with its special characters escaped.
fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i + 1 == value.chars().count() && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a certificate says.
#[derive(Debug, Clone)]
pub(crate) struct CertSpec {
    /// Subject attributes in order (C, ST, L, O, OU, CN).
    pub subject: Vec<(DnType, String)>,
    /// Serial number bytes (positive; leading bit cleared by the caller).
    pub serial: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// DNS subject alternative names.
    pub dns_names: Vec<String>,
    pub is_ca: bool,
    pub client_auth: bool,
    pub server_auth: bool,
}

impl CertSpec {
    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for (ty, value) in &self.subject {
            dn.push(ty.clone(), value.clone());
        }
        params.distinguished_name = dn;
        params.serial_number = Some(SerialNumber::from_slice(&self.serial));
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        params.subject_alt_names = self
            .dns_names
            .iter()
            .filter_map(|n| n.clone().try_into().ok().map(SanType::DnsName))
            .collect();
        if self.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
        } else {
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            if self.client_auth {
                params
                    .extended_key_usages
                    .push(ExtendedKeyUsagePurpose::ClientAuth);
            }
            if self.server_auth {
                params
                    .extended_key_usages
                    .push(ExtendedKeyUsagePurpose::ServerAuth);
            }
        }
        params.use_authority_key_identifier_extension = !self.is_ca;
        params
    }
}

/// `C=CN,ST=…,CN=…`.
pub(crate) fn dn_string(parts: &[(DnType, String)]) -> String {
    parts
        .iter()
        .map(|(ty, v)| format!("{}={v}", dn_short(ty)))
        .collect::<Vec<_>>()
        .join(",")
}

fn dn_short(ty: &DnType) -> &'static str {
    match ty {
        DnType::CountryName => "C",
        DnType::StateOrProvinceName => "ST",
        DnType::LocalityName => "L",
        DnType::OrganizationName => "O",
        DnType::OrganizationalUnitName => "OU",
        DnType::CommonName => "CN",
        _ => "X",
    }
}

/// A certificate authority that can issue.
pub(crate) struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
    /// The CA's own certificate.
    pub issued: Arc<CertInfo>,
}

impl Authority {
    /// A self-signed root.
    pub(crate) fn root(spec: &CertSpec, key: &EcKey) -> Result<Authority, PkiError> {
        let key_pair = key.key_pair()?;
        let cert = spec.params().self_signed(&key_pair)?;
        let issued = Arc::new(CertInfo::from_der(cert.der())?);
        Ok(Authority {
            cert,
            key: key_pair,
            issued,
        })
    }

    /// A subordinate CA signed by `self`.
    pub(crate) fn subordinate(&self, spec: &CertSpec, key: &EcKey) -> Result<Authority, PkiError> {
        let key_pair = key.key_pair()?;
        let cert = spec.params().signed_by(&key_pair, &self.cert, &self.key)?;
        let issued = Arc::new(CertInfo::from_der(cert.der())?);
        Ok(Authority {
            cert,
            key: key_pair,
            issued,
        })
    }

    /// Issues an end-entity certificate for `subject_key`.
    pub(crate) fn issue(&self, spec: &CertSpec, subject_key: &EcKey) -> Result<CertInfo, PkiError> {
        let key_pair = subject_key.key_pair()?;
        let cert = spec.params().signed_by(&key_pair, &self.cert, &self.key)?;
        CertInfo::from_der(cert.der())
    }
}

/// A CSR (PEM) for `spec`'s subject, signed by `key`.
pub(crate) fn csr_pem(spec: &CertSpec, key: &EcKey) -> Result<String, PkiError> {
    csr_pem_with(spec, &key.key_pair()?)
}

/// A CSR (PEM) for `spec`'s subject, signed by any key rcgen can sign with (EC P-256, RSA).
pub(crate) fn csr_pem_with(spec: &CertSpec, key_pair: &KeyPair) -> Result<String, PkiError> {
    // A CSR carries only the subject, names and key usages (no serial, validity issuer data).
    let mut params = spec.params();
    params.serial_number = None;
    params.is_ca = IsCa::NoCa;
    params.use_authority_key_identifier_extension = false;
    let csr = params.serialize_request(key_pair)?;
    Ok(csr.pem()?)
}

/// Everything the APIs report about one certificate, read back from its DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub pem: String,
    /// Upper-case hex SHA-256 of the DER.
    pub sha256: String,
    /// Upper-case hex SHA-1 of the DER (IoTDA accepts 40-hex fingerprints too).
    pub sha1: String,
    /// Upper-case hex MD5 of the DER (cas `Md5`).
    pub md5: String,
    /// Upper-case hex serial, no separators.
    pub serial: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub subject_dn: String,
    pub issuer_dn: String,
    pub common_name: String,
    pub organization: String,
    pub dns_names: Vec<String>,
    /// Raw subject public key bits (uncompressed point for EC, RSAPublicKey DER for RSA).
    pub public_key_raw: Vec<u8>,
    /// PEM of the SubjectPublicKeyInfo.
    pub public_key_pem: String,
    /// Hex subject key identifier (empty when absent).
    pub ski: String,
    /// `ECDSA`, `RSA`, `Ed25519` or the OID.
    pub key_algorithm: String,
    /// e.g. `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
}

impl CertInfo {
    /// Parses DER.
    pub(crate) fn from_der(der: &[u8]) -> Result<CertInfo, PkiError> {
        use x509_parser::prelude::*;
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| PkiError(format!("not X.509: {e}")))?;
        if !rest.is_empty() {
            return Err(PkiError("trailing bytes after the certificate".into()));
        }
        let pem = ::pem::encode_config(
            &::pem::Pem::new("CERTIFICATE", der.to_vec()),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        );
        let not_before =
            OffsetDateTime::from_unix_timestamp(cert.validity().not_before.timestamp())
                .map_err(|e| PkiError(e.to_string()))?;
        let not_after = OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp())
            .map_err(|e| PkiError(e.to_string()))?;
        let first = |it: &mut dyn Iterator<Item = &AttributeTypeAndValue>| {
            it.next()
                .and_then(|a| a.as_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let common_name = first(&mut cert.subject().iter_common_name());
        let organization = first(&mut cert.subject().iter_organization());
        let mut dns_names = Vec::new();
        let mut ski = String::new();
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        if let GeneralName::DNSName(n) = name {
                            dns_names.push((*n).to_string());
                        }
                    }
                }
                ParsedExtension::SubjectKeyIdentifier(id) => ski = hex::encode(id.0),
                _ => {}
            }
        }
        let spki = cert.public_key();
        let key_algorithm = match spki.algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.10045.2.1" => "ECDSA".to_string(),
            "1.2.840.113549.1.1.1" => "RSA".to_string(),
            "1.3.101.112" => "Ed25519".to_string(),
            other => other.to_string(),
        };
        let signature_algorithm = match cert.signature_algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".to_string(),
            "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".to_string(),
            "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".to_string(),
            "1.3.101.112" => "ED25519".to_string(),
            other => other.to_string(),
        };
        let public_key_pem = ::pem::encode_config(
            &::pem::Pem::new("PUBLIC KEY", spki.raw.to_vec()),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        );
        Ok(CertInfo {
            pem,
            sha256: hex::encode_upper(Sha256::digest(der)),
            sha1: hex::encode_upper(sha1::Sha1::digest(der)),
            md5: hex::encode_upper(Md5::digest(der)),
            serial: hex::encode_upper(cert.raw_serial()),
            not_before,
            not_after,
            subject_dn: cert.subject().to_string(),
            issuer_dn: cert.issuer().to_string(),
            common_name,
            organization,
            dns_names,
            public_key_raw: spki.subject_public_key.data.to_vec(),
            public_key_pem,
            ski,
            key_algorithm,
            signature_algorithm,
        })
    }

    /// Parses the first `CERTIFICATE` block of a PEM text.
    pub(crate) fn from_pem(text: &str) -> Result<CertInfo, PkiError> {
        let blocks =
            pem::parse_many(text.trim().as_bytes()).map_err(|e| PkiError(e.to_string()))?;
        let block = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or_else(|| PkiError("no CERTIFICATE block".into()))?;
        CertInfo::from_der(block.contents())
    }
}

/// The raw public key of a private key PEM, in the same form as [`CertInfo::public_key_raw`].
/// Accepts PKCS#8 (`PRIVATE KEY`: EC P-256/P-384, Ed25519, RSA), SEC1 (`EC PRIVATE KEY`) and
/// PKCS#1 (`RSA PRIVATE KEY`); encrypted keys are refused.
pub(crate) fn private_key_public_raw(text: &str) -> Result<Vec<u8>, PkiError> {
    let blocks = pem::parse_many(text.trim().as_bytes()).map_err(|e| PkiError(e.to_string()))?;
    let block = blocks
        .iter()
        .find(|b| b.tag().ends_with("PRIVATE KEY"))
        .ok_or_else(|| PkiError("no PRIVATE KEY block".into()))?;
    let pkcs8 = match block.tag() {
        "PRIVATE KEY" => block.contents().to_vec(),
        "EC PRIVATE KEY" => {
            // Only P-256 here; SEC1 carries the curve, PKCS#8 wraps it with the ecPublicKey OID.
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let secret = p256::SecretKey::from_sec1_der(block.contents())
                .map_err(|e| PkiError(format!("EC key: {e}")))?;
            return Ok(secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec());
        }
        "RSA PRIVATE KEY" => wrap_pkcs1_rsa(block.contents()),
        other => return Err(PkiError(format!("unsupported key block {other}"))),
    };
    let key = KeyPair::try_from(pkcs8.as_slice()).map_err(|e| PkiError(e.to_string()))?;
    Ok(key.public_key_raw().to_vec())
}

/// PKCS#1 RSAPrivateKey → PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, NULL params).
fn wrap_pkcs1_rsa(pkcs1: &[u8]) -> Vec<u8> {
    const RSA_ALGORITHM: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut inner = vec![0x02, 0x01, 0x00];
    inner.extend_from_slice(&RSA_ALGORITHM);
    inner.extend(der_tlv(0x04, pkcs1));
    der_tlv(0x30, &inner)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn spec(cn: &str, is_ca: bool) -> CertSpec {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        CertSpec {
            subject: vec![
                (DnType::CountryName, "CN".into()),
                (DnType::OrganizationName, "certdesk".into()),
                (DnType::CommonName, cn.into()),
            ],
            serial: vec![0x12, 0x34],
            not_before: now,
            not_after: now + Duration::days(365),
            dns_names: vec![format!("{cn}.example.com")],
            is_ca,
            client_auth: true,
            server_auth: false,
        }
    }

    #[test]
    fn issuing_is_deterministic_and_parses_back() {
        let ca = Authority::root(&spec("ca", true), &EcKey::derive(1, "ca")).unwrap();
        let a = ca
            .issue(&spec("leaf", false), &EcKey::derive(1, "leaf"))
            .unwrap();
        let b = ca
            .issue(&spec("leaf", false), &EcKey::derive(1, "leaf"))
            .unwrap();
        assert_eq!(a.pem, b.pem, "same seed and spec must give the same bytes");
        let other = ca
            .issue(&spec("leaf", false), &EcKey::derive(2, "leaf"))
            .unwrap();
        assert_ne!(a.sha256, other.sha256);
        assert_eq!(a.common_name, "leaf");
        assert_eq!(a.serial, "1234");
        assert_eq!(a.dns_names, vec!["leaf.example.com".to_string()]);
        assert_eq!(a.key_algorithm, "ECDSA");
        assert_eq!(a.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(a.public_key_raw, EcKey::derive(1, "leaf").public_raw());
        assert!(a.issuer_dn.contains("CN=ca"), "{}", a.issuer_dn);
        assert_eq!(CertInfo::from_pem(&a.pem).unwrap(), a);
    }

    #[test]
    fn private_key_formats_give_the_certificate_public_key() {
        let key = EcKey::derive(7, "k");
        let pkcs8 = key.private_pem().unwrap();
        assert_eq!(private_key_public_raw(&pkcs8).unwrap(), key.public_raw());
        let sec1 = p256::SecretKey::from_slice(&key.signing.to_bytes())
            .unwrap()
            .to_sec1_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        assert_eq!(private_key_public_raw(&sec1).unwrap(), key.public_raw());
        assert!(
            private_key_public_raw("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
        assert!(private_key_public_raw("garbage").is_err());
    }

    #[test]
    fn csr_is_real() {
        let pem_text = csr_pem(&spec("req", false), &EcKey::derive(3, "req")).unwrap();
        assert!(pem_text.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        let block = pem::parse(pem_text.as_bytes()).unwrap();
        use x509_parser::prelude::FromDer;
        let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(
            block.contents(),
        )
        .unwrap();
        let subject = csr.certification_request_info.subject.to_string();
        assert!(subject.contains("CN=req"), "{subject}");
    }

    /// Runs `openssl req -verify` on `csr`; the subject and key lines of `-text`.
    fn openssl_verified(csr: &str, extra: &[&str]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("req.pem");
        std::fs::write(&path, csr).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["req", "-verify", "-noout", "-text", "-in"])
            .arg(&path)
            .args(extra)
            .output()
            .expect("this test needs the openssl command");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("verify OK") || text.contains("self-signature verify OK"),
            "{text}"
        );
        text
    }

    #[test]
    fn rsa_and_sm2_csrs_are_real_and_verify() {
        use x509_parser::prelude::FromDer;
        let rsa = RsaKey::random().unwrap();
        let csr = csr_pem_with(&spec("rsa-req", false), &rsa.key_pair().unwrap()).unwrap();
        let text = openssl_verified(&csr, &[]);
        assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
        assert!(text.contains("CN = rsa-req"), "{text}");
        let block = ::pem::parse(&csr).unwrap();
        let (_, parsed) = x509_parser::certification_request::X509CertificationRequest::from_der(
            block.contents(),
        )
        .unwrap();
        assert_eq!(
            parsed
                .certification_request_info
                .subject_pki
                .subject_public_key
                .data
                .as_ref(),
            rsa.public_raw()
        );

        let sm2 = Sm2Key::random();
        let csr = sm2.csr_pem(&spec("sm2-req", false)).unwrap();
        let text = openssl_verified(&csr, &["-vfyopt", "distid:1234567812345678"]);
        assert!(text.contains("SM2"), "{text}");
        assert!(
            text.contains("C = CN, O = certdesk, CN = sm2-req"),
            "{text}"
        );
        let block = ::pem::parse(&csr).unwrap();
        let (_, parsed) = x509_parser::certification_request::X509CertificationRequest::from_der(
            block.contents(),
        )
        .unwrap();
        assert_eq!(
            parsed
                .certification_request_info
                .subject_pki
                .subject_public_key
                .data
                .as_ref(),
            sm2.public_raw()
        );
        assert!(sm2.public_key_pem().unwrap().contains("BEGIN PUBLIC KEY"));
    }
}

//! KMS 2016-01-20 certificate operations (alibaba.md §3.1): DescribeCertificate, GetCertificate,
//! CreateCertificate, UploadCertificate, UpdateCertificateStatus, DeleteCertificate.
//! State rules: `PENDING` until a matching certificate is uploaded; `REVOKED` is final. KMS has
//! no list API, so the seeded ids are exposed to tests through the simulator handle only.

use super::data::{self, Inventory, Params, iso, object, optional, required};
use super::errors::ApiError;
use super::pki::{self, CertInfo, CertSpec, EcKey, RsaKey, Sm2Key};
use rcgen::DnType;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

enum Key {
    /// Derived from the seed under this label (seeded rows, EC P-256).
    Seeded(String),
    /// Generated at CreateCertificate (or held by a seeded PENDING row).
    Created(CreatedKey),
}

/// A key of any spec CreateCertificate accepts.
#[derive(Clone)]
enum CreatedKey {
    Ec(EcKey),
    Rsa(RsaKey),
    Sm2(Sm2Key),
}

impl CreatedKey {
    /// A fresh key of `spec` (`EC_P256`, `RSA_2048`, `EC_SM2`); RSA generation takes a moment,
    /// which is why it happens here and never at start-up.
    fn generate(spec: &str) -> Result<CreatedKey, pki::PkiError> {
        Ok(match spec {
            "RSA_2048" => CreatedKey::Rsa(RsaKey::random()?),
            "EC_SM2" => CreatedKey::Sm2(Sm2Key::random()),
            _ => CreatedKey::Ec(EcKey::random()),
        })
    }

    /// The subjectPublicKey bits an uploaded certificate must carry.
    fn public_raw(&self) -> &[u8] {
        match self {
            CreatedKey::Ec(k) => k.public_raw(),
            CreatedKey::Rsa(k) => k.public_raw(),
            CreatedKey::Sm2(k) => k.public_raw(),
        }
    }

    fn public_key_pem(&self) -> Result<String, pki::PkiError> {
        match self {
            CreatedKey::Ec(k) => Ok(k.key_pair()?.public_key_pem()),
            CreatedKey::Rsa(k) => Ok(k.key_pair()?.public_key_pem()),
            CreatedKey::Sm2(k) => k.public_key_pem(),
        }
    }

    fn csr_pem(&self, spec: &CertSpec) -> Result<String, pki::PkiError> {
        match self {
            CreatedKey::Ec(k) => pki::csr_pem(spec, k),
            CreatedKey::Rsa(k) => pki::csr_pem_with(spec, &k.key_pair()?),
            CreatedKey::Sm2(k) => k.csr_pem(spec),
        }
    }
}

enum Body {
    /// Not uploaded yet (PENDING).
    None,
    /// Seeded row `index`, generated on demand.
    Seeded(u64),
    /// Uploaded by a client, with its chain.
    Uploaded(Arc<CertInfo>, String),
}

struct Cert {
    id: String,
    subject: Vec<(DnType, String)>,
    sans: Vec<String>,
    key: Key,
    body: Body,
    status: &'static str,
    exportable: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    /// Validity of seeded rows.
    validity: (OffsetDateTime, OffsetDateTime),
    csr: Option<String>,
    /// `EC_P256`, `RSA_2048` or `EC_SM2`.
    key_spec: &'static str,
}

/// KMS certificates of the simulated account.
pub(crate) struct KmsState {
    certs: HashMap<String, Cert>,
    order: Vec<String>,
    /// `acs:kms:<region>:<account id>:certificate/`: the ARN of a certificate is this plus its id.
    arn_prefix: String,
}

fn seeded_status(seed: u64, i: u64) -> &'static str {
    // The first four rows cover every status, so tests and the demo can rely on them.
    match i {
        0 => "ACTIVE",
        1 => "INACTIVE",
        2 => "REVOKED",
        3 => "PENDING",
        _ => match data::mix(seed, "kms-status", i) % 100 {
            0..70 => "ACTIVE",
            70..85 => "INACTIVE",
            85..93 => "REVOKED",
            _ => "PENDING",
        },
    }
}

impl KmsState {
    pub(crate) fn new(inv: &Inventory) -> KmsState {
        let mut certs = HashMap::new();
        let mut order = Vec::new();
        for i in 0..inv.counts.kms as u64 {
            let id = data::uuid_like(inv.seed, "kms", i);
            let cn = format!("kms-app-{i:03}.{}", inv.domain("certdesk-demo.com"));
            let status = seeded_status(inv.seed, i);
            let h = data::mix(inv.seed, "kms-dates", i);
            let not_before = inv.anchor - Duration::days((h % 400) as i64 + 20);
            let not_after = not_before + Duration::days(365);
            let created_at = not_before - Duration::hours(2);
            certs.insert(
                id.clone(),
                Cert {
                    id: id.clone(),
                    subject: vec![
                        (DnType::CountryName, "CN".into()),
                        (DnType::OrganizationName, "certdesk demo".into()),
                        (DnType::OrganizationalUnitName, "platform".into()),
                        (DnType::CommonName, cn.clone()),
                    ],
                    sans: vec![cn],
                    // PENDING rows need their key now (UploadCertificate compares against it);
                    // the others derive it only when their certificate is generated.
                    key: if status == "PENDING" {
                        Key::Created(CreatedKey::Ec(inv.key_for(&format!("kms/{i}"))))
                    } else {
                        Key::Seeded(format!("kms/{i}"))
                    },
                    body: if status == "PENDING" {
                        Body::None
                    } else {
                        Body::Seeded(i)
                    },
                    status,
                    exportable: !h.is_multiple_of(5),
                    created_at,
                    updated_at: created_at + Duration::days((h % 20) as i64),
                    validity: (not_before, not_after),
                    csr: None,
                    key_spec: "EC_P256",
                },
            );
            order.push(id);
        }
        KmsState {
            certs,
            order,
            arn_prefix: format!(
                "acs:kms:{}:{}:certificate/",
                inv.place.region, inv.place.account_id
            ),
        }
    }

    pub(crate) fn ids(&self) -> Vec<String> {
        self.order
            .iter()
            .filter(|id| self.certs.contains_key(*id))
            .cloned()
            .collect()
    }

    pub(crate) fn status(&self, id: &str) -> Option<String> {
        self.certs.get(id).map(|c| c.status.to_string())
    }

    /// Every certificate as (id, status, expiry: none while PENDING), for tests.
    pub(crate) fn listing(&self) -> Vec<(String, String, Option<OffsetDateTime>)> {
        self.ids()
            .into_iter()
            .filter_map(|id| {
                let c = self.certs.get(&id)?;
                let not_after = match &c.body {
                    Body::None => None,
                    Body::Seeded(_) => Some(c.validity.1),
                    Body::Uploaded(info, _) => Some(info.not_after),
                };
                Some((id, c.status.to_string(), not_after))
            })
            .collect()
    }

    /// Runs one KMS action.
    pub(crate) fn handle(
        &mut self,
        inv: &Inventory,
        action: &str,
        params: &Params,
    ) -> Result<Map<String, Value>, ApiError> {
        match action {
            "DescribeCertificate" => self.describe(inv, params),
            "GetCertificate" => self.get(inv, params),
            "CreateCertificate" => self.create(params),
            "UploadCertificate" => self.upload(params),
            "UpdateCertificateStatus" => self.update_status(params),
            "DeleteCertificate" => {
                let id = required(params, "CertificateId")?;
                self.certs
                    .remove(id)
                    .ok_or_else(ApiError::certificate_not_found)?;
                Ok(Map::new())
            }
            _ => Err(ApiError::unknown_action()),
        }
    }

    fn arn(&self, id: &str) -> String {
        format!("{}{id}", self.arn_prefix)
    }

    fn find(&self, params: &Params) -> Result<&Cert, ApiError> {
        let id = required(params, "CertificateId")?;
        self.certs
            .get(id)
            .ok_or_else(ApiError::certificate_not_found)
    }

    fn spec(cert: &Cert, inv: &Inventory, index: u64) -> CertSpec {
        CertSpec {
            subject: cert.subject.clone(),
            serial: data::serial(inv.seed, "kms", index),
            not_before: cert.validity.0,
            not_after: cert.validity.1,
            dns_names: cert.sans.clone(),
            is_ca: false,
            client_auth: true,
            server_auth: true,
        }
    }

    fn body(cert: &Cert, inv: &Inventory) -> Result<Option<(Arc<CertInfo>, String)>, ApiError> {
        match &cert.body {
            Body::None => Ok(None),
            Body::Uploaded(info, chain) => Ok(Some((Arc::clone(info), chain.clone()))),
            Body::Seeded(i) => {
                let info = inv.issue_cached(&format!("kms/{i}"), &inv.kms_ca, || {
                    Self::spec(cert, inv, *i)
                })?;
                Ok(Some((info, inv.kms_ca.issued.pem.clone())))
            }
        }
    }

    fn key(cert: &Cert, inv: &Inventory) -> CreatedKey {
        match &cert.key {
            Key::Seeded(label) => CreatedKey::Ec(inv.key_for(label)),
            Key::Created(key) => key.clone(),
        }
    }

    fn describe(&self, inv: &Inventory, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let cert = self.find(params)?;
        let body = Self::body(cert, inv)?;
        let (issuer, subject, serial, not_before, not_after, ski, public_key, sans) = match &body {
            Some((info, _)) => (
                info.issuer_dn.clone(),
                info.subject_dn.clone(),
                info.serial.to_ascii_lowercase(),
                iso(info.not_before),
                iso(info.not_after),
                info.ski.clone(),
                info.public_key_pem.clone(),
                info.dns_names.clone(),
            ),
            None => {
                let public_key = Self::key(cert, inv).public_key_pem().map_err(internal)?;
                (
                    String::new(),
                    pki::dn_string(&cert.subject),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    public_key,
                    cert.sans.clone(),
                )
            }
        };
        Ok(object(json!({
            "Arn": self.arn(&cert.id),
            "CertificateId": cert.id,
            "CreatedAt": iso(cert.created_at),
            "ExportablePrivateKey": cert.exportable,
            "Issuer": issuer,
            "KeySpec": cert.key_spec,
            "NotAfter": not_after,
            "NotBefore": not_before,
            "Serial": serial,
            // alibaba.md: RSA2048-SHA256 | ECDSA-SHA256 | SM2-SM3, one per key spec.
            "SignatureAlgorithm": match cert.key_spec {
                "RSA_2048" => "RSA2048-SHA256",
                "EC_SM2" => "SM2-SM3",
                _ => "ECDSA-SHA256",
            },
            "Status": cert.status,
            "Subject": subject,
            "SubjectAlternativeNames": sans,
            "SubjectKeyIdentifier": ski,
            "SubjectPublicKey": public_key,
            "Tags": {},
            "UpdatedAt": iso(cert.updated_at),
        })))
    }

    fn get(&mut self, inv: &Inventory, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let id = required(params, "CertificateId")?.to_string();
        let cert = self
            .certs
            .get_mut(&id)
            .ok_or_else(ApiError::certificate_not_found)?;
        if cert.csr.is_none() {
            // Seeded rows get their (deterministic) CSR the first time someone asks.
            let index = match cert.body {
                Body::Seeded(i) => i,
                _ => 0,
            };
            let spec = Self::spec(cert, inv, index);
            cert.csr = Some(Self::key(cert, inv).csr_pem(&spec).map_err(internal)?);
        }
        let body = Self::body(cert, inv)?;
        let (certificate, chain) = match body {
            Some((info, chain)) => (info.pem.clone(), chain),
            None => (String::new(), String::new()),
        };
        Ok(object(json!({
            "Certificate": certificate,
            "CertificateChain": chain,
            "CertificateId": cert.id,
            "Csr": cert.csr.clone().unwrap_or_default(),
        })))
    }

    fn create(&mut self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let subject = parse_subject(required(params, "Subject")?)?;
        let key_spec = match required(params, "KeySpec")? {
            "EC_P256" => "EC_P256",
            "RSA_2048" => "RSA_2048",
            "EC_SM2" => "EC_SM2",
            _ => {
                return Err(ApiError::invalid_parameter(
                    "KeySpec",
                    "Valid values: RSA_2048, EC_P256, EC_SM2.",
                ));
            }
        };
        let exportable = match optional(params, "ExportablePrivateKey") {
            None => true,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(_) => {
                return Err(ApiError::invalid_parameter(
                    "ExportablePrivateKey",
                    "It must be true or false.",
                ));
            }
        };
        let sans = match optional(params, "SubjectAlternativeNames") {
            None => Vec::new(),
            Some(text) => parse_sans(text)?,
        };
        let key = CreatedKey::generate(key_spec).map_err(internal)?;
        let now = OffsetDateTime::now_utc();
        let spec = CertSpec {
            subject: subject.clone(),
            serial: vec![1],
            not_before: now,
            not_after: now + Duration::days(365),
            dns_names: sans.clone(),
            is_ca: false,
            client_auth: true,
            server_auth: true,
        };
        let csr = key.csr_pem(&spec).map_err(internal)?;
        let id = uuid::Uuid::new_v4().to_string();
        self.certs.insert(
            id.clone(),
            Cert {
                id: id.clone(),
                subject,
                sans,
                key: Key::Created(key),
                body: Body::None,
                status: "PENDING",
                exportable,
                created_at: now,
                updated_at: now,
                validity: (now, now + Duration::days(365)),
                csr: Some(csr.clone()),
                key_spec,
            },
        );
        self.order.push(id.clone());
        Ok(object(
            json!({"Arn": self.arn(&id), "CertificateId": id, "Csr": csr}),
        ))
    }

    fn upload(&mut self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let id = required(params, "CertificateId")?;
        let pem_text = required(params, "Certificate")?;
        let chain = optional(params, "CertificateChain").unwrap_or_default();
        let cert = self
            .certs
            .get_mut(id)
            .ok_or_else(ApiError::certificate_not_found)?;
        // The docs do not say what uploading to a non-PENDING certificate does; the simulator
        // refuses it like any other illegal state change.
        if cert.status != "PENDING" {
            return Err(ApiError::certificate_status_error());
        }
        let info = CertInfo::from_pem(pem_text).map_err(|_| {
            ApiError::invalid_parameter("Certificate", "It is not a PEM X.509 certificate.")
        })?;
        // Only PENDING rows get here, and those always hold their key (see `KmsState::new`).
        let matches = match &cert.key {
            Key::Created(key) => info.public_key_raw == key.public_raw(),
            Key::Seeded(_) => false,
        };
        if !matches {
            return Err(ApiError::new(
                400,
                "Certificate.MissMatch",
                "The certificate does not match the private key of the certificate request.",
            ));
        }
        cert.body = Body::Uploaded(Arc::new(info), chain.to_string());
        cert.status = "ACTIVE";
        cert.updated_at = OffsetDateTime::now_utc();
        Ok(Map::new())
    }

    fn update_status(&mut self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let id = required(params, "CertificateId")?;
        let status = match required(params, "Status")? {
            "ACTIVE" => "ACTIVE",
            "INACTIVE" => "INACTIVE",
            "REVOKED" => "REVOKED",
            _ => {
                return Err(ApiError::invalid_parameter(
                    "Status",
                    "Valid values: ACTIVE, INACTIVE, REVOKED.",
                ));
            }
        };
        let cert = self
            .certs
            .get_mut(id)
            .ok_or_else(ApiError::certificate_not_found)?;
        // REVOKED is final; a PENDING certificate has nothing to enable or revoke yet.
        if matches!(cert.status, "REVOKED" | "PENDING") {
            return Err(ApiError::certificate_status_error());
        }
        cert.status = status;
        cert.updated_at = OffsetDateTime::now_utc();
        Ok(Map::new())
    }
}

fn internal(e: pki::PkiError) -> ApiError {
    ApiError::new(500, "InternalError", e.to_string())
}

/// `C=CN,O=…,OU=…,CN=…`; C, O, OU and CN are required, ST and L optional.
fn parse_subject(text: &str) -> Result<Vec<(DnType, String)>, ApiError> {
    let bad = |why: &str| ApiError::invalid_parameter("Subject", why);
    let mut found: HashMap<&str, String> = HashMap::new();
    for part in text.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| bad("Expected C=..,O=..,OU=..,CN=.."))?;
        let k = k.trim();
        if !matches!(k, "C" | "ST" | "L" | "O" | "OU" | "CN") {
            return Err(bad(&format!("Unknown attribute {k}.")));
        }
        found.insert(k, v.trim().to_string());
    }
    let mut out = Vec::new();
    for (k, ty, needed) in [
        ("C", DnType::CountryName, true),
        ("ST", DnType::StateOrProvinceName, false),
        ("L", DnType::LocalityName, false),
        ("O", DnType::OrganizationName, true),
        ("OU", DnType::OrganizationalUnitName, true),
        ("CN", DnType::CommonName, true),
    ] {
        match found.remove(k).filter(|v| !v.is_empty()) {
            Some(v) => out.push((ty, v)),
            None if needed => return Err(bad(&format!("{k} is required."))),
            None => {}
        }
    }
    Ok(out)
}

/// The SDK sends a JSON string; accept a list of names or any object holding lists of names.
fn parse_sans(text: &str) -> Result<Vec<String>, ApiError> {
    let value: Value = serde_json::from_str(text).map_err(|_| {
        ApiError::invalid_parameter("SubjectAlternativeNames", "It must be a JSON list.")
    })?;
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
            Value::Object(map) => map.values().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    collect(&value, &mut out);
    if out.len() > 10 {
        return Err(ApiError::invalid_parameter(
            "SubjectAlternativeNames",
            "At most 10 names.",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse_and_require_the_documented_parts() {
        let s = parse_subject("C=CN,O=Acme,OU=IT,CN=a.example.com").unwrap();
        assert_eq!(s.len(), 4);
        assert!(parse_subject("C=CN,O=Acme,CN=x").is_err(), "OU missing");
        assert!(parse_subject("nonsense").is_err());
        assert!(parse_subject("C=CN,O=A,OU=B,CN=c,X=1").is_err());
    }

    #[test]
    fn sans_accept_list_or_object() {
        assert_eq!(
            parse_sans(r#"["a.com","b.com"]"#).unwrap(),
            vec!["a.com", "b.com"]
        );
        assert_eq!(
            parse_sans(r#"{"DNSNames":["a.com"]}"#).unwrap(),
            vec!["a.com"]
        );
        assert!(parse_sans("not json").is_err());
    }
}

//! KMS 2016-01-20 certificate operations (alibaba.md §3.1): describe, get, create, upload, status
//! change, delete. There is no list operation in this API: callers keep their own list of
//! CertificateIds. Request/response shapes only; signing and transport live in `alibaba`.

use super::alibaba::{AlibabaCaller, RpcApi, RpcMethod, param};
use super::{
    AlibabaClientConfig, Error, RequestIdResponse, Transport, de, dn_common_name, non_empty,
};
use crate::model::{CertStatus, CertificateRow, Service};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const API: RpcApi = RpcApi {
    service: Service::Kms,
    version: "2016-01-20",
    method: RpcMethod::Post,
};

/// The status `UpdateCertificateStatus` accepts (`DISABLED` does not exist, alibaba.md §0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum KmsCertificateStatus {
    /// Usable.
    Active,
    /// Disabled, can be re-activated.
    Inactive,
    /// Revoked: verification only, no signing; final.
    Revoked,
}

impl KmsCertificateStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            KmsCertificateStatus::Active => "ACTIVE",
            KmsCertificateStatus::Inactive => "INACTIVE",
            KmsCertificateStatus::Revoked => "REVOKED",
        }
    }
}

impl fmt::Display for KmsCertificateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KmsCertificateStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ACTIVE" => Ok(KmsCertificateStatus::Active),
            "INACTIVE" => Ok(KmsCertificateStatus::Inactive),
            "REVOKED" => Ok(KmsCertificateStatus::Revoked),
            other => Err(format!(
                "unknown KMS certificate status {other:?} (ACTIVE, INACTIVE or REVOKED)"
            )),
        }
    }
}

/// Key type of a KMS-created certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KmsKeySpec {
    /// `RSA_2048`.
    #[serde(rename = "RSA_2048")]
    Rsa2048,
    /// `EC_P256`.
    #[serde(rename = "EC_P256")]
    EcP256,
    /// `EC_SM2`.
    #[serde(rename = "EC_SM2")]
    EcSm2,
}

impl KmsKeySpec {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            KmsKeySpec::Rsa2048 => "RSA_2048",
            KmsKeySpec::EcP256 => "EC_P256",
            KmsKeySpec::EcSm2 => "EC_SM2",
        }
    }
}

/// `DescribeCertificate`: the certificate's metadata.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// ARN.
    #[serde(default, deserialize_with = "de::string")]
    pub arn: String,
    /// Certificate id (GUID).
    #[serde(default, deserialize_with = "de::string")]
    pub certificate_id: String,
    /// Creation time (ISO 8601).
    #[serde(default, deserialize_with = "de::string")]
    pub created_at: String,
    /// Whether the private key may be exported.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub exportable_private_key: Option<bool>,
    /// Issuer DN.
    #[serde(default, deserialize_with = "de::string")]
    pub issuer: String,
    /// `RSA_2048`, `EC_P256`, `EC_SM2`.
    #[serde(default, deserialize_with = "de::string")]
    pub key_spec: String,
    /// Expiry (ISO 8601).
    #[serde(default, deserialize_with = "de::string")]
    pub not_after: String,
    /// Start of validity (ISO 8601).
    #[serde(default, deserialize_with = "de::string")]
    pub not_before: String,
    /// Serial number (hex).
    #[serde(default, deserialize_with = "de::string")]
    pub serial: String,
    /// `RSA2048-SHA256`, `ECDSA-SHA256`, `SM2-SM3`.
    #[serde(default, deserialize_with = "de::string")]
    pub signature_algorithm: String,
    /// `PENDING`, `ACTIVE`, `INACTIVE`, `REVOKED`.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// Subject DN.
    #[serde(default, deserialize_with = "de::string")]
    pub subject: String,
    /// Subject alternative names.
    #[serde(default, deserialize_with = "de::list")]
    pub subject_alternative_names: Vec<String>,
    /// Subject key identifier.
    #[serde(default, deserialize_with = "de::string")]
    pub subject_key_identifier: String,
    /// Public key (PEM or base64, as KMS returns it).
    #[serde(default, deserialize_with = "de::string")]
    pub subject_public_key: String,
    /// Tags (free-form object).
    #[serde(
        default,
        deserialize_with = "de::any",
        skip_serializing_if = "serde_json::Value::is_null"
    )]
    pub tags: serde_json::Value,
    /// Last update time (ISO 8601).
    #[serde(default, deserialize_with = "de::string")]
    pub updated_at: String,
}

/// Normalises a KMS status (`PENDING`, `ACTIVE`, `INACTIVE`, `REVOKED`).
pub fn normalize_status(raw: &str) -> CertStatus {
    match raw.trim().to_ascii_uppercase().as_str() {
        "ACTIVE" => CertStatus::Active,
        "INACTIVE" => CertStatus::Inactive,
        "REVOKED" => CertStatus::Revoked,
        "PENDING" => CertStatus::Pending,
        _ => CertStatus::Unknown,
    }
}

impl DescribeCertificateResponse {
    /// The table row for this certificate.
    pub fn to_row(&self) -> CertificateRow {
        CertificateRow {
            service: Service::Kms,
            id: self.certificate_id.clone(),
            name: dn_common_name(&self.subject).unwrap_or_else(|| self.subject.clone()),
            status: normalize_status(&self.status),
            raw_status: self.status.clone(),
            not_after: de::parse_datetime(&self.not_after),
            serial: non_empty(&self.serial),
            fingerprint_sha256: None,
            site_id: None,
            pem: None,
        }
    }
}

/// `GetCertificate`: the certificate, its chain and CSR.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Certificate id.
    #[serde(default, deserialize_with = "de::string")]
    pub certificate_id: String,
    /// Certificate PEM (empty while PENDING).
    #[serde(default, deserialize_with = "de::string")]
    pub certificate: String,
    /// Chain PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub certificate_chain: String,
    /// CSR PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub csr: String,
}

/// `CreateCertificate`: the new certificate's id and the CSR to get signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// ARN.
    #[serde(default, deserialize_with = "de::string")]
    pub arn: String,
    /// Certificate id.
    #[serde(default, deserialize_with = "de::string")]
    pub certificate_id: String,
    /// CSR PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub csr: String,
}

/// KMS certificate client. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct KmsClient {
    caller: AlibabaCaller,
}

impl KmsClient {
    /// A client for the region (or endpoint override) in `config`.
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(KmsClient {
            caller: AlibabaCaller::new(transport, config, API)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// `DescribeCertificate`.
    pub async fn describe_certificate(
        &self,
        certificate_id: &str,
    ) -> Result<DescribeCertificateResponse, Error> {
        self.caller
            .call(
                "DescribeCertificate",
                &[param("CertificateId", certificate_id)],
                true,
            )
            .await
    }

    /// `GetCertificate`.
    pub async fn get_certificate(
        &self,
        certificate_id: &str,
    ) -> Result<GetCertificateResponse, Error> {
        self.caller
            .call(
                "GetCertificate",
                &[param("CertificateId", certificate_id)],
                true,
            )
            .await
    }

    /// `CreateCertificate`: `subject` is a DN such as `C=CN,O=Org,OU=IT,CN=name`.
    pub async fn create_certificate(
        &self,
        subject: &str,
        key_spec: KmsKeySpec,
        subject_alternative_names: &[String],
        exportable_private_key: bool,
    ) -> Result<CreateCertificateResponse, Error> {
        let mut params = vec![
            param("Subject", subject),
            param("KeySpec", key_spec.as_str()),
            param("ExportablePrivateKey", exportable_private_key.to_string()),
        ];
        if !subject_alternative_names.is_empty() {
            // UNCERTAIN (alibaba.md §10): the SDK "shrinks" this parameter to a JSON string and the
            // docs describe a domain list, so a JSON array of names is sent. The exact shape the
            // service expects could not be verified offline.
            let json = serde_json::to_string(subject_alternative_names).map_err(|e| {
                Error::local(
                    Service::Kms,
                    super::error::local_code::INVALID_REQUEST,
                    format!("cannot encode SubjectAlternativeNames: {e}"),
                    super::ErrorKind::InvalidInput,
                )
            })?;
            params.push(param("SubjectAlternativeNames", json));
        }
        self.caller.call("CreateCertificate", &params, false).await
    }

    /// `UploadCertificate`: installs the signed certificate (and chain) for a PENDING certificate.
    pub async fn upload_certificate(
        &self,
        certificate_id: &str,
        certificate_pem: &str,
        chain_pem: Option<&str>,
    ) -> Result<RequestIdResponse, Error> {
        let mut params = vec![
            param("CertificateId", certificate_id),
            param("Certificate", certificate_pem),
        ];
        if let Some(chain) = chain_pem.filter(|c| !c.trim().is_empty()) {
            params.push(param("CertificateChain", chain));
        }
        self.caller.call("UploadCertificate", &params, false).await
    }

    /// `UpdateCertificateStatus`.
    pub async fn update_certificate_status(
        &self,
        certificate_id: &str,
        status: KmsCertificateStatus,
    ) -> Result<RequestIdResponse, Error> {
        let params = [
            param("CertificateId", certificate_id),
            param("Status", status.as_str()),
        ];
        // Setting the same status twice is harmless, so a timed-out call may be repeated.
        self.caller
            .call("UpdateCertificateStatus", &params, true)
            .await
    }

    /// `DeleteCertificate`.
    pub async fn delete_certificate(
        &self,
        certificate_id: &str,
    ) -> Result<RequestIdResponse, Error> {
        self.caller
            .call(
                "DeleteCertificate",
                &[param("CertificateId", certificate_id)],
                false,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shape of alibaba.md §3.1 DescribeCertificate (every documented field).
    #[test]
    fn parses_describe_certificate() {
        let json = r#"{
            "RequestId": "8f0c0d2e-3c3b-4c2a-9b1e-7e5f0f6f4a10",
            "Arn": "acs:kms:cn-hangzhou:123456789012****:certificate/770dbc2e-03f5-4f5b-a5c6-7fd1f4c9****",
            "CertificateId": "770dbc2e-03f5-4f5b-a5c6-7fd1f4c9****",
            "CreatedAt": "2022-09-17T11:07:25Z",
            "ExportablePrivateKey": true,
            "Issuer": "C=CN,O=Test,CN=Test CA",
            "KeySpec": "EC_P256",
            "NotAfter": "2032-09-17T11:07:25Z",
            "NotBefore": "2022-09-17T11:07:25Z",
            "Serial": "e8b9c2d3a4f5",
            "SignatureAlgorithm": "ECDSA-SHA256",
            "Status": "INACTIVE",
            "Subject": "C=CN,O=Example,OU=IT,CN=device-01",
            "SubjectAlternativeNames": ["a.example.com", "b.example.com"],
            "SubjectKeyIdentifier": "0A:1B:2C",
            "SubjectPublicKey": "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----",
            "Tags": {"env": "prod"},
            "UpdatedAt": "2022-09-18T11:07:25Z"
        }"#;
        let r: DescribeCertificateResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.certificate_id, "770dbc2e-03f5-4f5b-a5c6-7fd1f4c9****");
        assert_eq!(r.exportable_private_key, Some(true));
        assert_eq!(
            r.subject_alternative_names,
            ["a.example.com", "b.example.com"]
        );
        assert_eq!(r.tags["env"], "prod");
        let row = r.to_row();
        assert_eq!(row.service, Service::Kms);
        assert_eq!(row.name, "device-01");
        assert_eq!(row.status, CertStatus::Inactive);
        assert_eq!(row.raw_status, "INACTIVE");
        assert_eq!(row.not_after, Some(1_979_032_045)); // 2032-09-17T11:07:25Z
        assert_eq!(row.serial.as_deref(), Some("e8b9c2d3a4f5"));
        // Minimal / partial answers still parse.
        let r: DescribeCertificateResponse =
            serde_json::from_str(r#"{"RequestId":"r","CertificateId":"c","Status":"PENDING","ExportablePrivateKey":"false"}"#).unwrap();
        assert_eq!(r.to_row().status, CertStatus::Pending);
        assert_eq!(r.exportable_private_key, Some(false));
        assert_eq!(r.to_row().not_after, None);
    }

    #[test]
    fn parses_get_and_create_certificate() {
        let r: GetCertificateResponse = serde_json::from_str(
            r#"{"RequestId":"r1","CertificateId":"c1","Certificate":"-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----","CertificateChain":"","Csr":"-----BEGIN CERTIFICATE REQUEST-----\nMII\n-----END CERTIFICATE REQUEST-----"}"#,
        )
        .unwrap();
        assert!(r.certificate.contains("BEGIN CERTIFICATE"));
        assert!(r.csr.contains("REQUEST"));
        let r: CreateCertificateResponse = serde_json::from_str(
            r#"{"RequestId":"r2","Arn":"acs:kms:cn-hangzhou:1:certificate/c2","CertificateId":"c2","Csr":"-----BEGIN CERTIFICATE REQUEST-----"}"#,
        )
        .unwrap();
        assert_eq!(r.certificate_id, "c2");
        let r: RequestIdResponse = serde_json::from_str(r#"{"RequestId":"r3"}"#).unwrap();
        assert_eq!(r.request_id, "r3");
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            KmsCertificateStatus::Active,
            KmsCertificateStatus::Inactive,
            KmsCertificateStatus::Revoked,
        ] {
            assert_eq!(s.as_str().parse::<KmsCertificateStatus>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!("DISABLED".parse::<KmsCertificateStatus>().is_err());
        assert_eq!(
            "inactive".parse::<KmsCertificateStatus>().unwrap(),
            KmsCertificateStatus::Inactive
        );
        assert_eq!(normalize_status("REVOKED"), CertStatus::Revoked);
        assert_eq!(normalize_status("weird"), CertStatus::Unknown);
    }
}

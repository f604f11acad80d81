//! Huawei Cloud IoTDA v5 device certificates (huawei.md §1.1): list (marker paging), show, change
//! status, delete. Paths `/v5/iot/{project_id}/device-certificates[/{id}]`. Request/response
//! shapes only; signing and transport live in `huawei`.

use super::huawei::{HuaweiCaller, HuaweiRequest};
use super::{Error, HuaweiClientConfig, Transport, count, de, non_empty, normalize_fingerprint};
use crate::model::{CertStatus, CertificateRow, Service};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Page size for walking every certificate: the documented maximum of `limit` (1–50).
pub const LIST_LIMIT: u32 = 50;

/// Upper bound of pages one listing walks (a guard against a marker that never advances).
const MAX_PAGES: usize = 1_000_000;

const PREFIX: &str = "/v5/iot";
const COLLECTION: &str = "device-certificates";

/// The statuses `UpdateDeviceCertificate` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum IotdaStatus {
    /// Activated (default).
    Active,
    /// Deactivated.
    Inactive,
}

impl IotdaStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            IotdaStatus::Active => "ACTIVE",
            IotdaStatus::Inactive => "INACTIVE",
        }
    }
}

impl fmt::Display for IotdaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IotdaStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ACTIVE" => Ok(IotdaStatus::Active),
            "INACTIVE" => Ok(IotdaStatus::Inactive),
            other => Err(format!(
                "unknown IoTDA certificate status {other:?} (ACTIVE or INACTIVE)"
            )),
        }
    }
}

/// One device certificate (list item, show and update responses; the list omits the PEM).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IotdaDeviceCertificate {
    /// Certificate id.
    #[serde(default, deserialize_with = "de::string")]
    pub certificate_id: String,
    /// Subject CN.
    #[serde(default, deserialize_with = "de::string")]
    pub common_name: String,
    /// Expiry, `yyyyMMddTHHmmssZ` (UTC).
    #[serde(default, deserialize_with = "de::string")]
    pub expiry_date: String,
    /// SHA-256 fingerprint (64 upper-case hex).
    #[serde(default, deserialize_with = "de::string")]
    pub fingerprint: String,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// PEM (show/update only).
    #[serde(
        default,
        deserialize_with = "de::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub certificate_pem: String,
}

/// Normalises an IoTDA status.
pub fn normalize_status(raw: &str) -> CertStatus {
    match raw.trim().to_ascii_uppercase().as_str() {
        "ACTIVE" => CertStatus::Active,
        "INACTIVE" => CertStatus::Inactive,
        _ => CertStatus::Unknown,
    }
}

impl IotdaDeviceCertificate {
    /// The table row for this certificate.
    pub fn to_row(&self) -> CertificateRow {
        // The field is documented as SHA-256; a 40-hex SHA-1 value is not a SHA-256 fingerprint.
        let fingerprint_sha256 = normalize_fingerprint(&self.fingerprint).filter(|f| f.len() == 64);
        CertificateRow {
            service: Service::Iotda,
            id: self.certificate_id.clone(),
            name: non_empty(&self.common_name).unwrap_or_else(|| self.certificate_id.clone()),
            status: normalize_status(&self.status),
            raw_status: self.status.clone(),
            not_after: de::parse_datetime(&self.expiry_date),
            serial: None,
            fingerprint_sha256,
            site_id: None,
            pem: non_empty(&self.certificate_pem),
        }
    }
}

/// `page` of a list response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IotdaPage {
    /// Total records matching the query.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub count: Option<i64>,
    /// Id of the last record of this page: pass it as the next `marker`.
    #[serde(default, deserialize_with = "de::opt_string")]
    pub marker: Option<String>,
}

/// `ListDeviceCertificate`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListDeviceCertificateResponse {
    /// The certificates (newest first).
    #[serde(default, deserialize_with = "de::list")]
    pub device_certificates: Vec<IotdaDeviceCertificate>,
    /// Paging information.
    #[serde(default, deserialize_with = "de::or_default")]
    pub page: IotdaPage,
}

/// Body of `UpdateDeviceCertificate`.
#[derive(Debug, Serialize)]
struct UpdateDeviceCertificate {
    status: IotdaStatus,
}

/// IoTDA device-certificate client. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct IotdaClient {
    caller: HuaweiCaller,
}

impl IotdaClient {
    /// A client for the region (or instance endpoint) in `config`.
    pub fn new(transport: &Transport, config: &HuaweiClientConfig) -> Result<Self, Error> {
        Ok(IotdaClient {
            caller: HuaweiCaller::new(transport, config, Service::Iotda)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// `true` when requests are signed with V11-HMAC-SHA256 (derived key).
    pub fn uses_derived_signing(&self) -> bool {
        self.caller.uses_derived_signing()
    }

    /// `ListDeviceCertificate`, one page: records older than `marker` (None = from the newest).
    pub async fn list_device_certificates_page(
        &self,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<ListDeviceCertificateResponse, Error> {
        let mut query = vec![("limit".to_string(), limit.clamp(1, LIST_LIMIT).to_string())];
        if let Some(marker) = marker.filter(|m| !m.is_empty()) {
            query.push(("marker".to_string(), marker.to_string()));
        }
        let path = self.caller.project_path(PREFIX, &[COLLECTION]);
        let request = HuaweiRequest {
            method: Method::GET,
            path: &path,
            query: &query,
            body: b"",
        };
        self.caller.call_json(&request, true).await
    }

    /// Every device certificate: follows `page.marker` until a page is shorter than the limit or
    /// empty; `progress(fetched, total)` after each page.
    pub async fn list_all(
        &self,
        mut progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<IotdaDeviceCertificate>, Error> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .list_device_certificates_page(marker.as_deref(), LIST_LIMIT)
                .await?;
            let got = page.device_certificates.len();
            all.extend(page.device_certificates);
            progress(all.len(), count(page.page.count));
            if got < LIST_LIMIT as usize {
                break;
            }
            match page.page.marker {
                // A marker that does not move would loop forever.
                Some(next) if marker.as_deref() != Some(next.as_str()) => marker = Some(next),
                _ => break,
            }
        }
        Ok(all)
    }

    /// `ShowDeviceCertificate` (with PEM).
    pub async fn show_device_certificate(
        &self,
        certificate_id: &str,
    ) -> Result<IotdaDeviceCertificate, Error> {
        let path = self
            .caller
            .project_path(PREFIX, &[COLLECTION, certificate_id]);
        let request = HuaweiRequest {
            method: Method::GET,
            path: &path,
            query: &[],
            body: b"",
        };
        self.caller.call_json(&request, true).await
    }

    /// `UpdateDeviceCertificate`: `{"status": "ACTIVE"|"INACTIVE"}`.
    pub async fn update_device_certificate_status(
        &self,
        certificate_id: &str,
        status: IotdaStatus,
    ) -> Result<IotdaDeviceCertificate, Error> {
        let path = self
            .caller
            .project_path(PREFIX, &[COLLECTION, certificate_id]);
        let body = serde_json::to_vec(&UpdateDeviceCertificate { status }).map_err(|e| {
            Error::local(
                Service::Iotda,
                super::error::local_code::INVALID_REQUEST,
                e.to_string(),
                super::ErrorKind::Other,
            )
        })?;
        let request = HuaweiRequest {
            method: Method::PUT,
            path: &path,
            query: &[],
            body: &body,
        };
        // PUT of a status is idempotent.
        self.caller.call_json(&request, true).await
    }

    /// `DeleteDeviceCertificate` (204 No Content).
    pub async fn delete_device_certificate(&self, certificate_id: &str) -> Result<(), Error> {
        let path = self
            .caller
            .project_path(PREFIX, &[COLLECTION, certificate_id]);
        let request = HuaweiRequest {
            method: Method::DELETE,
            path: &path,
            query: &[],
            body: b"",
        };
        self.caller.call_no_content(&request, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented ListDeviceCertificate shape (huawei.md §1.1) with the doc's example values.
    #[test]
    fn parses_list_device_certificates() {
        let json = r#"{"device_certificates":[{
            "certificate_id":"75a0c144-7c3c-4dac-9fd6-8c63dd9e969d","common_name":"iot_device",
            "expiry_date":"20230810T070547Z",
            "fingerprint":"4838A6CCBC582DC22647005FBDFB2B110632DDDA5FCFB55B3307C122EFC2D1BA","status":"ACTIVE"}],
            "page":{"count":10,"marker":"5c8ba9b7e3e4ea1c2e9e3b8d"}}"#;
        let r: ListDeviceCertificateResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.page.count, Some(10));
        assert_eq!(r.page.marker.as_deref(), Some("5c8ba9b7e3e4ea1c2e9e3b8d"));
        let row = r.device_certificates[0].to_row();
        assert_eq!(row.service, Service::Iotda);
        assert_eq!(row.name, "iot_device");
        assert_eq!(row.status, CertStatus::Active);
        assert_eq!(row.not_after, Some(1_691_651_147));
        assert_eq!(
            row.fingerprint_sha256.as_deref(),
            Some("4838a6ccbc582dc22647005fbdfb2b110632ddda5fcfb55b3307c122efc2d1ba")
        );
        assert_eq!(row.pem, None);
        let r: ListDeviceCertificateResponse =
            serde_json::from_str(r#"{"device_certificates":[],"page":null}"#).unwrap();
        assert!(r.device_certificates.is_empty());
        assert_eq!(r.page, IotdaPage::default());
        let r: ListDeviceCertificateResponse = serde_json::from_str(r#"{}"#).unwrap();
        assert!(r.device_certificates.is_empty());
    }

    #[test]
    fn parses_show_device_certificate() {
        let json = r#"{"certificate_id":"75a0c144-7c3c-4dac-9fd6-8c63dd9e969d","common_name":"iot_device",
            "expiry_date":"20230810T070547Z","fingerprint":"ABCDEF0123456789ABCDEF0123456789ABCDEF01",
            "status":"INACTIVE","certificate_pem":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}"#;
        let c: IotdaDeviceCertificate = serde_json::from_str(json).unwrap();
        let row = c.to_row();
        assert_eq!(row.status, CertStatus::Inactive);
        assert_eq!(
            row.fingerprint_sha256, None,
            "a 40-hex SHA-1 value is not a SHA-256 fingerprint"
        );
        assert!(row.pem.is_some());
    }

    #[test]
    fn update_body_and_statuses() {
        let body = serde_json::to_string(&UpdateDeviceCertificate {
            status: IotdaStatus::Inactive,
        })
        .unwrap();
        assert_eq!(body, r#"{"status":"INACTIVE"}"#);
        assert_eq!(
            "active".parse::<IotdaStatus>().unwrap(),
            IotdaStatus::Active
        );
        assert!("REVOKED".parse::<IotdaStatus>().is_err());
        assert_eq!(normalize_status("weird"), CertStatus::Unknown);
    }
}

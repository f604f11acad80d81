//! Edge Security Acceleration client certificates, ESA 2024-09-10 (alibaba.md §3.4): sites, list,
//! get, revoke, activate. Every call is a GET with the parameters in the query. `SiteId` is an
//! int64 (a JSON number), kept as [`SiteId`]. Request/response shapes only.

use super::alibaba::{AlibabaCaller, RpcApi, RpcMethod, param};
use super::{
    AlibabaClientConfig, Error, Transport, collect_pages, count, de, non_empty,
    normalize_fingerprint,
};
use crate::model::{CertStatus, CertificateRow, Service};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const API: RpcApi = RpcApi {
    service: Service::Esa,
    version: "2024-09-10",
    method: RpcMethod::Get,
};

/// `ListSites` page size (documented range 1–500).
pub const SITES_PAGE_SIZE: u32 = 100;
/// `ListClientCertificates` page size: the doc example uses 20 and no maximum is documented, so
/// the documented value is used.
pub const CERTIFICATES_PAGE_SIZE: u32 = 20;

/// An ESA site id (int64; a JSON number on the wire, tolerated as a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SiteId(#[serde(deserialize_with = "de::i64_required")] pub i64);

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for SiteId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse::<i64>().map(SiteId).map_err(|_| {
            format!("invalid ESA site id {s:?}: expected an integer such as 1234567890123")
        })
    }
}

/// One site of `ListSites`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EsaSite {
    /// Site id.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub site_id: Option<i64>,
    /// Site (domain) name.
    #[serde(default, deserialize_with = "de::string")]
    pub site_name: String,
    /// `pending`, `active`, `offline`, `moved`.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// `NS` or `CNAME`.
    #[serde(default, deserialize_with = "de::string")]
    pub access_type: String,
    /// `domestic`, `global`, `overseas`.
    #[serde(default, deserialize_with = "de::string")]
    pub coverage: String,
    /// CNAME zone.
    #[serde(default, deserialize_with = "de::string")]
    pub cname_zone: String,
    /// Comma-separated name servers.
    #[serde(default, deserialize_with = "de::string")]
    pub name_server_list: String,
    /// Plan instance id.
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: String,
    /// Plan name.
    #[serde(default, deserialize_with = "de::string")]
    pub plan_name: String,
    /// Plan spec name.
    #[serde(default, deserialize_with = "de::string")]
    pub plan_spec_name: String,
    /// Resource group.
    #[serde(default, deserialize_with = "de::string")]
    pub resource_group_id: String,
    /// Why the site is offline.
    #[serde(default, deserialize_with = "de::string")]
    pub offline_reason: String,
    /// Ownership verification code.
    #[serde(default, deserialize_with = "de::string")]
    pub verify_code: String,
    /// Creation time.
    #[serde(default, deserialize_with = "de::string")]
    pub create_time: String,
    /// Update time.
    #[serde(default, deserialize_with = "de::string")]
    pub update_time: String,
    /// Last visit time (ISO 8601).
    #[serde(default, deserialize_with = "de::string")]
    pub visit_time: String,
    /// Tags (free-form object).
    #[serde(
        default,
        deserialize_with = "de::any",
        skip_serializing_if = "serde_json::Value::is_null"
    )]
    pub tags: serde_json::Value,
}

/// `ListSites`: one page.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSitesResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Page number.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_number: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_size: Option<i64>,
    /// Total sites.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total_count: Option<i64>,
    /// The sites.
    #[serde(default, deserialize_with = "de::list")]
    pub sites: Vec<EsaSite>,
}

/// One client certificate (`ListClientCertificates` item, `GetClientCertificate` `Result`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EsaClientCertificate {
    /// The site it belongs to. Not part of the list item: the client fills it in from the request
    /// so the row can address the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    /// Certificate id.
    #[serde(default, deserialize_with = "de::string")]
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Subject CN.
    #[serde(default, deserialize_with = "de::string")]
    pub common_name: String,
    /// Serial number.
    #[serde(default, deserialize_with = "de::string")]
    pub serial_number: String,
    /// `active` or `revoked`.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// Certificate type.
    #[serde(default, deserialize_with = "de::string")]
    pub r#type: String,
    /// Issuer.
    #[serde(default, deserialize_with = "de::string")]
    pub issuer: String,
    /// Issuing CA certificate id.
    #[serde(rename = "CACertificateId", default, deserialize_with = "de::string")]
    pub ca_certificate_id: String,
    /// Subject alternative names.
    #[serde(rename = "SAN", default, deserialize_with = "de::string")]
    pub san: String,
    /// SHA-256 fingerprint.
    #[serde(default, deserialize_with = "de::string")]
    pub fingerprint_sha256: String,
    /// Public key algorithm.
    #[serde(default, deserialize_with = "de::string")]
    pub pubkey_algorithm: String,
    /// Signature algorithm.
    #[serde(default, deserialize_with = "de::string")]
    pub signature_algorithm: String,
    /// Creation time (`YYYY-MM-DD HH:MM:SS`, UTC).
    #[serde(default, deserialize_with = "de::string")]
    pub create_time: String,
    /// Update time.
    #[serde(default, deserialize_with = "de::string")]
    pub update_time: String,
    /// Start of validity.
    #[serde(default, deserialize_with = "de::string")]
    pub not_before: String,
    /// Expiry (`YYYY-MM-DD HH:MM:SS`, UTC).
    #[serde(default, deserialize_with = "de::string")]
    pub not_after: String,
}

/// Normalises an ESA client-certificate status (`active`, `revoked`).
pub fn normalize_status(raw: &str) -> CertStatus {
    match raw.trim().to_ascii_lowercase().as_str() {
        "active" => CertStatus::Active,
        "revoked" => CertStatus::Revoked,
        "inactive" => CertStatus::Inactive,
        _ => CertStatus::Unknown,
    }
}

impl EsaClientCertificate {
    /// The table row for this certificate.
    pub fn to_row(&self) -> CertificateRow {
        let name = non_empty(&self.common_name)
            .or_else(|| non_empty(&self.name))
            .unwrap_or_else(|| self.id.clone());
        CertificateRow {
            service: Service::Esa,
            id: self.id.clone(),
            name,
            status: normalize_status(&self.status),
            raw_status: self.status.clone(),
            not_after: de::parse_datetime(&self.not_after),
            serial: non_empty(&self.serial_number),
            fingerprint_sha256: normalize_fingerprint(&self.fingerprint_sha256),
            site_id: self.site_id.map(|s| s.0),
            pem: None,
        }
    }
}

/// `ListClientCertificates`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListClientCertificatesResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Site id.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub site_id: Option<i64>,
    /// Site name.
    #[serde(default, deserialize_with = "de::string")]
    pub site_name: String,
    /// Page number.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_number: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_size: Option<i64>,
    /// Total certificates.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total_count: Option<i64>,
    /// The certificates.
    #[serde(default, deserialize_with = "de::list")]
    pub result: Vec<EsaClientCertificate>,
}

/// `GetClientCertificate`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetClientCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Site id.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub site_id: Option<i64>,
    /// Site name.
    #[serde(default, deserialize_with = "de::string")]
    pub site_name: String,
    /// Status.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// Certificate PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub certificate: String,
    /// Details.
    #[serde(default, deserialize_with = "de::or_default")]
    pub result: EsaClientCertificate,
}

impl GetClientCertificateResponse {
    /// The table row, with the PEM.
    pub fn to_row(&self) -> CertificateRow {
        let mut cert = self.result.clone();
        if cert.site_id.is_none() {
            cert.site_id = self.site_id.map(SiteId);
        }
        if cert.status.is_empty() {
            cert.status = self.status.clone();
        }
        let mut row = cert.to_row();
        row.pem = non_empty(&self.certificate);
        row
    }
}

/// `RevokeClientCertificate` / `ActivateClientCertificate`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientCertificateActionResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Site id (a JSON number).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub site_id: Option<i64>,
    /// Site name.
    #[serde(default, deserialize_with = "de::string")]
    pub site_name: String,
    /// Certificate id.
    #[serde(default, deserialize_with = "de::string")]
    pub id: String,
}

/// ESA client. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct EsaClient {
    caller: AlibabaCaller,
}

impl EsaClient {
    /// A client for the region (or endpoint override) in `config`.
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(EsaClient {
            caller: AlibabaCaller::new(transport, config, API)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// `ListSites`, one page.
    pub async fn list_sites_page(
        &self,
        page_number: u32,
        page_size: u32,
    ) -> Result<ListSitesResponse, Error> {
        let params = [
            param("PageNumber", page_number.max(1).to_string()),
            param("PageSize", page_size.max(1).to_string()),
        ];
        self.caller.call("ListSites", &params, true).await
    }

    /// Every site (all pages).
    pub async fn list_sites(&self) -> Result<Vec<EsaSite>, Error> {
        collect_pages(
            SITES_PAGE_SIZE as usize,
            |page| async move {
                let r = self.list_sites_page(page, SITES_PAGE_SIZE).await?;
                Ok((r.sites, count(r.total_count)))
            },
            |_, _| {},
        )
        .await
    }

    /// `ListClientCertificates`, one page; every item gets `site_id`.
    pub async fn list_client_certificates_page(
        &self,
        site_id: SiteId,
        page_number: u32,
        page_size: u32,
    ) -> Result<ListClientCertificatesResponse, Error> {
        let params = [
            param("SiteId", site_id.to_string()),
            param("PageNumber", page_number.max(1).to_string()),
            param("PageSize", page_size.max(1).to_string()),
        ];
        let mut r: ListClientCertificatesResponse = self
            .caller
            .call("ListClientCertificates", &params, true)
            .await?;
        for cert in &mut r.result {
            cert.site_id.get_or_insert(site_id);
        }
        Ok(r)
    }

    /// Every client certificate of a site; `progress(fetched, total)` after each page.
    pub async fn list_client_certificates(
        &self,
        site_id: SiteId,
        progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<EsaClientCertificate>, Error> {
        collect_pages(
            CERTIFICATES_PAGE_SIZE as usize,
            |page| async move {
                let r = self
                    .list_client_certificates_page(site_id, page, CERTIFICATES_PAGE_SIZE)
                    .await?;
                Ok((r.result, count(r.total_count)))
            },
            progress,
        )
        .await
    }

    /// `GetClientCertificate`.
    pub async fn get_client_certificate(
        &self,
        site_id: SiteId,
        id: &str,
    ) -> Result<GetClientCertificateResponse, Error> {
        let params = [param("SiteId", site_id.to_string()), param("Id", id)];
        let mut r: GetClientCertificateResponse = self
            .caller
            .call("GetClientCertificate", &params, true)
            .await?;
        r.result.site_id.get_or_insert(site_id);
        Ok(r)
    }

    /// `RevokeClientCertificate`.
    pub async fn revoke_client_certificate(
        &self,
        site_id: SiteId,
        id: &str,
    ) -> Result<ClientCertificateActionResponse, Error> {
        let params = [param("SiteId", site_id.to_string()), param("Id", id)];
        self.caller
            .call("RevokeClientCertificate", &params, false)
            .await
    }

    /// `ActivateClientCertificate`.
    pub async fn activate_client_certificate(
        &self,
        site_id: SiteId,
        id: &str,
    ) -> Result<ClientCertificateActionResponse, Error> {
        let params = [param("SiteId", site_id.to_string()), param("Id", id)];
        self.caller
            .call("ActivateClientCertificate", &params, false)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented RevokeClientCertificate example: SiteId is a JSON number.
    #[test]
    fn parses_revoke_response_with_numeric_site_id() {
        let r: ClientCertificateActionResponse = serde_json::from_str(
            r#"{"SiteId": 1234567890123, "SiteName": "example.com", "Id": "baba39055622c008b90285a8838ed09a", "RequestId": "EEEBE525-F576-1196-8DAF-2D70CA3F4D2F"}"#,
        )
        .unwrap();
        assert_eq!(r.site_id, Some(1_234_567_890_123));
        assert_eq!(r.id, "baba39055622c008b90285a8838ed09a");
    }

    #[test]
    fn parses_list_sites() {
        let json = r#"{"RequestId":"r","PageNumber":1,"PageSize":500,"TotalCount":1,"Sites":[{
            "SiteId":1234567890123,"SiteName":"example.com","Status":"active","AccessType":"NS","Coverage":"domestic",
            "CnameZone":"example.com.cname.com","NameServerList":"ns1.example.com,ns2.example.com",
            "InstanceId":"esa-site-ads11w","PlanName":"basic","PlanSpecName":"normal","ResourceGroupId":"rg-aek26g6i6se6pna",
            "OfflineReason":"","VerifyCode":"verify_aah9dioasmov****","CreateTime":"2023-12-24T02:01:11Z",
            "UpdateTime":"2023-12-24T02:01:11Z","VisitTime":"2023-12-24T02:01:11Z","Tags":{"tag1":"aaa"}}]}"#;
        let r: ListSitesResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.sites[0].site_id, Some(1_234_567_890_123));
        assert_eq!(r.sites[0].tags["tag1"], "aaa");
        assert_eq!(r.total_count, Some(1));
    }

    #[test]
    fn parses_list_and_get_client_certificates() {
        let item = r#"{"Id":"baba39055622c008b90285a8838ed09a","Name":"client-cert","CommonName":"device.example.com",
            "SerialNumber":"6c3a2b1f","Status":"active","Type":"dcdn","Issuer":"ESA CA","CACertificateId":"ca-1",
            "SAN":"device.example.com","FingerprintSha256":"0A1B2C3D","PubkeyAlgorithm":"RSA","SignatureAlgorithm":"SHA256-RSA",
            "CreateTime":"2024-05-06 07:08:09","UpdateTime":"2024-05-06 07:08:09",
            "NotBefore":"2024-01-02 03:04:05","NotAfter":"2025-12-31 23:59:59"}"#;
        let list = format!(
            r#"{{"RequestId":"r","SiteId":1234567890123,"SiteName":"example.com","PageNumber":1,"PageSize":20,"TotalCount":1,"Result":[{item}]}}"#
        );
        let r: ListClientCertificatesResponse = serde_json::from_str(&list).unwrap();
        let cert = &r.result[0];
        assert_eq!(cert.ca_certificate_id, "ca-1");
        assert_eq!(cert.san, "device.example.com");
        assert_eq!(cert.site_id, None, "the list item itself carries no SiteId");
        let mut cert = cert.clone();
        cert.site_id = Some(SiteId(1_234_567_890_123));
        let row = cert.to_row();
        assert_eq!(row.site_id, Some(1_234_567_890_123));
        assert_eq!(row.name, "device.example.com");
        assert_eq!(row.status, CertStatus::Active);
        assert_eq!(row.not_after, Some(1_767_225_599));
        assert_eq!(row.fingerprint_sha256.as_deref(), Some("0a1b2c3d"));

        let get = format!(
            r#"{{"RequestId":"r","SiteId":"1234567890123","SiteName":"example.com","Status":"revoked","Certificate":"-----BEGIN CERTIFICATE-----","Result":{item}}}"#
        );
        let r: GetClientCertificateResponse = serde_json::from_str(&get).unwrap();
        let row = r.to_row();
        assert_eq!(row.site_id, Some(1_234_567_890_123));
        assert_eq!(row.pem.as_deref(), Some("-----BEGIN CERTIFICATE-----"));
        assert_eq!(normalize_status("revoked"), CertStatus::Revoked);
    }

    #[test]
    fn site_id_parses_and_serialises_as_number() {
        assert_eq!(
            "1234567890123".parse::<SiteId>().unwrap(),
            SiteId(1_234_567_890_123)
        );
        assert!("abc".parse::<SiteId>().is_err());
        assert_eq!(serde_json::to_string(&SiteId(5)).unwrap(), "5");
        assert_eq!(serde_json::from_str::<SiteId>("\"7\"").unwrap(), SiteId(7));
    }
}

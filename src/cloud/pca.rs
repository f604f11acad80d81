//! Private CA client certificates, Certificate Management Service `cas` 2020-06-30 (alibaba.md §3.2):
//! list, describe, status check (batched), revoke, list revoked. Request/response shapes only.

use super::alibaba::{AlibabaCaller, RpcApi, RpcMethod, param};
use super::{
    AlibabaClientConfig, Error, RequestIdResponse, Transport, collect_pages, count, de, non_empty,
    normalize_fingerprint,
};
use crate::model::{CertStatus, CertificateRow, Service};
use serde::{Deserialize, Serialize};

const API: RpcApi = RpcApi {
    service: Service::Pca,
    version: "2020-06-30",
    method: RpcMethod::Post,
};

/// Page size used when walking every page. The API default is 20 and no maximum is documented;
/// 50 keeps the request count down (the PCA APIs allow only 10 QPS per user) without betting on an
/// undocumented upper limit. The walk trusts `TotalCount`, so a server cap below 50 is harmless.
pub const PAGE_SIZE: u32 = 50;

/// Identifiers per `DescribeClientCertificateStatus` call. The parameter is one comma-separated
/// string in the URL and no maximum is documented: 50 identifiers (32 hex + comma each, ~1.7 KB)
/// keep the URL far below common 8 KB gateway limits while covering 500 certificates per second
/// at the documented 10 QPS.
pub const STATUS_BATCH_SIZE: usize = 50;

/// One private-CA certificate as `ListClientCertificate` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PcaClientCertificate {
    /// Primary key.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub id: Option<i64>,
    /// Unique identifier (used by every other call).
    #[serde(default, deserialize_with = "de::string")]
    pub identifier: String,
    /// Issuing CA's identifier.
    #[serde(default, deserialize_with = "de::string")]
    pub parent_identifier: String,
    /// Caller-chosen identifier.
    #[serde(default, deserialize_with = "de::string")]
    pub custom_identifier: String,
    /// Alias.
    #[serde(default, deserialize_with = "de::string")]
    pub alias_name: String,
    /// Subject CN.
    #[serde(default, deserialize_with = "de::string")]
    pub common_name: String,
    /// Serial number (hex).
    #[serde(default, deserialize_with = "de::string")]
    pub serial_number: String,
    /// `ISSUE` or `REVOKE`.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// `CLIENT` or `SERVER`.
    #[serde(default, deserialize_with = "de::string")]
    pub certificate_type: String,
    /// `RSA`, `ECC`, `SM2`.
    #[serde(default, deserialize_with = "de::string")]
    pub algorithm: String,
    /// Key size in bits.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub key_size: Option<i64>,
    /// Signature algorithm.
    #[serde(default, deserialize_with = "de::string")]
    pub sign_algorithm: String,
    /// Start of validity, UNIX ms.
    #[serde(default, deserialize_with = "de::opt_epoch_ms")]
    pub before_date: Option<i64>,
    /// Expiry, UNIX ms.
    #[serde(default, deserialize_with = "de::opt_epoch_ms")]
    pub after_date: Option<i64>,
    /// Validity in days.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub days: Option<i64>,
    /// JSON array string of `{Type, Value}` SANs.
    #[serde(default, deserialize_with = "de::string")]
    pub sans: String,
    /// Subject DN.
    #[serde(rename = "SubjectDN", default, deserialize_with = "de::string")]
    pub subject_dn: String,
    /// Country code.
    #[serde(default, deserialize_with = "de::string")]
    pub country_code: String,
    /// State.
    #[serde(default, deserialize_with = "de::string")]
    pub state: String,
    /// Locality.
    #[serde(default, deserialize_with = "de::string")]
    pub locality: String,
    /// Organization.
    #[serde(default, deserialize_with = "de::string")]
    pub organization: String,
    /// Organizational unit.
    #[serde(default, deserialize_with = "de::string")]
    pub organization_unit: String,
    /// MD5 fingerprint.
    #[serde(default, deserialize_with = "de::string")]
    pub md5: String,
    /// SHA-256 fingerprint.
    #[serde(default, deserialize_with = "de::string")]
    pub sha2: String,
    /// Certificate PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub x509_certificate: String,
    /// Resource group.
    #[serde(default, deserialize_with = "de::string")]
    pub resource_group_id: String,
}

/// Normalises a PCA status: list `ISSUE`/`REVOKE`, status check `good`/`revoked`/`unknown`.
pub fn normalize_status(raw: &str) -> CertStatus {
    match raw.trim().to_ascii_uppercase().as_str() {
        "ISSUE" | "GOOD" => CertStatus::Active,
        "REVOKE" | "REVOKED" => CertStatus::Revoked,
        _ => CertStatus::Unknown,
    }
}

impl PcaClientCertificate {
    /// The table row for this certificate.
    pub fn to_row(&self) -> CertificateRow {
        let name = non_empty(&self.common_name)
            .or_else(|| non_empty(&self.alias_name))
            .unwrap_or_else(|| self.identifier.clone());
        CertificateRow {
            service: Service::Pca,
            id: self.identifier.clone(),
            name,
            status: normalize_status(&self.status),
            raw_status: self.status.clone(),
            not_after: de::ms_to_secs(self.after_date),
            serial: non_empty(&self.serial_number),
            fingerprint_sha256: normalize_fingerprint(&self.sha2),
            site_id: None,
            pem: non_empty(&self.x509_certificate),
        }
    }
}

/// `ListClientCertificate`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListClientCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Page number (1-based).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub current_page: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub show_size: Option<i64>,
    /// Total certificates.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total_count: Option<i64>,
    /// Total pages.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_count: Option<i64>,
    /// Largest allowed page size, when reported.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub max_results: Option<i64>,
    /// The certificates.
    #[serde(default, deserialize_with = "de::list")]
    pub certificate_list: Vec<PcaClientCertificate>,
}

/// One `{TagKey, TagValue}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PcaTag {
    /// Key.
    #[serde(default, deserialize_with = "de::string")]
    pub tag_key: String,
    /// Value.
    #[serde(default, deserialize_with = "de::string")]
    pub tag_value: String,
}

/// `DescribeClientCertificate`'s certificate: the list fields plus chain and tags.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PcaCertificateDetail {
    /// Everything the list item has.
    #[serde(flatten)]
    pub certificate: PcaClientCertificate,
    /// Chain PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_chain: String,
    /// Full algorithm name.
    #[serde(default, deserialize_with = "de::string")]
    pub full_algorithm: String,
    /// Upload flag.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub upload_flag: Option<i64>,
    /// Tags.
    #[serde(default, deserialize_with = "de::list")]
    pub tags: Vec<PcaTag>,
}

/// `DescribeClientCertificate`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeClientCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// The certificate.
    #[serde(default, deserialize_with = "de::or_default")]
    pub certificate: PcaCertificateDetail,
}

/// One entry of `DescribeClientCertificateStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PcaCertificateStatus {
    /// Serial number.
    #[serde(default, deserialize_with = "de::string")]
    pub serial_number: String,
    /// `good`, `revoked` or `unknown`.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// Revocation time, UNIX ms (present when revoked; number, numeric string or date accepted).
    #[serde(default, deserialize_with = "de::opt_epoch_ms")]
    pub revoke_time: Option<i64>,
}

/// `DescribeClientCertificateStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeClientCertificateStatusResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// One entry per certificate.
    #[serde(default, deserialize_with = "de::list")]
    pub certificate_status: Vec<PcaCertificateStatus>,
}

/// One revoked certificate of `ListRevokeCertificate` (dates are strings here, not ms).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PcaRevokedCertificate {
    /// Unique identifier.
    #[serde(default, deserialize_with = "de::string")]
    pub identifier: String,
    /// Serial number.
    #[serde(default, deserialize_with = "de::string")]
    pub serial_number: String,
    /// Subject CN, when returned.
    #[serde(default, deserialize_with = "de::string")]
    pub common_name: String,
    /// Revocation date (`yyyy-MM-ddT00:00Z`).
    #[serde(default, deserialize_with = "de::string")]
    pub revoke_date: String,
    /// Start of validity (string here).
    #[serde(default, deserialize_with = "de::string")]
    pub before_date: String,
    /// Expiry (string here).
    #[serde(default, deserialize_with = "de::string")]
    pub after_date: String,
}

/// `ListRevokeCertificate`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRevokeCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Page number.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub current_page: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub show_size: Option<i64>,
    /// Total revoked certificates.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total_count: Option<i64>,
    /// Total pages.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_count: Option<i64>,
    /// The certificates.
    #[serde(default, deserialize_with = "de::list")]
    pub certificate_list: Vec<PcaRevokedCertificate>,
}

/// Private-CA client. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct PcaClient {
    caller: AlibabaCaller,
}

impl PcaClient {
    /// A client for the region (or endpoint override) in `config`.
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(PcaClient {
            caller: AlibabaCaller::new(transport, config, API)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// `ListClientCertificate`, one page (`current_page` is 1-based).
    pub async fn list_client_certificate_page(
        &self,
        current_page: u32,
        show_size: u32,
    ) -> Result<ListClientCertificateResponse, Error> {
        let params = [
            param("CurrentPage", current_page.max(1).to_string()),
            param("ShowSize", show_size.max(1).to_string()),
        ];
        self.caller
            .call("ListClientCertificate", &params, true)
            .await
    }

    /// Every certificate, page by page; `progress(fetched, total)` after each page.
    pub async fn list_all(
        &self,
        progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<PcaClientCertificate>, Error> {
        collect_pages(
            PAGE_SIZE as usize,
            |page| async move {
                let r = self.list_client_certificate_page(page, PAGE_SIZE).await?;
                Ok((r.certificate_list, count(r.total_count)))
            },
            progress,
        )
        .await
    }

    /// `DescribeClientCertificate`.
    pub async fn describe_client_certificate(
        &self,
        identifier: &str,
    ) -> Result<DescribeClientCertificateResponse, Error> {
        self.caller
            .call(
                "DescribeClientCertificate",
                &[param("Identifier", identifier)],
                true,
            )
            .await
    }

    /// `DescribeClientCertificateStatus` for any number of identifiers, in batches of
    /// [`STATUS_BATCH_SIZE`]; the entries of every batch, in order.
    pub async fn describe_client_certificate_status(
        &self,
        identifiers: &[String],
    ) -> Result<Vec<PcaCertificateStatus>, Error> {
        let mut all = Vec::with_capacity(identifiers.len());
        for batch in identifiers.chunks(STATUS_BATCH_SIZE) {
            let joined = batch.iter().map(|s| s.trim()).collect::<Vec<_>>().join(",");
            let r: DescribeClientCertificateStatusResponse = self
                .caller
                .call(
                    "DescribeClientCertificateStatus",
                    &[param("Identifier", joined)],
                    true,
                )
                .await?;
            all.extend(r.certificate_status);
        }
        Ok(all)
    }

    /// `CreateRevokeClientCertificate`: revokes the certificate (final).
    pub async fn create_revoke_client_certificate(
        &self,
        identifier: &str,
    ) -> Result<RequestIdResponse, Error> {
        self.caller
            .call(
                "CreateRevokeClientCertificate",
                &[param("Identifier", identifier)],
                false,
            )
            .await
    }

    /// `ListRevokeCertificate`, one page.
    pub async fn list_revoke_certificate_page(
        &self,
        current_page: u32,
        show_size: u32,
    ) -> Result<ListRevokeCertificateResponse, Error> {
        let params = [
            param("CurrentPage", current_page.max(1).to_string()),
            param("ShowSize", show_size.max(1).to_string()),
        ];
        self.caller
            .call("ListRevokeCertificate", &params, true)
            .await
    }

    /// Every revoked certificate (all pages).
    pub async fn list_revoke_certificate(&self) -> Result<Vec<PcaRevokedCertificate>, Error> {
        collect_pages(
            PAGE_SIZE as usize,
            |page| async move {
                let r = self.list_revoke_certificate_page(page, PAGE_SIZE).await?;
                Ok((r.certificate_list, count(r.total_count)))
            },
            |_, _| {},
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shape of alibaba.md §3.2 ListClientCertificate with every documented item field.
    #[test]
    fn parses_list_client_certificate() {
        let json = r#"{
            "RequestId": "15C66C7B-671A-4297-9187-2C4477247A74",
            "CurrentPage": 1, "ShowSize": 20, "TotalCount": 1, "PageCount": 1, "MaxResults": 1000,
            "CertificateList": [{
                "Id": 1, "Identifier": "160ae6bb538d538c70c01f81dcf2****", "ParentIdentifier": "1fb6e2c7f6e0****",
                "CustomIdentifier": "my-id", "AliasName": "alias", "CommonName": "device-01",
                "SerialNumber": "3c8ad8ed6c8e1a4f", "Status": "ISSUE", "CertificateType": "CLIENT",
                "Algorithm": "RSA", "KeySize": 2048, "SignAlgorithm": "SHA256WITHRSA",
                "BeforeDate": 1634283958000, "AfterDate": 1767225599000, "Days": 365,
                "Sans": "[{\"Type\":2,\"Value\":\"a.example.com\"}]", "SubjectDN": "CN=device-01,O=Example",
                "CountryCode": "CN", "State": "Zhejiang", "Locality": "Hangzhou", "Organization": "Example",
                "OrganizationUnit": "IT", "Md5": "2b5d3c1b6e1f", "Sha2": "AB:CD:EF:01",
                "X509Certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                "ResourceGroupId": "rg-aek****"
            }]
        }"#;
        let r: ListClientCertificateResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.total_count, Some(1));
        assert_eq!(r.certificate_list.len(), 1);
        let c = &r.certificate_list[0];
        assert_eq!(c.subject_dn, "CN=device-01,O=Example");
        assert_eq!(c.key_size, Some(2048));
        let row = c.to_row();
        assert_eq!(row.id, "160ae6bb538d538c70c01f81dcf2****");
        assert_eq!(row.name, "device-01");
        assert_eq!(row.status, CertStatus::Active);
        assert_eq!(row.raw_status, "ISSUE");
        assert_eq!(row.not_after, Some(1_767_225_599));
        assert_eq!(row.fingerprint_sha256.as_deref(), Some("abcdef01"));
        assert!(row.pem.unwrap().starts_with("-----BEGIN CERTIFICATE-----"));

        // Numbers as strings, absent list.
        let r: ListClientCertificateResponse =
            serde_json::from_str(r#"{"RequestId":"r","TotalCount":"0","CurrentPage":"1"}"#)
                .unwrap();
        assert_eq!(r.total_count, Some(0));
        assert!(r.certificate_list.is_empty());
        let revoked = PcaClientCertificate {
            status: "REVOKE".into(),
            alias_name: "only-alias".into(),
            after_date: Some(1_000),
            ..Default::default()
        };
        assert_eq!(revoked.to_row().status, CertStatus::Revoked);
        assert_eq!(revoked.to_row().name, "only-alias");
    }

    #[test]
    fn parses_describe_client_certificate() {
        let json = r#"{"RequestId":"r","Certificate":{"Identifier":"id1","CommonName":"cn","Status":"ISSUE",
            "AfterDate":"1767225599000","CertChain":"-----BEGIN CERTIFICATE-----","FullAlgorithm":"RSA_2048",
            "UploadFlag":0,"Tags":[{"TagKey":"k","TagValue":"v"}]}}"#;
        let r: DescribeClientCertificateResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.certificate.certificate.identifier, "id1");
        assert_eq!(
            r.certificate.certificate.after_date,
            Some(1_767_225_599_000)
        );
        assert_eq!(r.certificate.full_algorithm, "RSA_2048");
        assert_eq!(
            r.certificate.tags,
            vec![PcaTag {
                tag_key: "k".into(),
                tag_value: "v".into()
            }]
        );
    }

    /// The documented status example, plus the doc's inconsistent string RevokeTime.
    #[test]
    fn parses_describe_client_certificate_status() {
        let json = r#"{"RequestId":"5C3B5A6E-4E8F-4B0B-A1B5-2E6B1C7D9A10",
            "CertificateStatus":[
                {"SerialNumber":"3c8ad8ed","Status":"revoked","RevokeTime":1609459200000},
                {"SerialNumber":"4d9be9fe","Status":"good"},
                {"SerialNumber":"5eacfa0f","Status":"revoked","RevokeTime":"2021-01-01T00:00Z"},
                {"SerialNumber":"6fbd0b1a","Status":"revoked","RevokeTime":"1609459200000"}]}"#;
        let r: DescribeClientCertificateStatusResponse = serde_json::from_str(json).unwrap();
        let times: Vec<Option<i64>> = r.certificate_status.iter().map(|s| s.revoke_time).collect();
        assert_eq!(
            times,
            [
                Some(1_609_459_200_000),
                None,
                Some(1_609_459_200_000),
                Some(1_609_459_200_000)
            ]
        );
        assert_eq!(
            normalize_status(&r.certificate_status[1].status),
            CertStatus::Active
        );
        assert_eq!(
            normalize_status(&r.certificate_status[0].status),
            CertStatus::Revoked
        );
    }

    #[test]
    fn parses_list_revoke_certificate() {
        let json = r#"{"RequestId":"r","CurrentPage":1,"ShowSize":20,"TotalCount":1,"PageCount":1,
            "CertificateList":[{"Identifier":"id9","SerialNumber":"0a","RevokeDate":"2021-01-01T00:00Z",
            "BeforeDate":"2020-01-01T00:00Z","AfterDate":"2022-01-01T00:00Z"}]}"#;
        let r: ListRevokeCertificateResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.certificate_list[0].revoke_date, "2021-01-01T00:00Z");
        assert_eq!(r.certificate_list[0].after_date, "2022-01-01T00:00Z");
    }
}

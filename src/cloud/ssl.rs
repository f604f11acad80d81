//! The SSL Certificates Service, cas 2020-04-07 (alibaba-cdn-cas-sts.md §3.2): the account's
//! certificate repository. List (ListUserCertificateOrder with `OrderType=CERT`/`UPLOAD`, never
//! the `CPACK` default, which lists quota orders), detail (with the PEM and the private key, as a
//! [`Secret`]), upload, delete, and where a certificate is deployed (ListCloudResources, whose
//! `CertIds` travel as a JSON array). The China site is `cas.aliyuncs.com`, the international
//! site `cas.ap-southeast-1.aliyuncs.com`. Request/response shapes only.
//!
//! Field types follow each operation: the certificate id is an int everywhere here; dates are
//! `YYYY-MM-DD` strings in the list, `NotBefore`/`NotAfter` ints in the detail (unit unconfirmed,
//! see [`epoch_seconds`]) and strings of UNIX seconds in ListCloudResources.

use super::alibaba::{AlibabaCaller, RpcApi, RpcMethod, param};
use super::{
    AlibabaClientConfig, Error, RequestIdResponse, Transport, collect_pages, count, de, non_empty,
    normalize_fingerprint,
};
use crate::credentials::Secret;
use crate::model::{CertStatus, CertificateRow, Service};
use serde::{Deserialize, Serialize};

const API: RpcApi = RpcApi {
    service: Service::Ssl,
    version: "2020-04-07",
    method: RpcMethod::Post,
};

/// Page size when walking every page (`ShowSize`; default 50, no maximum documented).
pub const PAGE_SIZE: u32 = 50;

/// `OrderType` of ListUserCertificateOrder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderType {
    /// Issued and uploaded certificates (what certdesk lists).
    #[default]
    Cert,
    /// Uploaded certificates only.
    Upload,
    /// Quota orders (the API's default when `OrderType` is absent).
    Cpack,
    /// Purchase orders.
    Buy,
}

impl OrderType {
    fn wire(self) -> &'static str {
        match self {
            OrderType::Cert => "CERT",
            OrderType::Upload => "UPLOAD",
            OrderType::Cpack => "CPACK",
            OrderType::Buy => "BUY",
        }
    }
}

/// `Status` of ListUserCertificateOrder for certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateState {
    /// Issued, not about to expire.
    Issued,
    /// About to expire.
    WillExpire,
    /// Expired (hidden unless asked for).
    Expired,
}

impl CertificateState {
    fn wire(self) -> &'static str {
        match self {
            CertificateState::Issued => "ISSUED",
            CertificateState::WillExpire => "WILLEXPIRED",
            CertificateState::Expired => "EXPIRED",
        }
    }
}

/// Filters of ListUserCertificateOrder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificateQuery {
    /// `OrderType` (always sent; [`OrderType::Cert`] by default).
    pub order_type: OrderType,
    /// `Status`; `None` = the service's default, the valid certificates (issued and about to
    /// expire, not the expired ones).
    pub state: Option<CertificateState>,
    /// Fuzzy search on a domain or resource id.
    pub keyword: Option<String>,
}

/// One row of ListUserCertificateOrder. With `OrderType=CERT`/`UPLOAD` the certificate fields are
/// filled; the order fields come with CPACK/BUY.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserCertificate {
    /// Certificate id (int; the `CertId` of every other call).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub certificate_id: Option<i64>,
    /// Name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Primary domain.
    #[serde(default, deserialize_with = "de::string")]
    pub common_name: String,
    /// Domains, comma-separated.
    #[serde(default, deserialize_with = "de::string")]
    pub sans: String,
    /// Issuer.
    #[serde(default, deserialize_with = "de::string")]
    pub issuer: String,
    /// Fingerprint (algorithm not documented).
    #[serde(default, deserialize_with = "de::string")]
    pub fingerprint: String,
    /// SHA-256 fingerprint.
    #[serde(default, deserialize_with = "de::string")]
    pub sha2: String,
    /// Serial number.
    #[serde(default, deserialize_with = "de::string")]
    pub serial_no: String,
    /// Organisation.
    #[serde(default, deserialize_with = "de::string")]
    pub org_name: String,
    /// Country.
    #[serde(default, deserialize_with = "de::string")]
    pub country: String,
    /// Province.
    #[serde(default, deserialize_with = "de::string")]
    pub province: String,
    /// City.
    #[serde(default, deserialize_with = "de::string")]
    pub city: String,
    /// Start of validity, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "de::string")]
    pub start_date: String,
    /// End of validity, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "de::string")]
    pub end_date: String,
    /// Expired.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub expired: Option<bool>,
    /// Uploaded (not bought).
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub upload: Option<bool>,
    /// Resource group.
    #[serde(default, deserialize_with = "de::string")]
    pub resource_group_id: String,
    /// Instance id.
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: String,
    /// CPACK/BUY: order id.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub order_id: Option<i64>,
    /// CPACK/BUY: `DV`, `OV`, `EV`, `FREE`.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_type: String,
    /// CPACK/BUY: order status.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// CPACK/BUY: start, UNIX ms.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub cert_start_time: Option<i64>,
    /// CPACK/BUY: end, UNIX ms.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub cert_end_time: Option<i64>,
}

impl UserCertificate {
    /// Expiry as UNIX seconds: `CertEndTime` (ms) when sent, else the start of `EndDate`'s day
    /// (UTC; the list carries only the day, so this is never later than the real expiry).
    pub fn not_after(&self) -> Option<i64> {
        de::ms_to_secs(self.cert_end_time).or_else(|| de::parse_date(&self.end_date))
    }

    /// The table row for this certificate.
    pub fn to_row(&self) -> CertificateRow {
        let expired = self.expired == Some(true);
        CertificateRow {
            service: Service::Ssl,
            id: self
                .certificate_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            name: non_empty(&self.name).unwrap_or_else(|| self.common_name.clone()),
            // An expired certificate is still in the repository and usable as a record; its
            // expiry shows in `not_after`.
            status: CertStatus::Active,
            raw_status: if expired { "EXPIRED" } else { "ISSUED" }.to_string(),
            not_after: self.not_after(),
            serial: non_empty(&self.serial_no),
            fingerprint_sha256: normalize_fingerprint(&self.sha2),
            site_id: None,
            pem: None,
        }
    }
}

/// ListUserCertificateOrder: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUserCertificateOrderResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Page number.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub current_page: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub show_size: Option<i64>,
    /// Total rows.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total_count: Option<i64>,
    /// The rows (a flat array).
    #[serde(default, deserialize_with = "de::list")]
    pub certificate_order_list: Vec<UserCertificate>,
}

/// One certificate of the chain in GetUserCertificateDetail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertChainEntry {
    /// Subject CN.
    #[serde(default, deserialize_with = "de::string")]
    pub common_name: String,
    /// Issuer CN.
    #[serde(default, deserialize_with = "de::string")]
    pub issuer_common_name: String,
    /// Start (int; unit unconfirmed).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub not_before: Option<i64>,
    /// End (int; unit unconfirmed).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub not_after: Option<i64>,
    /// Days left.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub remain_day: Option<i64>,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SslTag {
    /// Key.
    #[serde(default, deserialize_with = "de::string")]
    pub tag_key: String,
    /// Value.
    #[serde(default, deserialize_with = "de::string")]
    pub tag_value: String,
}

/// GetUserCertificateDetail. The private keys are [`Secret`]s: redacted in `Debug`, never
/// serialised (`--json` prints everything else), wiped when dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserCertificateDetail {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Certificate id (int).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub id: Option<i64>,
    /// Name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// `<id>-cn-hangzhou` (China site) or `<id>-ap-southeast-1` (international site).
    #[serde(default, deserialize_with = "de::string")]
    pub cert_identifier: String,
    /// Primary domain.
    #[serde(default, deserialize_with = "de::string")]
    pub common: String,
    /// Domains (separator not documented; commas).
    #[serde(default, deserialize_with = "de::string")]
    pub sans: String,
    /// Issuer.
    #[serde(default, deserialize_with = "de::string")]
    pub issuer: String,
    /// Fingerprint (algorithm not documented).
    #[serde(default, deserialize_with = "de::string")]
    pub fingerprint: String,
    /// SHA-256 fingerprint.
    #[serde(default, deserialize_with = "de::string")]
    pub sha2: String,
    /// SHA-256 of the certificate.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_sha2: String,
    /// Serial number.
    #[serde(default, deserialize_with = "de::string")]
    pub serial_no: String,
    /// Key algorithm.
    #[serde(default, deserialize_with = "de::string")]
    pub algorithm: String,
    /// `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "de::string")]
    pub start_date: String,
    /// `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "de::string")]
    pub end_date: String,
    /// Start (int; unit unconfirmed, see [`epoch_seconds`]).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub not_before: Option<i64>,
    /// End (int; unit unconfirmed, see [`epoch_seconds`]).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub not_after: Option<i64>,
    /// Expired.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub expired: Option<bool>,
    /// Bought in Alibaba Cloud (not uploaded).
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub buy_in_aliyun: Option<bool>,
    /// Order id.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub order_id: Option<i64>,
    /// Instance id.
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: String,
    /// Resource group.
    #[serde(default, deserialize_with = "de::string")]
    pub resource_group_id: String,
    /// Organisation.
    #[serde(default, deserialize_with = "de::string")]
    pub org_name: String,
    /// Country.
    #[serde(default, deserialize_with = "de::string")]
    pub country: String,
    /// Province.
    #[serde(default, deserialize_with = "de::string")]
    pub province: String,
    /// City.
    #[serde(default, deserialize_with = "de::string")]
    pub city: String,
    /// Certificate PEM (absent with `CertFilter=true`).
    #[serde(default, deserialize_with = "de::string")]
    pub cert: String,
    /// Private key PEM (absent with `CertFilter=true`).
    #[serde(default, deserialize_with = "de::secret", skip_serializing)]
    pub key: Secret,
    /// SM encryption certificate PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub encrypt_cert: String,
    /// SM encryption private key PEM.
    #[serde(default, deserialize_with = "de::secret", skip_serializing)]
    pub encrypt_private_key: Secret,
    /// SM signing certificate PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub sign_cert: String,
    /// SM signing private key PEM.
    #[serde(default, deserialize_with = "de::secret", skip_serializing)]
    pub sign_private_key: Secret,
    /// The chain.
    #[serde(default, deserialize_with = "de::list")]
    pub cert_chain: Vec<CertChainEntry>,
    /// Tags.
    #[serde(default, deserialize_with = "de::list")]
    pub tags: Vec<SslTag>,
}

/// An instant the SSL APIs send as an int whose unit is not documented: more than 10^11 can only
/// be milliseconds (10^11 seconds is the year 5138), anything smaller is taken as seconds.
pub fn epoch_seconds(value: Option<i64>) -> Option<i64> {
    value.map(|v| {
        if v.abs() > 100_000_000_000 {
            v.div_euclid(1000)
        } else {
            v
        }
    })
}

impl UserCertificateDetail {
    /// Expiry as UNIX seconds (`NotAfter`, else `EndDate`).
    pub fn not_after_seconds(&self) -> Option<i64> {
        epoch_seconds(self.not_after).or_else(|| de::parse_date(&self.end_date))
    }

    /// The table row for this certificate.
    pub fn to_row(&self) -> CertificateRow {
        let expired = self.expired == Some(true);
        CertificateRow {
            service: Service::Ssl,
            id: self.id.map(|id| id.to_string()).unwrap_or_default(),
            name: non_empty(&self.name).unwrap_or_else(|| self.common.clone()),
            status: CertStatus::Active,
            raw_status: if expired { "EXPIRED" } else { "ISSUED" }.to_string(),
            not_after: self.not_after_seconds(),
            serial: non_empty(&self.serial_no),
            fingerprint_sha256: normalize_fingerprint(&self.sha2)
                .or_else(|| normalize_fingerprint(&self.cert_sha2)),
            site_id: None,
            pem: non_empty(&self.cert),
        }
    }
}

/// UploadUserCertificate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadUserCertificateResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// The new certificate's id (int).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub cert_id: Option<i64>,
    /// Its instance id.
    #[serde(default, deserialize_with = "de::string")]
    pub resource_id: String,
}

/// Filters of ListCloudResources.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CloudResourceQuery {
    /// Only these certificates (sent as a JSON array, `[1,2]`, as the SDK does).
    pub cert_ids: Vec<i64>,
    /// `aliyun`, `Tencent`, `Huawei`, `Aws`.
    pub cloud_name: Option<String>,
    /// `CDN`, `VOD`, `SLB`, …
    pub cloud_product: Option<String>,
    /// A domain or instance id.
    pub keyword: Option<String>,
}

/// One deployment of ListCloudResources.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudResource {
    /// Resource id (int).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub id: Option<i64>,
    /// Certificate id (int).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub cert_id: Option<i64>,
    /// Account id (int).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub user_id: Option<i64>,
    /// Certificate name.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_name: String,
    /// Certificate start: a string of UNIX seconds.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_start_time: String,
    /// Certificate end: a string of UNIX seconds.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_end_time: String,
    /// Created: a string of UNIX seconds.
    #[serde(default, deserialize_with = "de::string")]
    pub gmt_create: String,
    /// Modified: a string of UNIX seconds.
    #[serde(default, deserialize_with = "de::string")]
    pub gmt_modified: String,
    /// `aliyun`, `Tencent`, `Huawei`, `Aws`.
    #[serde(default, deserialize_with = "de::string")]
    pub cloud_name: String,
    /// `CDN`, `VOD`, …
    #[serde(default, deserialize_with = "de::string")]
    pub cloud_product: String,
    /// Region of the resource.
    #[serde(default, deserialize_with = "de::string")]
    pub cloud_region: String,
    /// Region id.
    #[serde(default, deserialize_with = "de::string")]
    pub region_id: String,
    /// The domain.
    #[serde(default, deserialize_with = "de::string")]
    pub domain: String,
    /// Status (values not documented).
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// HTTPS enabled, 0/1.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub enable_https: Option<i64>,
    /// SSL in use, 0/1.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub use_ssl: Option<i64>,
    /// SLB/NLB/ALB/GA instance.
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: String,
    /// Listener.
    #[serde(default, deserialize_with = "de::string")]
    pub listener_id: String,
    /// Listener port (a string).
    #[serde(default, deserialize_with = "de::string")]
    pub listener_port: String,
    /// Default certificate of the listener, 0/1.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub default_resource: Option<i64>,
    /// Third-party cloud access id.
    #[serde(default, deserialize_with = "de::string")]
    pub cloud_access_id: String,
}

impl CloudResource {
    /// Certificate expiry as UNIX seconds.
    pub fn cert_end_seconds(&self) -> Option<i64> {
        self.cert_end_time.trim().parse().ok()
    }

    /// HTTPS is on for this resource.
    pub fn https_enabled(&self) -> bool {
        self.enable_https == Some(1)
    }
}

/// ListCloudResources: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListCloudResourcesResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Page number.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub current_page: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub show_size: Option<i64>,
    /// Total rows (`Total` here, not `TotalCount`).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total: Option<i64>,
    /// The rows (a flat array).
    #[serde(default, deserialize_with = "de::list")]
    pub data: Vec<CloudResource>,
}

/// SSL Certificates Service client. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct SslClient {
    caller: AlibabaCaller,
}

impl SslClient {
    /// A client for `config` (the region picks the China or the international site).
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(SslClient {
            caller: AlibabaCaller::new(transport, config, API)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// ListUserCertificateOrder, one page.
    pub async fn list_user_certificate_order_page(
        &self,
        query: &CertificateQuery,
        current_page: u32,
        show_size: u32,
    ) -> Result<ListUserCertificateOrderResponse, Error> {
        let mut params = vec![
            param("OrderType", query.order_type.wire()),
            param("CurrentPage", current_page.max(1).to_string()),
            param("ShowSize", show_size.max(1).to_string()),
        ];
        if let Some(state) = query.state {
            params.push(param("Status", state.wire()));
        }
        if let Some(keyword) = query.keyword.as_deref().filter(|k| !k.trim().is_empty()) {
            params.push(param("Keyword", keyword));
        }
        self.caller
            .call("ListUserCertificateOrder", &params, true)
            .await
    }

    /// Every row matching `query` (all pages).
    pub async fn list_user_certificate_order(
        &self,
        query: &CertificateQuery,
        progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<UserCertificate>, Error> {
        collect_pages(
            PAGE_SIZE as usize,
            |page| async move {
                let r = self
                    .list_user_certificate_order_page(query, page, PAGE_SIZE)
                    .await?;
                Ok((r.certificate_order_list, count(r.total_count)))
            },
            progress,
        )
        .await
    }

    /// Every certificate of the repository, expired ones included: the default listing (valid
    /// certificates) and then `Status=EXPIRED`, since the service hides expired certificates
    /// unless asked.
    pub async fn list_all_certificates(
        &self,
        mut progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<UserCertificate>, Error> {
        let mut all = self
            .list_user_certificate_order(&CertificateQuery::default(), &mut progress)
            .await?;
        let expired = CertificateQuery {
            state: Some(CertificateState::Expired),
            ..CertificateQuery::default()
        };
        let before = all.len();
        let more = self
            .list_user_certificate_order(&expired, |n, t| {
                progress(before + n, t.map(|t| before + t))
            })
            .await?;
        for cert in more {
            if !all.iter().any(|c| c.certificate_id == cert.certificate_id) {
                all.push(cert);
            }
        }
        Ok(all)
    }

    /// GetUserCertificateDetail. With `include_pem` the answer carries the certificate and its
    /// private key (a [`Secret`]); without, `CertFilter=true` leaves both out.
    pub async fn get_user_certificate_detail(
        &self,
        cert_id: i64,
        include_pem: bool,
    ) -> Result<UserCertificateDetail, Error> {
        let mut params = vec![param("CertId", cert_id.to_string())];
        if !include_pem {
            params.push(param("CertFilter", "true"));
        }
        self.caller
            .call("GetUserCertificateDetail", &params, true)
            .await
    }

    /// UploadUserCertificate (`Name` ≤ 63 characters, unique in the account). With a
    /// `client_token` a repeat of the same upload (after a timeout) is answered without a second
    /// certificate, so the call may be retried. The key is wiped from the request parameters
    /// after the call and redacted from any error.
    pub async fn upload_user_certificate(
        &self,
        name: &str,
        certificate_pem: &str,
        private_key: &Secret,
        client_token: Option<&str>,
    ) -> Result<UploadUserCertificateResponse, Error> {
        let mut params = vec![
            param("Name", name),
            param("Cert", certificate_pem),
            param("Key", private_key.expose()),
        ];
        if let Some(token) = client_token.filter(|t| !t.is_empty()) {
            params.push(param("ClientToken", token));
        }
        let result = self
            .caller
            .call("UploadUserCertificate", &params, client_token.is_some())
            .await;
        for (_, value) in params.iter_mut() {
            zeroize::Zeroize::zeroize(value);
        }
        result.map_err(|e| e.redact(&[private_key.expose()]))
    }

    /// DeleteUserCertificate. With a `client_token` the call may be retried.
    pub async fn delete_user_certificate(
        &self,
        cert_id: i64,
        client_token: Option<&str>,
    ) -> Result<RequestIdResponse, Error> {
        let mut params = vec![param("CertId", cert_id.to_string())];
        if let Some(token) = client_token.filter(|t| !t.is_empty()) {
            params.push(param("ClientToken", token));
        }
        self.caller
            .call("DeleteUserCertificate", &params, client_token.is_some())
            .await
    }

    /// ListCloudResources, one page.
    pub async fn list_cloud_resources_page(
        &self,
        query: &CloudResourceQuery,
        current_page: u32,
        show_size: u32,
    ) -> Result<ListCloudResourcesResponse, Error> {
        let mut params = vec![
            param("CurrentPage", current_page.max(1).to_string()),
            param("ShowSize", show_size.max(1).to_string()),
        ];
        if !query.cert_ids.is_empty() {
            params.push(param("CertIds", cert_ids_json(&query.cert_ids)));
        }
        for (name, value) in [
            ("CloudName", &query.cloud_name),
            ("CloudProduct", &query.cloud_product),
            ("Keyword", &query.keyword),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                params.push(param(name, v));
            }
        }
        self.caller.call("ListCloudResources", &params, true).await
    }

    /// Every deployment matching `query` (all pages; stops at `Total`).
    pub async fn list_cloud_resources(
        &self,
        query: &CloudResourceQuery,
        progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<CloudResource>, Error> {
        collect_pages(
            PAGE_SIZE as usize,
            |page| async move {
                let r = self
                    .list_cloud_resources_page(query, page, PAGE_SIZE)
                    .await?;
                Ok((r.data, count(r.total)))
            },
            progress,
        )
        .await
    }
}

/// `CertIds` as the SDK sends it: compact JSON, `[1,2]` (its "shrink" style `json`).
fn cert_ids_json(ids: &[i64]) -> String {
    let inner: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_ids_are_compact_json() {
        assert_eq!(cert_ids_json(&[1, 2]), "[1,2]");
        assert_eq!(cert_ids_json(&[12_000_000]), "[12000000]");
    }

    #[test]
    fn list_rows_type_ids_as_ints_and_dates_as_days() {
        let json = r#"{"RequestId":"R","CurrentPage":1,"ShowSize":50,"TotalCount":1,"CertificateOrderList":[
            {"CertificateId":12000000,"Name":"demo","CommonName":"*.example.com","Sans":"*.example.com,example.com",
             "Sha2":"AB:CD","SerialNo":"0F","StartDate":"2024-01-01","EndDate":"2025-01-01","Expired":false,"Upload":true}]}"#;
        let r: ListUserCertificateOrderResponse = serde_json::from_str(json).unwrap();
        let c = &r.certificate_order_list[0];
        assert_eq!(c.certificate_id, Some(12_000_000));
        let row = c.to_row();
        assert_eq!(row.id, "12000000");
        assert_eq!(row.service, Service::Ssl);
        assert_eq!(row.not_after, Some(1_735_689_600));
        assert_eq!(row.fingerprint_sha256.as_deref(), Some("abcd"));
        assert_eq!(row.raw_status, "ISSUED");
        // CPACK rows: ms times.
        let c: UserCertificate =
            serde_json::from_str(r#"{"OrderId":5,"CertEndTime":1735689600000}"#).unwrap();
        assert_eq!(c.not_after(), Some(1_735_689_600));
    }

    #[test]
    fn detail_keeps_keys_secret() {
        let json = r#"{"Id":7,"Cert":"-----BEGIN CERTIFICATE-----","Key":"-----BEGIN PRIVATE KEY-----\nsecretbits",
            "NotAfter":1735689600000,"CertChain":[{"CommonName":"a","NotAfter":1735689600000}]}"#;
        let d: UserCertificateDetail = serde_json::from_str(json).unwrap();
        assert_eq!(d.key.expose(), "-----BEGIN PRIVATE KEY-----\nsecretbits");
        assert!(!format!("{d:?}").contains("secretbits"));
        let shown = serde_json::to_string(&d).unwrap();
        assert!(
            !shown.contains("secretbits") && !shown.contains("\"Key\""),
            "{shown}"
        );
        assert_eq!(d.not_after_seconds(), Some(1_735_689_600));
        assert_eq!(
            d.to_row().pem.as_deref(),
            Some("-----BEGIN CERTIFICATE-----")
        );
        assert_eq!(epoch_seconds(Some(1_735_689_600)), Some(1_735_689_600));
        let r: ListCloudResourcesResponse = serde_json::from_str(
            r#"{"Total":1,"Data":[{"Id":1,"CertId":"12","CertEndTime":"1735689600","EnableHttps":1}]}"#,
        )
        .unwrap();
        assert_eq!(r.data[0].cert_id, Some(12));
        assert_eq!(r.data[0].cert_end_seconds(), Some(1_735_689_600));
        assert!(r.data[0].https_enabled());
    }
}

//! Alibaba Cloud CDN 2018-05-10 domain certificates (alibaba-cdn-cas-sts.md §3.1): list the
//! accelerated domains, a domain's certificate, and set it (an uploaded certificate and key, a
//! certificate of the SSL certificate repository, HTTPS on or off). CDN's endpoint is central:
//! `cdn.aliyuncs.com`, or `cdn.ap-southeast-1.aliyuncs.com` for the overseas regions. The private
//! key is a [`Secret`]: it travels in the (TLS-protected) query as the SDK sends it, and is never
//! logged, journaled or echoed in an error. Request/response shapes only.

use super::alibaba::{AlibabaCaller, RpcApi, RpcMethod, param};
use super::{
    AlibabaClientConfig, Error, RequestIdResponse, Transport, collect_pages, count, de, non_empty,
    pem_sha256,
};
use crate::credentials::Secret;
use crate::model::{CertStatus, CertificateRow, Service};
use serde::{Deserialize, Serialize};

const API: RpcApi = RpcApi {
    service: Service::Cdn,
    version: "2018-05-10",
    method: RpcMethod::Post,
};

/// `DescribeUserDomains` page size when walking every page: the documented maximum (1–500).
pub const DOMAINS_PAGE_SIZE: u32 = 500;

/// `DomainSearchType` of `DescribeUserDomains`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DomainSearchType {
    /// The exact name (the documented default).
    #[default]
    FullMatch,
    /// Names containing the text.
    FuzzyMatch,
    /// Names starting with the text.
    PrefixMatch,
    /// Names ending with the text.
    SuffixMatch,
}

impl DomainSearchType {
    fn wire(self) -> &'static str {
        match self {
            DomainSearchType::FullMatch => "full_match",
            DomainSearchType::FuzzyMatch => "fuzzy_match",
            DomainSearchType::PrefixMatch => "pre_match",
            DomainSearchType::SuffixMatch => "suf_match",
        }
    }
}

/// Filters of `DescribeUserDomains` (all optional; the default lists every domain).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainQuery {
    /// Only domains matching this name (see `search_type`).
    pub domain_name: Option<String>,
    /// How `domain_name` matches.
    pub search_type: DomainSearchType,
    /// Only domains in this status (`online`, `offline`, `configuring`, …).
    pub domain_status: Option<String>,
    /// Also list domains under review, failed review or failed configuration.
    pub check_domain_show: bool,
}

impl DomainQuery {
    fn params(&self) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if let Some(name) = self.domain_name.as_deref().filter(|n| !n.trim().is_empty()) {
            params.push(param("DomainName", name));
            params.push(param("DomainSearchType", self.search_type.wire()));
        }
        if let Some(status) = self.domain_status.as_deref().filter(|s| !s.is_empty()) {
            params.push(param("DomainStatus", status));
        }
        if self.check_domain_show {
            params.push(param("CheckDomainShow", "true"));
        }
        params
    }
}

/// One origin of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdnSource {
    /// Origin address.
    #[serde(default, deserialize_with = "de::string")]
    pub content: String,
    /// Port (int).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub port: Option<i64>,
    /// Priority (a string in this API).
    #[serde(default, deserialize_with = "de::string")]
    pub priority: String,
    /// Origin type.
    #[serde(default, deserialize_with = "de::string")]
    pub r#type: String,
    /// Weight (a string in this API).
    #[serde(default, deserialize_with = "de::string")]
    pub weight: String,
}

/// The `Sources` wrapper (`{"Source": [...]}`), absent when empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdnSources {
    /// The origins.
    #[serde(default, deserialize_with = "de::list")]
    pub source: Vec<CdnSource>,
}

/// One accelerated domain of `DescribeUserDomains`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdnDomain {
    /// Domain name.
    #[serde(default, deserialize_with = "de::string")]
    pub domain_name: String,
    /// Domain id (int).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub domain_id: Option<i64>,
    /// CNAME.
    #[serde(default, deserialize_with = "de::string")]
    pub cname: String,
    /// `web`, `download` or `video`.
    #[serde(default, deserialize_with = "de::string")]
    pub cdn_type: String,
    /// `domestic`, `global` or `overseas`.
    #[serde(default, deserialize_with = "de::string")]
    pub coverage: String,
    /// `online`, `offline`, `configuring`, `configure_failed`, `checking`, `check_failed`,
    /// `stopping`, `deleting`.
    #[serde(default, deserialize_with = "de::string")]
    pub domain_status: String,
    /// Creation time (format unconfirmed; ISO 8601 in the VOD sibling).
    #[serde(default, deserialize_with = "de::string")]
    pub gmt_created: String,
    /// Modification time.
    #[serde(default, deserialize_with = "de::string")]
    pub gmt_modified: String,
    /// Description.
    #[serde(default, deserialize_with = "de::string")]
    pub description: String,
    /// Resource group.
    #[serde(default, deserialize_with = "de::string")]
    pub resource_group_id: String,
    /// Sandbox flag (values unconfirmed).
    #[serde(default, deserialize_with = "de::string")]
    pub sandbox: String,
    /// HTTPS on/off (spelled `SslProtocol` here; values unconfirmed, `on`/`off` as VOD).
    #[serde(default, deserialize_with = "de::string")]
    pub ssl_protocol: String,
    /// Origins.
    #[serde(default, deserialize_with = "de::or_default")]
    pub sources: CdnSources,
}

/// Normalises CDN's `on`/`off` (HTTPS enabled).
pub fn normalize_ssl(raw: &str) -> CertStatus {
    super::vod::normalize_ssl(raw)
}

impl CdnDomain {
    /// The table row for this domain (no expiry: that comes from the certificate info).
    pub fn to_row(&self) -> CertificateRow {
        CertificateRow {
            service: Service::Cdn,
            id: self.domain_name.clone(),
            name: self.domain_name.clone(),
            status: normalize_ssl(&self.ssl_protocol),
            raw_status: self.ssl_protocol.clone(),
            not_after: None,
            serial: None,
            fingerprint_sha256: None,
            site_id: None,
            pem: None,
        }
    }
}

/// The `Domains` wrapper (`{"PageData": [...]}`), absent when empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdnDomains {
    /// The domains.
    #[serde(default, deserialize_with = "de::list")]
    pub page_data: Vec<CdnDomain>,
}

/// `DescribeUserDomains`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeUserDomainsResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Page number.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_number: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_size: Option<i64>,
    /// Total domains matching.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total_count: Option<i64>,
    /// The domains.
    #[serde(default, deserialize_with = "de::or_default")]
    pub domains: CdnDomains,
}

/// One certificate of `DescribeDomainCertificateInfo` (every field is a string in 9.2.0, `CertId`
/// included).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdnCertInfo {
    /// Domain name.
    #[serde(default, deserialize_with = "de::string")]
    pub domain_name: String,
    /// Certificate name.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_name: String,
    /// Domain the certificate is for.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_domain_name: String,
    /// SSL repository certificate id (a string here, an int in SetCdnDomainSSLCertificate).
    #[serde(default, deserialize_with = "de::string")]
    pub cert_id: String,
    /// `cas` or `upload` (values unconfirmed for CDN; VOD documents `free|cas|upload`).
    #[serde(default, deserialize_with = "de::string")]
    pub cert_type: String,
    /// Repository site of a `cas` certificate (`cn-hangzhou`, `ap-southeast-1`).
    #[serde(default, deserialize_with = "de::string")]
    pub cert_region: String,
    /// Issuing organisation.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_org: String,
    /// Validity, e.g. `3 months`.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_life: String,
    /// Start of validity.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_start_time: String,
    /// Expiry (a string; `yyyy-MM-ddTHH:mm:ssZ` in the VOD sibling).
    #[serde(default, deserialize_with = "de::string")]
    pub cert_expire_time: String,
    /// Last update.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_update_time: String,
    /// Certificate PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub server_certificate: String,
    /// `on` or `off`.
    #[serde(default, deserialize_with = "de::string")]
    pub server_certificate_status: String,
    /// Status of the certificate configuration.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// CNAME status of the domain.
    #[serde(default, deserialize_with = "de::string")]
    pub domain_cname_status: String,
}

impl CdnCertInfo {
    /// The repository certificate id as a number (`None` for uploaded certificates).
    pub fn cas_cert_id(&self) -> Option<i64> {
        self.cert_id.trim().parse().ok()
    }

    /// SHA-256 (lower-case hex) of the certificate the domain serves, from its PEM.
    pub fn sha256(&self) -> Option<String> {
        pem_sha256(&self.server_certificate)
    }

    /// The table row for this domain's certificate.
    pub fn to_row(&self) -> CertificateRow {
        CertificateRow {
            service: Service::Cdn,
            id: self.domain_name.clone(),
            name: self.domain_name.clone(),
            status: normalize_ssl(&self.server_certificate_status),
            raw_status: self.server_certificate_status.clone(),
            not_after: de::parse_datetime(&self.cert_expire_time),
            serial: None,
            fingerprint_sha256: self.sha256(),
            site_id: None,
            pem: non_empty(&self.server_certificate),
        }
    }
}

/// The `CertInfos` wrapper (`{"CertInfo": [...]}`), absent when empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdnCertInfos {
    /// The certificates.
    #[serde(default, deserialize_with = "de::list")]
    pub cert_info: Vec<CdnCertInfo>,
}

/// `DescribeDomainCertificateInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDomainCertificateInfoResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// The certificates.
    #[serde(default, deserialize_with = "de::or_default")]
    pub cert_infos: CdnCertInfos,
}

/// What `SetCdnDomainSSLCertificate` should do to a domain's HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdnSslChange {
    /// `SSLProtocol=off`.
    Off,
    /// `SSLProtocol=on` with no certificate: the domain's configured certificate again. The SDK
    /// states no rule tying certificate parameters to `on` (unconfirmed); the simulator re-enables
    /// the configured certificate and refuses a domain that never had one.
    OnKeepCertificate,
    /// `SSLProtocol=on`, `CertType=upload` with the certificate and its private key.
    Upload {
        /// `CertName` (the service names it when absent).
        cert_name: Option<String>,
        /// `SSLPub`: the certificate (chain) PEM.
        certificate_pem: String,
        /// `SSLPri`: the private key PEM.
        private_key: Secret,
    },
    /// `SSLProtocol=on`, `CertType=cas`: a certificate of the SSL certificate repository.
    Cas {
        /// `CertId` (an int in this operation).
        cert_id: i64,
        /// `CertRegion`: the repository site, `cn-hangzhou` (China) or `ap-southeast-1`
        /// (international); the site of the certificate's `CertIdentifier`.
        cert_region: String,
        /// `CertName`.
        cert_name: Option<String>,
    },
}

/// CDN client. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct CdnClient {
    caller: AlibabaCaller,
}

impl CdnClient {
    /// A client for `config` (the region picks the China or the overseas endpoint).
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(CdnClient {
            caller: AlibabaCaller::new(transport, config, API)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// `DescribeUserDomains`, one page (`page_size` 1–500).
    pub async fn describe_user_domains_page(
        &self,
        query: &DomainQuery,
        page_number: u32,
        page_size: u32,
    ) -> Result<DescribeUserDomainsResponse, Error> {
        let mut params = query.params();
        params.push(param("PageNumber", page_number.max(1).to_string()));
        params.push(param(
            "PageSize",
            page_size.clamp(1, DOMAINS_PAGE_SIZE).to_string(),
        ));
        self.caller.call("DescribeUserDomains", &params, true).await
    }

    /// Every domain matching `query` (all pages; stops at `TotalCount`). `progress(fetched,
    /// total)` runs after each page.
    pub async fn describe_user_domains(
        &self,
        query: &DomainQuery,
        progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<CdnDomain>, Error> {
        collect_pages(
            DOMAINS_PAGE_SIZE as usize,
            |page| async move {
                let r = self
                    .describe_user_domains_page(query, page, DOMAINS_PAGE_SIZE)
                    .await?;
                Ok((r.domains.page_data, count(r.total_count)))
            },
            progress,
        )
        .await
    }

    /// `DescribeDomainCertificateInfo` (one domain per request).
    pub async fn describe_domain_certificate_info(
        &self,
        domain_name: &str,
    ) -> Result<DescribeDomainCertificateInfoResponse, Error> {
        self.caller
            .call(
                "DescribeDomainCertificateInfo",
                &[param("DomainName", domain_name)],
                true,
            )
            .await
    }

    /// `SetCdnDomainSSLCertificate`. Not idempotent in the API's terms (no token): re-read the
    /// domain before repeating an uncertain call. The private key of an upload is wiped from the
    /// request parameters after the call and redacted from any error.
    pub async fn set_cdn_domain_ssl_certificate(
        &self,
        domain_name: &str,
        change: &CdnSslChange,
    ) -> Result<RequestIdResponse, Error> {
        let mut params = vec![param("DomainName", domain_name)];
        let named = |params: &mut Vec<(String, String)>, name: &Option<String>| {
            if let Some(name) = name.as_deref().filter(|n| !n.trim().is_empty()) {
                params.push(param("CertName", name));
            }
        };
        let mut key: Option<&Secret> = None;
        match change {
            CdnSslChange::Off => params.push(param("SSLProtocol", "off")),
            CdnSslChange::OnKeepCertificate => params.push(param("SSLProtocol", "on")),
            CdnSslChange::Upload {
                cert_name,
                certificate_pem,
                private_key,
            } => {
                params.push(param("SSLProtocol", "on"));
                params.push(param("CertType", "upload"));
                named(&mut params, cert_name);
                params.push(param("SSLPub", certificate_pem.as_str()));
                params.push(param("SSLPri", private_key.expose()));
                key = Some(private_key);
            }
            CdnSslChange::Cas {
                cert_id,
                cert_region,
                cert_name,
            } => {
                params.push(param("SSLProtocol", "on"));
                params.push(param("CertType", "cas"));
                params.push(param("CertId", cert_id.to_string()));
                params.push(param("CertRegion", cert_region.as_str()));
                named(&mut params, cert_name);
            }
        }
        let result = self
            .caller
            .call("SetCdnDomainSSLCertificate", &params, false)
            .await;
        // Wipe the parameter copy of the key now that the request is done.
        for (_, value) in params.iter_mut() {
            zeroize::Zeroize::zeroize(value);
        }
        result.map_err(|e| e.redact(&[key.map(Secret::expose).unwrap_or("")]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented DescribeUserDomains shape (alibaba-cdn-cas-sts.md §3.1).
    #[test]
    fn parses_describe_user_domains() {
        let json = r#"{"RequestId":"R","PageNumber":1,"PageSize":20,"TotalCount":2,
            "Domains":{"PageData":[
              {"DomainName":"www.example.com","DomainId":12345,"Cname":"www.example.com.w.kunlunsl.com",
               "CdnType":"web","Coverage":"domestic","DomainStatus":"online","GmtCreated":"2024-01-02T03:04:05Z",
               "GmtModified":"2024-01-03T03:04:05Z","Description":"","ResourceGroupId":"rg-1","Sandbox":"normal",
               "SslProtocol":"on",
               "Sources":{"Source":[{"Content":"origin.example.com","Port":443,"Priority":"20","Type":"domain","Weight":"10"}]}},
              {"DomainName":"old.example.com","DomainId":"77","SslProtocol":"off","DomainStatus":"offline"}]}}"#;
        let r: DescribeUserDomainsResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.total_count, Some(2));
        let d = &r.domains.page_data;
        assert_eq!(d[0].domain_id, Some(12345));
        assert_eq!(d[1].domain_id, Some(77), "an id sent as a string");
        assert_eq!(d[0].sources.source[0].port, Some(443));
        assert_eq!(d[0].sources.source[0].weight, "10");
        assert_eq!(d[0].to_row().status, CertStatus::Active);
        assert_eq!(d[0].to_row().service, Service::Cdn);
        assert_eq!(d[1].to_row().status, CertStatus::Inactive);
        for empty in [
            r#"{"RequestId":"r","TotalCount":0}"#,
            r#"{"Domains":null}"#,
            r#"{"Domains":{"PageData":null}}"#,
        ] {
            let r: DescribeUserDomainsResponse = serde_json::from_str(empty).unwrap();
            assert!(r.domains.page_data.is_empty(), "{empty}");
        }
    }

    #[test]
    fn parses_certificate_info_with_a_string_cert_id() {
        let json = r#"{"RequestId":"R","CertInfos":{"CertInfo":[{"DomainName":"www.example.com",
            "CertName":"c","CertDomainName":"*.example.com","CertId":"12000000","CertType":"cas",
            "CertRegion":"cn-hangzhou","CertExpireTime":"2030-01-01T00:00:00Z",
            "ServerCertificateStatus":"on","ServerCertificate":""}]}}"#;
        let r: DescribeDomainCertificateInfoResponse = serde_json::from_str(json).unwrap();
        let info = &r.cert_infos.cert_info[0];
        assert_eq!(info.cas_cert_id(), Some(12_000_000));
        let row = info.to_row();
        assert_eq!(row.not_after, Some(1_893_456_000));
        assert_eq!(row.pem, None);
        assert_eq!(row.fingerprint_sha256, None);
        let r: DescribeDomainCertificateInfoResponse =
            serde_json::from_str(r#"{"CertInfos":{"CertInfo":[{"CertId":7}]}}"#).unwrap();
        assert_eq!(r.cert_infos.cert_info[0].cas_cert_id(), Some(7));
    }

    #[test]
    fn domain_query_sends_only_what_is_set() {
        assert!(DomainQuery::default().params().is_empty());
        let q = DomainQuery {
            domain_name: Some("example".into()),
            search_type: DomainSearchType::FuzzyMatch,
            domain_status: Some("online".into()),
            check_domain_show: true,
        };
        assert_eq!(
            q.params(),
            vec![
                param("DomainName", "example"),
                param("DomainSearchType", "fuzzy_match"),
                param("DomainStatus", "online"),
                param("CheckDomainShow", "true"),
            ]
        );
    }
}

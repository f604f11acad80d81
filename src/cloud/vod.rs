//! ApsaraVideo VOD 2017-03-21 domain certificates (alibaba.md §3.3): list domains, certificate
//! info, set the certificate. These operations exist only in Shanghai, so the default endpoint is
//! always `vod.cn-shanghai.aliyuncs.com` whatever the profile's region. The private key is a
//! [`Secret`] and never appears in logs or errors. Request/response shapes only.

use super::alibaba::{AlibabaCaller, RpcApi, RpcMethod, param};
use super::{
    AlibabaClientConfig, Error, RequestIdResponse, Transport, collect_pages, count, de, non_empty,
    pem_sha256,
};
use crate::credentials::Secret;
use crate::model::{CertStatus, CertificateRow, Service};
use serde::{Deserialize, Serialize};

const API: RpcApi = RpcApi {
    service: Service::Vod,
    version: "2017-03-21",
    method: RpcMethod::Post,
};

/// `DescribeVodUserDomains` page size: the documented maximum.
pub const DOMAINS_PAGE_SIZE: u32 = 50;

/// One origin of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VodSource {
    /// Origin address.
    #[serde(default, deserialize_with = "de::string")]
    pub content: String,
    /// Port.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub port: Option<i64>,
    /// Priority.
    #[serde(default, deserialize_with = "de::string")]
    pub priority: String,
    /// Origin type.
    #[serde(default, deserialize_with = "de::string")]
    pub r#type: String,
}

/// The `Sources` wrapper (`{"Source": [...]}`), absent when empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VodSources {
    /// The origins.
    #[serde(default, deserialize_with = "de::list")]
    pub source: Vec<VodSource>,
}

/// One accelerated domain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VodDomain {
    /// Domain name.
    #[serde(default, deserialize_with = "de::string")]
    pub domain_name: String,
    /// CNAME.
    #[serde(default, deserialize_with = "de::string")]
    pub cname: String,
    /// `online`, `offline`, `configuring`...
    #[serde(default, deserialize_with = "de::string")]
    pub domain_status: String,
    /// Creation time.
    #[serde(default, deserialize_with = "de::string")]
    pub gmt_created: String,
    /// Modification time.
    #[serde(default, deserialize_with = "de::string")]
    pub gmt_modified: String,
    /// Description.
    #[serde(default, deserialize_with = "de::string")]
    pub description: String,
    /// HTTPS on/off (spelled `SslProtocol` in this response).
    #[serde(default, deserialize_with = "de::string")]
    pub ssl_protocol: String,
    /// Sandbox flag.
    #[serde(default, deserialize_with = "de::string")]
    pub sandbox: String,
    /// Origins.
    #[serde(default, deserialize_with = "de::or_default")]
    pub sources: VodSources,
}

/// Normalises VOD's `on`/`off` (SSL enabled / certificate deployed).
pub fn normalize_ssl(raw: &str) -> CertStatus {
    match raw.trim().to_ascii_lowercase().as_str() {
        "on" => CertStatus::Active,
        "off" => CertStatus::Inactive,
        _ => CertStatus::Unknown,
    }
}

impl VodDomain {
    /// The table row for this domain (no expiry: that comes from the certificate info).
    pub fn to_row(&self) -> CertificateRow {
        CertificateRow {
            service: Service::Vod,
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
pub struct VodDomains {
    /// The domains.
    #[serde(default, deserialize_with = "de::list")]
    pub page_data: Vec<VodDomain>,
}

/// `DescribeVodUserDomains`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVodUserDomainsResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// Page number.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_number: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub page_size: Option<i64>,
    /// Total domains.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub total_count: Option<i64>,
    /// The domains.
    #[serde(default, deserialize_with = "de::or_default")]
    pub domains: VodDomains,
}

/// One certificate of `DescribeVodDomainCertificateInfo` (every field is a string).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VodCertInfo {
    /// Domain name.
    #[serde(default, deserialize_with = "de::string")]
    pub domain_name: String,
    /// Certificate name.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_name: String,
    /// Domain the certificate is for.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_domain_name: String,
    /// Expiry (`yyyy-MM-ddTHH:mm:ssZ`).
    #[serde(default, deserialize_with = "de::string")]
    pub cert_expire_time: String,
    /// Start of validity.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_start_time: String,
    /// Last update.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_update_time: String,
    /// Validity, e.g. `3 months`.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_life: String,
    /// Issuing organisation.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_org: String,
    /// `free`, `cas`, `upload`.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_type: String,
    /// Region of a CAS certificate.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_region: String,
    /// CAS certificate id.
    #[serde(default, deserialize_with = "de::string")]
    pub cert_id: String,
    /// `on` or `off`.
    #[serde(default, deserialize_with = "de::string")]
    pub server_certificate_status: String,
    /// Certificate PEM.
    #[serde(default, deserialize_with = "de::string")]
    pub server_certificate: String,
    /// Free-certificate application status.
    #[serde(default, deserialize_with = "de::string")]
    pub status: String,
    /// CNAME status of the domain.
    #[serde(default, deserialize_with = "de::string")]
    pub domain_cname_status: String,
}

impl VodCertInfo {
    /// The repository certificate id as a number (`None` for uploaded and free certificates).
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
            service: Service::Vod,
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
pub struct VodCertInfos {
    /// The certificates.
    #[serde(default, deserialize_with = "de::list")]
    pub cert_info: Vec<VodCertInfo>,
}

/// `DescribeVodDomainCertificateInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVodDomainCertificateInfoResponse {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// The certificates.
    #[serde(default, deserialize_with = "de::or_default")]
    pub cert_infos: VodCertInfos,
}

/// VOD client; always talks to the Shanghai endpoint unless overridden. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct VodClient {
    caller: AlibabaCaller,
}

impl VodClient {
    /// A client for `config` (the region is ignored: VOD domain operations are Shanghai-only).
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(VodClient {
            caller: AlibabaCaller::new(transport, config, API)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// `DescribeVodUserDomains`, one page (`page_size` ≤ 50).
    pub async fn describe_vod_user_domains_page(
        &self,
        page_number: u32,
        page_size: u32,
    ) -> Result<DescribeVodUserDomainsResponse, Error> {
        let params = [
            param("PageNumber", page_number.max(1).to_string()),
            param(
                "PageSize",
                page_size.clamp(1, DOMAINS_PAGE_SIZE).to_string(),
            ),
        ];
        self.caller
            .call("DescribeVodUserDomains", &params, true)
            .await
    }

    /// Every domain (all pages).
    pub async fn describe_vod_user_domains(&self) -> Result<Vec<VodDomain>, Error> {
        collect_pages(
            DOMAINS_PAGE_SIZE as usize,
            |page| async move {
                let r = self
                    .describe_vod_user_domains_page(page, DOMAINS_PAGE_SIZE)
                    .await?;
                Ok((r.domains.page_data, count(r.total_count)))
            },
            |_, _| {},
        )
        .await
    }

    /// `DescribeVodDomainCertificateInfo`.
    pub async fn describe_vod_domain_certificate_info(
        &self,
        domain_name: &str,
    ) -> Result<DescribeVodDomainCertificateInfoResponse, Error> {
        self.caller
            .call(
                "DescribeVodDomainCertificateInfo",
                &[param("DomainName", domain_name)],
                true,
            )
            .await
    }

    /// `SetVodDomainCertificate`: turns HTTPS on (with the given certificate and key) or off.
    /// The key travels in the (TLS-protected) query as the SDK does; it is never logged, and any
    /// echo of it in an error message is redacted.
    pub async fn set_vod_domain_certificate(
        &self,
        domain_name: &str,
        ssl_on: bool,
        cert_name: Option<&str>,
        ssl_pub: Option<&str>,
        ssl_pri: Option<&Secret>,
    ) -> Result<RequestIdResponse, Error> {
        let mut params = vec![
            param("DomainName", domain_name),
            param("SSLProtocol", if ssl_on { "on" } else { "off" }),
        ];
        if let Some(name) = cert_name.filter(|n| !n.trim().is_empty()) {
            params.push(param("CertName", name));
        }
        if let Some(pem) = ssl_pub.filter(|p| !p.trim().is_empty()) {
            params.push(param("SSLPub", pem));
        }
        if let Some(key) = ssl_pri.filter(|k| !k.is_empty()) {
            params.push(param("SSLPri", key.expose()));
        }
        let result = self
            .caller
            .call("SetVodDomainCertificate", &params, true)
            .await;
        // Wipe the parameter copy of the key now that the request is done.
        for (_, value) in params.iter_mut() {
            zeroize::Zeroize::zeroize(value);
        }
        result.map_err(|e| e.redact(&[ssl_pri.map(Secret::expose).unwrap_or("")]))
    }

    /// `SetVodDomainSSLCertificate` with `CertType=cas`: HTTPS on with certificate `cert_id` of
    /// the SSL certificate repository at `cert_region` (`cn-hangzhou`, the China site, or
    /// `ap-southeast-1`, the international site). The newer sibling of
    /// [`VodClient::set_vod_domain_certificate`], which takes only an uploaded certificate and its
    /// key (alibaba.md §3.3: DomainName, SSLProtocol, CertName, CertId int, CertType, SSLPub,
    /// SSLPri, CertRegion, Env). Setting the same certificate twice leaves the same state, so the
    /// call may be retried like its sibling.
    pub async fn set_vod_domain_ssl_certificate_cas(
        &self,
        domain_name: &str,
        cert_id: i64,
        cert_region: &str,
        cert_name: Option<&str>,
    ) -> Result<RequestIdResponse, Error> {
        let mut params = vec![
            param("DomainName", domain_name),
            param("SSLProtocol", "on"),
            param("CertType", "cas"),
            param("CertId", cert_id.to_string()),
            param("CertRegion", cert_region),
        ];
        if let Some(name) = cert_name.filter(|n| !n.trim().is_empty()) {
            params.push(param("CertName", name));
        }
        self.caller
            .call("SetVodDomainSSLCertificate", &params, true)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented DescribeVodUserDomains shape (alibaba.md §3.3), XML-style wrappers included.
    #[test]
    fn parses_describe_vod_user_domains() {
        let json = r#"{"RequestId":"A2B5E3E6-2B5A-4B2A-9B4E-3E6F1F0A7C11","PageNumber":1,"PageSize":20,"TotalCount":2,
            "Domains":{"PageData":[
              {"DomainName":"video.example.com","Cname":"video.example.com.w.alikunlun.com","DomainStatus":"online",
               "GmtCreated":"2024-01-02T03:04:05Z","GmtModified":"2024-01-03T03:04:05Z","Description":"",
               "SslProtocol":"on","Sandbox":"normal",
               "Sources":{"Source":[{"Content":"origin.example.com","Port":80,"Priority":"20","Type":"domain"}]}},
              {"DomainName":"old.example.com","SslProtocol":"off","DomainStatus":"offline"}]}}"#;
        let r: DescribeVodUserDomainsResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.total_count, Some(2));
        let d = &r.domains.page_data;
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].sources.source[0].port, Some(80));
        assert!(
            d[1].sources.source.is_empty(),
            "absent Sources wrapper defaults to empty"
        );
        assert_eq!(d[0].to_row().status, CertStatus::Active);
        assert_eq!(d[1].to_row().status, CertStatus::Inactive);
        assert_eq!(d[1].to_row().id, "old.example.com");

        // No domains: the whole Domains wrapper may be absent or null.
        for empty in [
            r#"{"RequestId":"r","TotalCount":0}"#,
            r#"{"RequestId":"r","Domains":null}"#,
            r#"{"Domains":{}}"#,
        ] {
            let r: DescribeVodUserDomainsResponse = serde_json::from_str(empty).unwrap();
            assert!(r.domains.page_data.is_empty(), "{empty}");
        }
    }

    #[test]
    fn parses_describe_vod_domain_certificate_info() {
        let json = r#"{"RequestId":"5C1E43DC-9E51-4771-82C0-7D5ECEB547A1","CertInfos":{"CertInfo":[{
            "DomainName":"video.example.com","CertName":"cert-1","CertDomainName":"*.example.com",
            "CertExpireTime":"2025-12-31T23:59:59Z","CertStartTime":"2024-01-02T03:04:05Z","CertUpdateTime":"2024-01-02T03:04:05Z",
            "CertLife":"3 months","CertOrg":"DigiCert Inc","CertType":"upload","CertRegion":"cn-hangzhou","CertId":"12345",
            "ServerCertificateStatus":"on","ServerCertificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "Status":"success","DomainCnameStatus":"ok"}]}}"#;
        let r: DescribeVodDomainCertificateInfoResponse = serde_json::from_str(json).unwrap();
        let info = &r.cert_infos.cert_info[0];
        assert_eq!(info.cert_id, "12345");
        let row = info.to_row();
        assert_eq!(row.not_after, Some(1_767_225_599));
        assert_eq!(row.status, CertStatus::Active);
        assert!(row.pem.is_some());
        // CertId sometimes arrives as a number; absent CertInfos means no certificate.
        let r: DescribeVodDomainCertificateInfoResponse =
            serde_json::from_str(r#"{"CertInfos":{"CertInfo":[{"CertId":12345}]}}"#).unwrap();
        assert_eq!(r.cert_infos.cert_info[0].cert_id, "12345");
        let r: DescribeVodDomainCertificateInfoResponse =
            serde_json::from_str(r#"{"RequestId":"r"}"#).unwrap();
        assert!(r.cert_infos.cert_info.is_empty());
    }
}

//! Alibaba Cloud CDN 2018-05-10 domain certificates (alibaba-cdn-cas-sts.md §3.1): one account's
//! accelerated domains at one CDN endpoint (the China endpoint `cdn.aliyuncs.com`, kept with the
//! `cn-hangzhou` inventory, or the overseas `cdn.ap-southeast-1.aliyuncs.com`):
//! DescribeUserDomains, DescribeDomainCertificateInfo, SetCdnDomainSSLCertificate.
//!
//! Seeded domains cover every case a client must handle: HTTPS on with a certificate of the SSL
//! certificate repository (`cas`), on with an uploaded certificate (one about to expire, one
//! expired), off, a domain being configured, an offline one and one that failed review (listed
//! only with `CheckDomainShow`). A `cas` certificate comes from the repository: seeded domains use
//! the seeded repository certificates of the same region, and a set with `CertType=cas` gets the
//! certificate the caller resolved from the repository (`RepoCert`); this module knows nothing of
//! the repository's state.
//!
//! The CDN 9.2.0 SDK documents no error code ("unconfirmed"): the codes are those VOD documents
//! for its sibling SetVodDomainCertificate (VOD domains are CDN domains), see `docs/simulator.md`.

use super::data::{self, Inventory, Params, iso, object, optional, page_param, required};
use super::deploy::{Deployment, RepoCert, SSL_SITES, check_uploaded_pair};
use super::errors::ApiError;
use super::pki::{CertInfo, CertSpec};
use super::ssl;
use rcgen::DnType;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// The certificate a domain is configured with.
enum DomainCert {
    /// None ever set.
    None,
    /// Seeded uploaded certificate of domain `index`.
    SeededUpload(u64),
    /// Seeded repository certificate `k` of this region's repository.
    SeededCas(u64),
    /// Uploaded through SetCdnDomainSSLCertificate.
    Uploaded(Arc<CertInfo>),
    /// A repository certificate set through SetCdnDomainSSLCertificate.
    Cas(RepoCert),
}

struct Domain {
    index: u64,
    id: i64,
    name: String,
    status: &'static str,
    cdn_type: &'static str,
    coverage: &'static str,
    created: OffsetDateTime,
    modified: OffsetDateTime,
    ssl_on: bool,
    cert_name: String,
    cert: DomainCert,
    cert_updated: OffsetDateTime,
}

/// One account's CDN domains at one endpoint.
pub(crate) struct CdnState {
    domains: Vec<Domain>,
    by_name: HashMap<String, usize>,
    region: String,
}

/// A certificate as the APIs report it.
struct Served {
    info: Arc<CertInfo>,
    cert_type: &'static str,
    cert_id: Option<i64>,
    cert_region: &'static str,
}

const WORDS: [&str; 8] = [
    "www", "img", "static", "assets", "api", "download", "m", "cdn",
];
/// Longest CertName (VOD's documented limit; not documented for CDN).
const MAX_CERT_NAME: usize = 128;
/// Domain statuses listed only with `CheckDomainShow=true` (documented: "domains under review,
/// failed review or failed configuration").
const CHECK_STATUSES: [&str; 3] = ["checking", "check_failed", "configure_failed"];

impl CdnState {
    pub(crate) fn new(inv: &Inventory) -> CdnState {
        let zone = inv.domain("certdesk-demo.net");
        let mut domains = Vec::with_capacity(inv.counts.cdn);
        for i in 0..inv.counts.cdn as u64 {
            let h = data::mix(inv.seed, "cdn", i);
            let word = WORDS[i as usize % WORDS.len()];
            let name = if (i as usize) < WORDS.len() {
                format!("{word}.{zone}")
            } else {
                format!("{word}{i}.{zone}")
            };
            // The first eight domains are fixed so tests and the demo can rely on them.
            let (status, ssl_on, cert) = match i {
                0 => ("online", true, DomainCert::SeededCas(0)),
                1 => ("online", false, DomainCert::None),
                2 => ("online", true, DomainCert::SeededUpload(i)),
                3 => ("configuring", true, DomainCert::SeededCas(0)),
                4 => ("offline", true, DomainCert::SeededUpload(i)),
                5 => ("online", true, DomainCert::SeededCas(1)),
                6 => ("check_failed", false, DomainCert::None),
                7 => ("online", true, DomainCert::SeededUpload(i)),
                _ => {
                    let status = match (h >> 8) % 20 {
                        0 | 1 => "offline",
                        2 => "configuring",
                        _ => "online",
                    };
                    let cert = match (h >> 16) % 10 {
                        0 | 1 => DomainCert::None,
                        2..5 => DomainCert::SeededCas((h >> 24) % 2),
                        _ => DomainCert::SeededUpload(i),
                    };
                    let on = !matches!(cert, DomainCert::None) && !(h >> 32).is_multiple_of(5);
                    (status, on, cert)
                }
            };
            let created = inv.anchor - Duration::days((h % 900) as i64 + 60);
            let cert_updated = inv.anchor - Duration::days(((h >> 40) % 50) as i64 + 1);
            let cert_name = match &cert {
                DomainCert::SeededCas(k) => ssl::seeded_repo_cert_name(inv, *k),
                DomainCert::None => String::new(),
                _ => format!("cert-{word}-{i}"),
            };
            domains.push(Domain {
                index: i,
                id: 40_000_000 + (h % 1_000_000) as i64 * 100 + i as i64 % 100,
                name,
                status,
                cdn_type: ["web", "download", "video"][(h >> 4) as usize % 3],
                coverage: ["domestic", "global", "overseas"][(h >> 6) as usize % 3],
                created,
                modified: cert_updated,
                ssl_on,
                cert_name,
                cert,
                cert_updated,
            });
        }
        let by_name = domains
            .iter()
            .enumerate()
            .map(|(n, d)| (d.name.clone(), n))
            .collect();
        CdnState {
            domains,
            by_name,
            region: inv.place.region.clone(),
        }
    }

    /// Every domain as (name, `on`/`off`, certificate expiry), for tests.
    pub(crate) fn listing(&self, inv: &Inventory) -> Vec<(String, String, Option<OffsetDateTime>)> {
        self.domains
            .iter()
            .map(|d| {
                let not_after = self.served(inv, d).ok().flatten().map(|s| s.info.not_after);
                (d.name.clone(), on_off(d.ssl_on).to_string(), not_after)
            })
            .collect()
    }

    /// A domain's HTTPS state for tests: (`on`/`off`, certificate type, CertId, certificate SHA-256).
    pub(crate) fn ssl(
        &self,
        inv: &Inventory,
        domain: &str,
    ) -> Option<(String, String, Option<i64>, Option<String>)> {
        let d = &self.domains[*self.by_name.get(domain)?];
        let served = self.served(inv, d).ok()?;
        Some((
            on_off(d.ssl_on).to_string(),
            served
                .as_ref()
                .map(|s| s.cert_type.to_string())
                .unwrap_or_default(),
            served.as_ref().and_then(|s| s.cert_id),
            served.map(|s| s.info.sha256.clone()),
        ))
    }

    /// The domains configured with a repository certificate.
    pub(crate) fn deployments(&self, inv: &Inventory) -> Vec<Deployment> {
        let offset = if self.region == SSL_SITES[1] {
            500_000
        } else {
            0
        };
        self.domains
            .iter()
            .filter_map(|d| {
                let (cert_id, cert_site) = match &d.cert {
                    DomainCert::SeededCas(k) => ssl::seeded_repo_cert_id(inv, *k),
                    DomainCert::Cas(c) => (c.id, c.site),
                    _ => return None,
                };
                Some(Deployment {
                    cert_id,
                    cert_site,
                    product: "CDN",
                    resource_id: 1_000_000 + offset + d.index as i64,
                    domain: d.name.clone(),
                    region: self.region.clone(),
                    https: d.ssl_on,
                    since: d.cert_updated,
                })
            })
            .collect()
    }

    /// Runs one CDN action. `cas` is the repository certificate a SetCdnDomainSSLCertificate with
    /// `CertType=cas` names, as the caller resolved it (`None` when the request names none).
    pub(crate) fn handle(
        &mut self,
        inv: &Inventory,
        action: &str,
        params: &Params,
        cas: Option<Result<RepoCert, ApiError>>,
    ) -> Result<Map<String, Value>, ApiError> {
        match action {
            "DescribeUserDomains" => self.list(params),
            "DescribeDomainCertificateInfo" => self.certificate_info(inv, params),
            "SetCdnDomainSSLCertificate" => self.set_certificate(params, cas),
            _ => Err(ApiError::unknown_action()),
        }
    }

    fn domain(&self, params: &Params) -> Result<usize, ApiError> {
        let name = required(params, "DomainName")?;
        self.by_name.get(name).copied().ok_or_else(|| {
            ApiError::new(
                404,
                "InvalidDomain.NotFound",
                "The domain provided does not belong to you.",
            )
        })
    }

    fn served(&self, inv: &Inventory, d: &Domain) -> Result<Option<Served>, ApiError> {
        Ok(match &d.cert {
            DomainCert::None => None,
            DomainCert::SeededUpload(i) => Some(Served {
                info: seeded_upload(inv, d, *i)?,
                cert_type: "upload",
                cert_id: None,
                cert_region: "",
            }),
            DomainCert::SeededCas(k) => {
                let r = ssl::seeded_repo_cert(inv, *k)?;
                Some(Served {
                    info: r.info,
                    cert_type: "cas",
                    cert_id: Some(r.id),
                    cert_region: r.site,
                })
            }
            DomainCert::Uploaded(info) => Some(Served {
                info: Arc::clone(info),
                cert_type: "upload",
                cert_id: None,
                cert_region: "",
            }),
            DomainCert::Cas(r) => Some(Served {
                info: Arc::clone(&r.info),
                cert_type: "cas",
                cert_id: Some(r.id),
                cert_region: r.site,
            }),
        })
    }

    fn list(&self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let page = page_param(params, "PageNumber", 1, 1..=100_000)? as usize;
        let size = page_param(params, "PageSize", 20, 1..=500)? as usize;
        let name = optional(params, "DomainName");
        let search = optional(params, "DomainSearchType").unwrap_or("full_match");
        if !matches!(
            search,
            "fuzzy_match" | "pre_match" | "suf_match" | "full_match"
        ) {
            return Err(ApiError::invalid_parameter(
                "DomainSearchType",
                "Valid values: fuzzy_match, pre_match, suf_match, full_match.",
            ));
        }
        let status = optional(params, "DomainStatus");
        let check_show = matches!(
            optional(params, "CheckDomainShow")
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("true")
        );
        let types: Option<Vec<&str>> =
            optional(params, "CdnType").map(|t| t.split(',').map(str::trim).collect());
        let matching: Vec<&Domain> = self
            .domains
            .iter()
            .filter(|d| {
                let name_ok = match name {
                    None => true,
                    Some(n) => match search {
                        "pre_match" => d.name.starts_with(n),
                        "suf_match" => d.name.ends_with(n),
                        "fuzzy_match" => d.name.contains(n),
                        _ => d.name == n,
                    },
                };
                let shown = check_show || !CHECK_STATUSES.contains(&d.status);
                name_ok
                    && shown
                    && status.is_none_or(|s| d.status == s)
                    && types.as_ref().is_none_or(|t| t.contains(&d.cdn_type))
            })
            .collect();
        let items: Vec<Value> = matching
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|d| {
                json!({
                    "DomainName": d.name,
                    "DomainId": d.id,
                    "Cname": format!("{}.w.kunlunsl.com", d.name),
                    "CdnType": d.cdn_type,
                    "Coverage": d.coverage,
                    "DomainStatus": d.status,
                    "GmtCreated": iso(d.created),
                    "GmtModified": iso(d.modified),
                    "Description": "",
                    "ResourceGroupId": "rg-acfmcertdeskdemo",
                    "Sandbox": "normal",
                    "SslProtocol": on_off(d.ssl_on),
                    "Sources": {"Source": [{
                        "Content": format!("origin.{}", d.name),
                        "Port": 443,
                        "Priority": "20",
                        "Type": "domain",
                        "Weight": "10",
                    }]},
                })
            })
            .collect();
        Ok(object(json!({
            "PageNumber": page,
            "PageSize": size,
            "TotalCount": matching.len(),
            "Domains": {"PageData": items},
        })))
    }

    fn certificate_info(
        &self,
        inv: &Inventory,
        params: &Params,
    ) -> Result<Map<String, Value>, ApiError> {
        let d = &self.domains[self.domain(params)?];
        let info = match self.served(inv, d)? {
            // A domain that never had a certificate: HTTPS off, nothing else to say.
            None => json!({
                "DomainName": d.name,
                "ServerCertificateStatus": "off",
                "Status": "",
                "DomainCnameStatus": "ok",
            }),
            Some(s) => {
                let c = &s.info;
                let life_months = ((c.not_after - c.not_before).whole_days() + 15) / 30;
                json!({
                    "DomainName": d.name,
                    "CertName": d.cert_name,
                    "CertDomainName": c.common_name,
                    "CertId": s.cert_id.map(|id| id.to_string()).unwrap_or_default(),
                    "CertType": s.cert_type,
                    "CertRegion": s.cert_region,
                    "CertOrg": c.organization,
                    "CertLife": format!("{life_months} months"),
                    "CertStartTime": iso(c.not_before),
                    "CertExpireTime": iso(c.not_after),
                    "CertUpdateTime": iso(d.cert_updated),
                    "ServerCertificate": c.pem,
                    "ServerCertificateStatus": on_off(d.ssl_on),
                    "Status": "success",
                    "DomainCnameStatus": "ok",
                })
            }
        };
        Ok(object(json!({"CertInfos": {"CertInfo": [info]}})))
    }

    fn set_certificate(
        &mut self,
        params: &Params,
        cas: Option<Result<RepoCert, ApiError>>,
    ) -> Result<Map<String, Value>, ApiError> {
        let n = self.domain(params)?;
        let on = match required(params, "SSLProtocol")? {
            "on" => true,
            "off" => false,
            _ => {
                return Err(ApiError::new(
                    400,
                    "InvalidSSLProtocol.ValueNotSupported",
                    "The specified value of SSLProtocol is not supported.",
                ));
            }
        };
        match self.domains[n].status {
            "online" => {}
            "configuring" => {
                return Err(ApiError::new(
                    403,
                    "ServiceBusy",
                    "The specified Domain is configuring, please retry later.",
                ));
            }
            other => {
                return Err(ApiError::new(
                    400,
                    "InvalidDomain.Offline",
                    format!("The domain is not online (status {other})."),
                ));
            }
        }
        let cert_name = optional(params, "CertName");
        if cert_name.is_some_and(|c| c.chars().count() > MAX_CERT_NAME) {
            return Err(ApiError::new(
                400,
                "InvalidCertName.TooLong",
                "The length of the certificate name cannot exceed 128 characters.",
            ));
        }
        let now = OffsetDateTime::now_utc();
        if !on {
            // Off keeps the certificate configured, so on (without one) brings it back.
            let d = &mut self.domains[n];
            d.ssl_on = false;
            d.modified = now;
            return Ok(Map::new());
        }
        let cert_type = optional(params, "CertType");
        let kind = match cert_type {
            Some("upload") => "upload",
            Some("cas") => "cas",
            // `free` is not in the 9.2.0 SDK's list (unconfirmed): the simulator refuses it.
            Some(_) => {
                return Err(ApiError::invalid_parameter(
                    "CertType",
                    "Valid values: upload, cas.",
                ));
            }
            // Which parameters each type needs is unconfirmed: without a type, a certificate
            // body means upload, a CertId means cas, and neither re-enables the configured one.
            None if optional(params, "SSLPub").is_some() => "upload",
            None if optional(params, "CertId").is_some() => "cas",
            None => "current",
        };
        let (cert, default_name) = match kind {
            "upload" => {
                let info = check_uploaded_pair(
                    optional(params, "SSLPub"),
                    "SSLPub",
                    optional(params, "SSLPri"),
                    "SSLPri",
                )?;
                let name = format!("{}-{}", info.common_name, now.unix_timestamp());
                (DomainCert::Uploaded(Arc::new(info)), name)
            }
            "cas" => {
                required(params, "CertId")?;
                let repo = cas.ok_or_else(|| ApiError::missing_parameter("CertId"))??;
                let name = repo.name.clone();
                (DomainCert::Cas(repo), name)
            }
            _ => {
                if matches!(self.domains[n].cert, DomainCert::None) {
                    return Err(ApiError::new(
                        400,
                        "SSLPub.MissingParameter",
                        "The SSLPub parameter is required when SSLProtocol is on.",
                    ));
                }
                let d = &mut self.domains[n];
                d.ssl_on = true;
                d.modified = now;
                return Ok(Map::new());
            }
        };
        let d = &mut self.domains[n];
        d.cert_name = cert_name.map(str::to_string).unwrap_or(default_name);
        d.cert = cert;
        d.cert_updated = now;
        d.ssl_on = true;
        d.modified = now;
        Ok(Map::new())
    }
}

/// The seeded uploaded certificate of domain `d` (index `i`): one about to expire (domain 2), one
/// expired (domain 7), the others valid for months.
fn seeded_upload(inv: &Inventory, d: &Domain, i: u64) -> Result<Arc<CertInfo>, ApiError> {
    let h = data::mix(inv.seed, "cdn-cert", i);
    let left = match i {
        2 => 9,
        7 => -3,
        _ => ((h >> 8) % 400) as i64 + 20,
    };
    let not_after = inv.anchor + Duration::days(left) + Duration::hours((h % 24) as i64);
    inv.issue_cached(&format!("cdn/{i}"), &inv.vod_ca, || CertSpec {
        subject: vec![
            (DnType::CountryName, "CN".into()),
            (DnType::OrganizationName, "certdesk demo".into()),
            (DnType::CommonName, d.name.clone()),
        ],
        serial: data::serial(inv.seed, "cdn", i),
        not_before: not_after - Duration::days([90, 365][(h >> 20) as usize % 2]),
        not_after,
        dns_names: vec![d.name.clone()],
        is_ca: false,
        client_auth: false,
        server_auth: true,
    })
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

//! ApsaraVideo VOD 2017-03-21 domain certificates (alibaba.md §3.3): DescribeVodUserDomains,
//! DescribeVodDomainCertificateInfo, SetVodDomainCertificate, SetVodDomainSSLCertificate (the
//! newer sibling that also takes a certificate of the SSL certificate repository, `CertType=cas`),
//! DescribeVodDomainDetail — with the XML-style wrappers (`Domains.PageData`,
//! `CertInfos.CertInfo`, `Sources.Source`) and the documented errors of
//! SetVodDomain(SSL)Certificate. Uploaded certificates are parsed and their public key compared
//! with the private key's; a repository certificate is the one the caller resolved from the
//! repository (`RepoCert`), as for CDN.

use super::VodSslState;
use super::data::{self, Inventory, Params, iso, object, optional, page_param, required};
use super::deploy::{Deployment, RepoCert, SSL_SITES, check_uploaded_pair};
use super::errors::ApiError;
use super::pki::{CertInfo, CertSpec, EcKey};
use rcgen::DnType;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

enum CertBody {
    Seeded(u64),
    Uploaded(Arc<CertInfo>),
    /// A repository certificate set through SetVodDomainSSLCertificate.
    Cas(RepoCert),
}

struct Domain {
    index: u64,
    name: String,
    status: &'static str,
    created: OffsetDateTime,
    modified: OffsetDateTime,
    ssl_on: bool,
    cert_name: String,
    cert_type: &'static str,
    cert_updated: OffsetDateTime,
    body: CertBody,
}

/// VOD accelerated domains.
pub(crate) struct VodState {
    domains: Vec<Domain>,
    by_name: HashMap<String, usize>,
}

const WORDS: [&str; 6] = ["video", "media", "vod", "stream", "cdn", "play"];
/// Longest CertName VOD accepts.
const MAX_CERT_NAME: usize = 128;

impl VodState {
    pub(crate) fn new(inv: &Inventory) -> VodState {
        let domains: Vec<Domain> = (0..inv.counts.vod as u64)
            .map(|i| seeded_domain(inv, i))
            .collect();
        let by_name = domains
            .iter()
            .enumerate()
            .map(|(n, d)| (d.name.clone(), n))
            .collect();
        VodState { domains, by_name }
    }

    /// The domains that serve a certificate of the SSL certificate repository (seeded `cas`
    /// domains and those set with `CertType=cas`; an upload makes a domain `upload`).
    pub(crate) fn deployments(&self) -> Vec<Deployment> {
        self.domains
            .iter()
            .filter_map(|d| {
                let (cert_id, cert_site) = match &d.body {
                    CertBody::Seeded(i) if d.cert_type == "cas" => (cas_cert_id(*i), SSL_SITES[0]),
                    CertBody::Cas(r) => (r.id, r.site),
                    _ => return None,
                };
                Some(Deployment {
                    cert_id,
                    cert_site,
                    product: "VOD",
                    resource_id: 2_000_000 + d.index as i64,
                    domain: d.name.clone(),
                    region: "cn-shanghai".into(),
                    https: d.ssl_on,
                    since: d.cert_updated,
                })
            })
            .collect()
    }

    /// Every domain as (name, `on`/`off`, certificate expiry), for tests.
    pub(crate) fn listing(&self, inv: &Inventory) -> Vec<(String, String, Option<OffsetDateTime>)> {
        self.domains
            .iter()
            .map(|d| {
                let not_after = self.cert(inv, d).ok().map(|c| c.not_after);
                (d.name.clone(), on_off(d.ssl_on).to_string(), not_after)
            })
            .collect()
    }

    pub(crate) fn ssl(&self, inv: &Inventory, domain: &str) -> Option<VodSslState> {
        let d = &self.domains[*self.by_name.get(domain)?];
        let cert = self.cert(inv, d).ok()?;
        Some(VodSslState {
            ssl_protocol: on_off(d.ssl_on).to_string(),
            cert_name: d.cert_name.clone(),
            cert_common_name: cert.common_name.clone(),
            cert_type: d.cert_type.to_string(),
            cert_expire_time: iso(cert.not_after),
        })
    }

    /// Runs one VOD action. `cas` is the repository certificate a SetVodDomainSSLCertificate
    /// with `CertType=cas` names, as the caller resolved it (`None` when the request names none).
    pub(crate) fn handle(
        &mut self,
        inv: &Inventory,
        action: &str,
        params: &Params,
        cas: Option<Result<RepoCert, ApiError>>,
    ) -> Result<Map<String, Value>, ApiError> {
        match action {
            "DescribeVodUserDomains" => self.list(params),
            "DescribeVodDomainCertificateInfo" => {
                let d = &self.domains[self.domain(params)?];
                let cert = self.cert(inv, d)?;
                let life_months = ((cert.not_after - cert.not_before).whole_days() + 15) / 30;
                let (cert_id, cert_region) = match &d.body {
                    CertBody::Cas(r) => (r.id.to_string(), r.site),
                    _ if d.cert_type == "cas" => (cas_cert_id(d.index).to_string(), SSL_SITES[0]),
                    _ => (String::new(), SSL_SITES[0]),
                };
                let info = json!({
                    "DomainName": d.name,
                    "CertName": d.cert_name,
                    "CertDomainName": cert.common_name,
                    "CertExpireTime": iso(cert.not_after),
                    "CertStartTime": iso(cert.not_before),
                    "CertUpdateTime": iso(d.cert_updated),
                    "CertLife": format!("{life_months} months"),
                    "CertOrg": cert.organization,
                    "CertType": d.cert_type,
                    "CertRegion": cert_region,
                    "CertId": cert_id,
                    "ServerCertificateStatus": on_off(d.ssl_on),
                    "ServerCertificate": cert.pem,
                    "Status": "success",
                    "DomainCnameStatus": "ok",
                });
                Ok(object(json!({"CertInfos": {"CertInfo": [info]}})))
            }
            "DescribeVodDomainDetail" => {
                let d = &self.domains[self.domain(params)?];
                let cert = self.cert(inv, d)?;
                Ok(object(json!({"DomainDetail": {
                    "CertName": d.cert_name,
                    "SSLProtocol": on_off(d.ssl_on),
                    "SSLPub": if d.ssl_on { cert.pem.clone() } else { String::new() },
                    "DomainName": d.name,
                    "DomainStatus": d.status,
                    "Cname": cname(&d.name),
                    "Scope": "domestic",
                    "GmtCreated": iso(d.created),
                    "GmtModified": iso(d.modified),
                    "Description": "",
                    "Weight": "1",
                    "Sources": sources(&d.name),
                }})))
            }
            "SetVodDomainCertificate" => self.set_certificate(params),
            "SetVodDomainSSLCertificate" => self.set_ssl_certificate(params, cas),
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

    fn cert(&self, inv: &Inventory, d: &Domain) -> Result<Arc<CertInfo>, ApiError> {
        match &d.body {
            CertBody::Uploaded(info) => Ok(Arc::clone(info)),
            CertBody::Cas(r) => Ok(Arc::clone(&r.info)),
            CertBody::Seeded(i) => seeded_cert(inv, d, *i),
        }
    }

    fn list(&self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let page = page_param(params, "PageNumber", 1, 1..=100_000)? as usize;
        let size = page_param(params, "PageSize", 20, 1..=50)? as usize;
        let name = optional(params, "DomainName");
        let search = optional(params, "DomainSearchType").unwrap_or("fuzzy_match");
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
        let matching: Vec<&Domain> = self
            .domains
            .iter()
            .filter(|d| {
                let name_ok = match name {
                    None => true,
                    Some(n) => match search {
                        "pre_match" => d.name.starts_with(n),
                        "suf_match" => d.name.ends_with(n),
                        "full_match" => d.name == n,
                        _ => d.name.contains(n),
                    },
                };
                name_ok && status.is_none_or(|s| d.status == s)
            })
            .collect();
        let items: Vec<Value> = matching
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|d| {
                json!({
                    "DomainName": d.name,
                    "Cname": cname(&d.name),
                    "DomainStatus": d.status,
                    "GmtCreated": iso(d.created),
                    "GmtModified": iso(d.modified),
                    "Description": "",
                    "SslProtocol": on_off(d.ssl_on),
                    "Sandbox": "normal",
                    "Sources": sources(&d.name),
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

    /// SetVodDomainSSLCertificate: as SetVodDomainCertificate, plus `CertType` (`upload` with
    /// SSLPub/SSLPri, `cas` with CertId and CertRegion). Without a type, a certificate body means
    /// upload and a CertId means cas (unconfirmed; CDN's sibling is treated the same way).
    fn set_ssl_certificate(
        &mut self,
        params: &Params,
        cas: Option<Result<RepoCert, ApiError>>,
    ) -> Result<Map<String, Value>, ApiError> {
        let n = self.domain(params)?;
        let on = ssl_protocol(params)?;
        let cert_name = cert_name_param(params)?;
        let now = OffsetDateTime::now_utc();
        if !on {
            let d = &mut self.domains[n];
            d.ssl_on = false;
            d.modified = now;
            return Ok(Map::new());
        }
        let kind = match optional(params, "CertType") {
            Some("upload") => "upload",
            Some("cas") => "cas",
            Some(_) => {
                return Err(ApiError::invalid_parameter(
                    "CertType",
                    "Valid values: upload, cas.",
                ));
            }
            None if optional(params, "CertId").is_some()
                && optional(params, "SSLPub").is_none() =>
            {
                "cas"
            }
            None => "upload",
        };
        let (body, default_name) = if kind == "cas" {
            required(params, "CertId")?;
            let repo = cas.ok_or_else(|| ApiError::missing_parameter("CertId"))??;
            let name = repo.name.clone();
            (CertBody::Cas(repo), name)
        } else {
            let info = check_uploaded_pair(
                optional(params, "SSLPub"),
                "SSLPub",
                optional(params, "SSLPri"),
                "SSLPri",
            )?;
            let name = format!("{}-{}", info.common_name, now.unix_timestamp());
            (CertBody::Uploaded(Arc::new(info)), name)
        };
        let d = &mut self.domains[n];
        d.cert_name = cert_name.map(str::to_string).unwrap_or(default_name);
        d.cert_type = kind;
        d.cert_updated = now;
        d.body = body;
        d.ssl_on = true;
        d.modified = now;
        Ok(Map::new())
    }

    fn set_certificate(&mut self, params: &Params) -> Result<Map<String, Value>, ApiError> {
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
            let d = &mut self.domains[n];
            d.ssl_on = false;
            d.modified = now;
            return Ok(Map::new());
        }
        let info = check_uploaded_pair(
            optional(params, "SSLPub"),
            "SSLPub",
            optional(params, "SSLPri"),
            "SSLPri",
        )?;
        let d = &mut self.domains[n];
        d.cert_name = match cert_name {
            Some(c) => c.to_string(),
            None => format!("{}-{}", info.common_name, now.unix_timestamp()),
        };
        d.cert_type = "upload";
        d.cert_updated = now;
        d.body = CertBody::Uploaded(Arc::new(info));
        d.ssl_on = true;
        d.modified = now;
        Ok(Map::new())
    }
}

/// Seeded domain `i` (a pure function of the inventory and `i`).
fn seeded_domain(inv: &Inventory, i: u64) -> Domain {
    let h = data::mix(inv.seed, "vod", i);
    let word = WORDS[i as usize % WORDS.len()];
    let name = if (i as usize) < WORDS.len() {
        format!("{word}.{}", inv.domain("certdesk-demo.com"))
    } else {
        format!("{word}{i}.{}", inv.domain("certdesk-demo.com"))
    };
    let created = inv.anchor - Duration::days((h % 800) as i64 + 40);
    let cert_updated = inv.anchor - Duration::days(((h >> 12) % 300) as i64 + 1);
    Domain {
        index: i,
        name,
        status: match i {
            0 | 1 => "online",
            _ if (h >> 8).is_multiple_of(10) => "offline",
            _ => "online",
        },
        created,
        modified: cert_updated,
        // Domain 0 serves HTTPS, domain 1 does not (tests rely on both).
        ssl_on: i == 0 || (i != 1 && !(h >> 4).is_multiple_of(4)),
        cert_name: format!("cert-{word}-{i}"),
        cert_type: ["cas", "upload", "free"][(h >> 20) as usize % 3],
        cert_updated,
        body: CertBody::Seeded(i),
    }
}

/// The repository `CertId` of seeded `cas` domain `i`.
fn cas_cert_id(i: u64) -> i64 {
    10_000_000 + i as i64
}

/// The seeded certificate of domain `d` (seeded index `i`).
fn seeded_cert(inv: &Inventory, d: &Domain, i: u64) -> Result<Arc<CertInfo>, ApiError> {
    let h = data::mix(inv.seed, "vod-cert", i);
    let not_before = d.cert_updated - Duration::days((h % 30) as i64);
    inv.issue_cached(&cert_key(i), &inv.vod_ca, || CertSpec {
        subject: vec![
            (DnType::CountryName, "CN".into()),
            (DnType::OrganizationName, "certdesk demo".into()),
            (DnType::CommonName, d.name.clone()),
        ],
        serial: data::serial(inv.seed, "vod", i),
        not_before,
        not_after: not_before + Duration::days([90, 365, 397][(h >> 8) as usize % 3]),
        dns_names: vec![d.name.clone()],
        is_ca: false,
        client_auth: false,
        server_auth: true,
    })
}

/// The certificate-cache key (and key-derivation label) of seeded domain `i`.
fn cert_key(i: u64) -> String {
    format!("vod/{i}")
}

/// A seeded VOD certificate bought in the SSL certificate repository: what the repository lists
/// for each seeded `cas` domain, so the `CertId` VOD reports exists there.
pub(crate) struct SeededCasCert {
    /// Repository `CertId`.
    pub id: i64,
    /// Repository name (VOD's `CertName`).
    pub name: String,
    /// The domain's seeded index.
    pub index: u64,
}

/// Every seeded `cas` domain's certificate (a pure function of the inventory: the repository lists
/// them even when VOD was never called).
pub(crate) fn seeded_cas_certs(inv: &Inventory) -> Vec<SeededCasCert> {
    (0..inv.counts.vod as u64)
        .map(|i| seeded_domain(inv, i))
        .filter(|d| d.cert_type == "cas")
        .map(|d| SeededCasCert {
            id: cas_cert_id(d.index),
            name: d.cert_name,
            index: d.index,
        })
        .collect()
}

/// The certificate and private key (PEM) of seeded domain `index`.
pub(crate) fn seeded_cas_cert(
    inv: &Inventory,
    index: u64,
) -> Result<(Arc<CertInfo>, EcKey), ApiError> {
    let d = seeded_domain(inv, index);
    Ok((seeded_cert(inv, &d, index)?, inv.key_for(&cert_key(index))))
}

/// `SSLProtocol`: `on` or `off`.
fn ssl_protocol(params: &Params) -> Result<bool, ApiError> {
    match required(params, "SSLProtocol")? {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(ApiError::new(
            400,
            "InvalidSSLProtocol.ValueNotSupported",
            "The specified value of SSLProtocol is not supported.",
        )),
    }
}

/// `CertName`, at most [`MAX_CERT_NAME`] characters.
fn cert_name_param(params: &Params) -> Result<Option<&str>, ApiError> {
    let name = optional(params, "CertName");
    if name.is_some_and(|c| c.chars().count() > MAX_CERT_NAME) {
        return Err(ApiError::new(
            400,
            "InvalidCertName.TooLong",
            "The length of the certificate name cannot exceed 128 characters.",
        ));
    }
    Ok(name)
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn cname(domain: &str) -> String {
    format!("{domain}.w.alikunlun.com")
}

fn sources(domain: &str) -> Value {
    json!({"Source": [{
        "Content": format!("origin.{domain}"),
        "Port": 80,
        "Priority": "20",
        "Type": "domain",
    }]})
}

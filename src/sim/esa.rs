//! Edge Security Acceleration 2024-09-10 (alibaba.md §3.4): ListSites, GetSite,
//! ListClientCertificates, GetClientCertificate, RevokeClientCertificate,
//! ActivateClientCertificate, DeleteClientCertificate. `SiteId` is an int64 JSON number; client
//! certificates are `active` or `revoked`; only revoked ones can be deleted.

use super::data::{self, Inventory, Params, object, optional, page_param, spaced};
use super::errors::ApiError;
use super::pki::{CertInfo, CertSpec};
use rcgen::DnType;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

struct Site {
    id: i64,
    name: String,
    status: &'static str,
    access_type: &'static str,
    coverage: &'static str,
    plan: &'static str,
    created: OffsetDateTime,
    certs: Vec<ClientCert>,
}

struct ClientCert {
    id: String,
    index: u64,
    common_name: String,
    revoked: bool,
    deleted: bool,
    created: OffsetDateTime,
    updated: OffsetDateTime,
    not_after: OffsetDateTime,
}

/// ESA sites and their client certificates.
pub(crate) struct EsaState {
    sites: Vec<Site>,
    site_by_id: HashMap<i64, usize>,
    ca_id: String,
}

const SITE_WORDS: [&str; 8] = [
    "shop", "api", "media", "docs", "iot", "pay", "static", "portal",
];

impl EsaState {
    pub(crate) fn new(inv: &Inventory) -> EsaState {
        let mut sites = Vec::with_capacity(inv.counts.esa_sites);
        let mut global = 0u64;
        for s in 0..inv.counts.esa_sites as u64 {
            let h = data::mix(inv.seed, "esa-site", s);
            let word = SITE_WORDS[s as usize % SITE_WORDS.len()];
            let name = if (s as usize) < SITE_WORDS.len() {
                format!("{word}.{}", inv.domain("certdesk-demo.com"))
            } else {
                format!("{word}{s}.{}", inv.domain("certdesk-demo.com"))
            };
            let created = inv.anchor - Duration::days((h % 900) as i64 + 30);
            let mut certs = Vec::with_capacity(inv.counts.esa_per_site);
            for c in 0..inv.counts.esa_per_site as u64 {
                let ch = data::mix(inv.seed, "esa-cert", global);
                let issued = created + Duration::days((ch % 25) as i64 + c as i64 % 5);
                certs.push(ClientCert {
                    id: data::hex_digits(inv.seed, "esa-cert-id", global, 32),
                    index: global,
                    common_name: format!("client-{c:04}.{name}"),
                    // Certificate 1 of every site is revoked, plus ~10% at random.
                    revoked: c == 1 || (c > 1 && (ch >> 8).is_multiple_of(10)),
                    deleted: false,
                    created: issued,
                    updated: issued,
                    not_after: issued + Duration::days([365, 730, 3650][(ch >> 20) as usize % 3]),
                });
                global += 1;
            }
            sites.push(Site {
                // Spaced further apart than the random part, so ids never collide.
                id: 7_000_000_000_000 + s as i64 * 104_729 + (h % 1000) as i64,
                name,
                status: match (h >> 12) % 10 {
                    _ if s == 0 => "active",
                    0 => "pending",
                    1 => "offline",
                    _ => "active",
                },
                access_type: if (h >> 16).is_multiple_of(3) {
                    "CNAME"
                } else {
                    "NS"
                },
                coverage: ["domestic", "global", "overseas"][(h >> 20) as usize % 3],
                plan: ["basic", "standard", "enterprise"][(h >> 24) as usize % 3],
                created,
                certs,
            });
        }
        let site_by_id = sites.iter().enumerate().map(|(n, s)| (s.id, n)).collect();
        EsaState {
            sites,
            site_by_id,
            ca_id: data::hex_digits(inv.seed, "esa-ca", 0, 32),
        }
    }

    /// Every client certificate not deleted as (site, id, status, expiry), for tests.
    pub(crate) fn listing(&self) -> Vec<(i64, String, String, Option<OffsetDateTime>)> {
        self.sites
            .iter()
            .flat_map(|s| {
                s.certs.iter().filter(|c| !c.deleted).map(|c| {
                    (
                        s.id,
                        c.id.clone(),
                        status_of(c).to_string(),
                        Some(c.not_after),
                    )
                })
            })
            .collect()
    }

    pub(crate) fn status(&self, site_id: i64, id: &str) -> Option<String> {
        let site = &self.sites[*self.site_by_id.get(&site_id)?];
        site.certs
            .iter()
            .find(|c| c.id == id && !c.deleted)
            .map(|c| status_of(c).to_string())
    }

    /// Runs one ESA action.
    pub(crate) fn handle(
        &mut self,
        inv: &Inventory,
        action: &str,
        params: &Params,
    ) -> Result<Map<String, Value>, ApiError> {
        match action {
            "ListSites" => self.list_sites(params),
            "GetSite" => {
                let site = &self.sites[self.site(params)?];
                let mut model = site_json(site);
                model.insert("VanityNSList".into(), json!({}));
                model.insert("VersionManagement".into(), json!(false));
                Ok(object(json!({"SiteModel": model})))
            }
            "ListClientCertificates" => self.list_certs(inv, params),
            "GetClientCertificate" => {
                let (s, c) = self.cert_position(params)?;
                let site = &self.sites[s];
                let cert = &site.certs[c];
                let info = self.generate(inv, site, cert)?;
                Ok(object(json!({
                    "SiteId": site.id,
                    "SiteName": site.name,
                    "Status": status_of(cert),
                    "Certificate": info.pem,
                    "Result": self.result(site, cert, &info),
                })))
            }
            "RevokeClientCertificate" => self.change(params, |cert| {
                if cert.revoked {
                    return Err(ApiError::certificate_status_error());
                }
                cert.revoked = true;
                Ok(())
            }),
            "ActivateClientCertificate" => self.change(params, |cert| {
                if !cert.revoked {
                    return Err(ApiError::certificate_status_error());
                }
                cert.revoked = false;
                Ok(())
            }),
            "DeleteClientCertificate" => self.change(params, |cert| {
                if !cert.revoked {
                    return Err(ApiError::certificate_status_error());
                }
                cert.deleted = true;
                Ok(())
            }),
            _ => Err(ApiError::unknown_action()),
        }
    }

    fn site(&self, params: &Params) -> Result<usize, ApiError> {
        let raw = optional(params, "SiteId").ok_or_else(|| {
            ApiError::new(
                400,
                "MissingSiteId",
                "Required parameter SiteId missing. Please check your request.",
            )
        })?;
        let id: i64 = raw
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid_parameter("SiteId", "It must be an integer."))?;
        // Not in the docs: the simulator answers an unknown site like an unknown resource.
        self.site_by_id.get(&id).copied().ok_or_else(|| {
            ApiError::new(404, "Site.NotFound", "The specified site does not exist.")
        })
    }

    fn cert_position(&self, params: &Params) -> Result<(usize, usize), ApiError> {
        let s = self.site(params)?;
        let id = optional(params, "Id").ok_or_else(|| {
            ApiError::new(400, "Id.MissingParameter", "The parameter Id is required.")
        })?;
        // The docs list Certificate.NotFound without its HTTP status; 404 is the simulator's choice.
        let c = self.sites[s]
            .certs
            .iter()
            .position(|c| c.id == id && !c.deleted)
            .ok_or_else(ApiError::certificate_not_found)?;
        Ok((s, c))
    }

    fn change(
        &mut self,
        params: &Params,
        apply: impl FnOnce(&mut ClientCert) -> Result<(), ApiError>,
    ) -> Result<Map<String, Value>, ApiError> {
        let (s, c) = self.cert_position(params)?;
        let site = &mut self.sites[s];
        let cert = &mut site.certs[c];
        apply(cert)?;
        cert.updated = OffsetDateTime::now_utc();
        Ok(object(json!({
            "SiteId": site.id,
            "SiteName": site.name,
            "Id": cert.id,
        })))
    }

    fn generate(
        &self,
        inv: &Inventory,
        site: &Site,
        cert: &ClientCert,
    ) -> Result<Arc<CertInfo>, ApiError> {
        inv.issue_cached(&format!("esa/{}", cert.index), &inv.esa_ca, || CertSpec {
            subject: vec![
                (DnType::CountryName, "CN".into()),
                (DnType::OrganizationName, site.name.clone()),
                (DnType::CommonName, cert.common_name.clone()),
            ],
            serial: data::serial(inv.seed, "esa", cert.index),
            not_before: cert.created,
            not_after: cert.not_after,
            dns_names: Vec::new(),
            is_ca: false,
            client_auth: true,
            server_auth: false,
        })
    }

    fn result(&self, site: &Site, cert: &ClientCert, info: &CertInfo) -> Value {
        let _ = site;
        json!({
            "Id": cert.id,
            "Name": cert.common_name,
            "CommonName": cert.common_name,
            "SerialNumber": info.serial.to_ascii_lowercase(),
            "Status": status_of(cert),
            // Undocumented values; ESA-issued client certificates are reported as "free" here.
            "Type": "free",
            "Issuer": info.issuer_dn,
            "CACertificateId": self.ca_id,
            "SAN": info.dns_names.join(","),
            "FingerprintSha256": info.sha256.to_ascii_lowercase(),
            "PubkeyAlgorithm": "ECDSA",
            "SignatureAlgorithm": "ECDSA-SHA256",
            "CreateTime": spaced(cert.created),
            "UpdateTime": spaced(cert.updated),
            "NotBefore": spaced(info.not_before),
            "NotAfter": spaced(info.not_after),
        })
    }

    fn list_certs(&self, inv: &Inventory, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let s = self.site(params)?;
        let page = page_param(params, "PageNumber", 1, 1..=i64::from(i32::MAX))? as usize;
        // Max page size is not documented; 500 like ListSites.
        let size = page_param(params, "PageSize", 20, 1..=500)? as usize;
        let site = &self.sites[s];
        let live: Vec<&ClientCert> = site.certs.iter().filter(|c| !c.deleted).collect();
        let items = live
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|c| {
                let info = self.generate(inv, site, c)?;
                Ok(self.result(site, c, &info))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(object(json!({
            "SiteId": site.id,
            "SiteName": site.name,
            "PageNumber": page,
            "PageSize": size,
            "TotalCount": live.len(),
            "Result": items,
        })))
    }

    fn list_sites(&self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let page = page_param(params, "PageNumber", 1, 1..=i64::from(i32::MAX))? as usize;
        // Doc range 1–500; the default is not documented (20 chosen).
        let size = page_param(params, "PageSize", 20, 1..=500)? as usize;
        let name = optional(params, "SiteName").map(str::to_ascii_lowercase);
        let search = optional(params, "SiteSearchType").unwrap_or("exact");
        if !matches!(search, "prefix" | "suffix" | "exact" | "fuzzy") {
            return Err(ApiError::invalid_parameter(
                "SiteSearchType",
                "Valid values: prefix, suffix, exact, fuzzy.",
            ));
        }
        let status = optional(params, "Status");
        let matching: Vec<&Site> = self
            .sites
            .iter()
            .filter(|site| {
                let name_ok = match &name {
                    None => true,
                    Some(n) => match search {
                        "prefix" => site.name.starts_with(n.as_str()),
                        "suffix" => site.name.ends_with(n.as_str()),
                        "fuzzy" => site.name.contains(n.as_str()),
                        _ => site.name == *n,
                    },
                };
                name_ok && status.is_none_or(|s| site.status == s)
            })
            .collect();
        let items: Vec<Value> = matching
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|s| Value::Object(site_json(s)))
            .collect();
        Ok(object(json!({
            "PageNumber": page,
            "PageSize": size,
            "TotalCount": matching.len(),
            "Sites": items,
        })))
    }
}

fn status_of(cert: &ClientCert) -> &'static str {
    if cert.revoked { "revoked" } else { "active" }
}

fn site_json(site: &Site) -> Map<String, Value> {
    let iso = data::iso;
    object(json!({
        "SiteId": site.id,
        "SiteName": site.name,
        "Status": site.status,
        "AccessType": site.access_type,
        "Coverage": site.coverage,
        "CnameZone": if site.access_type == "CNAME" { format!("{}.cname.esa-demo.example", site.name) } else { String::new() },
        "NameServerList": "ns1.esa-demo.example,ns2.esa-demo.example",
        "InstanceId": format!("esa-site-{}", site.id % 1_000_000),
        "PlanName": site.plan,
        "PlanSpecName": site.plan,
        "ResourceGroupId": "rg-acfmcertdeskdemo",
        "OfflineReason": if site.status == "offline" { "manual" } else { "" },
        "VerifyCode": format!("verify_{:x}", site.id),
        "CreateTime": iso(site.created),
        "UpdateTime": iso(site.created + Duration::days(3)),
        "VisitTime": iso(site.created + Duration::days(10)),
        "Tags": {},
    }))
}

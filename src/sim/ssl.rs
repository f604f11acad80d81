//! SSL Certificates Service, cas 2020-04-07 (alibaba-cdn-cas-sts.md §3.2): one account's
//! certificate repository at one site (China `cn-hangzhou` or international `ap-southeast-1`):
//! ListUserCertificateOrder, GetUserCertificateDetail, UploadUserCertificate,
//! DeleteUserCertificate, ListCloudResources.
//!
//! Seeded with real certificates: wildcards that cover the CDN demo domains (one valid, one about
//! to expire), an expired one, one for another domain, then a mix; at the China site also the
//! certificates VOD's seeded `cas` domains serve (so every `CertId` VOD reports exists here).
//! Uploads are parsed and their key checked; a certificate that a domain deploys cannot be
//! deleted. Where certificates are deployed is told by the caller (from CDN and VOD): this module
//! knows nothing of those services' state, only the pure seeding of VOD's certificates.
//!
//! The contract documents no error code, status value, unit or maximum for these operations
//! ("unconfirmed"); the simulator's choices are listed in `docs/simulator.md` and marked below.

use super::data::{self, Inventory, Params, object, optional, page_param, required};
use super::deploy::{Deployment, RepoCert, SSL_SITES, check_uploaded_pair};
use super::errors::ApiError;
use super::pki::{CertInfo, CertSpec};
use super::vod;
use crate::credentials::Secret;
use rcgen::DnType;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

/// Certificates expiring within this many days are `WILLEXPIRED` (the threshold is not documented;
/// 30 days is the console's "about to expire").
const WILL_EXPIRE_DAYS: i64 = 30;
/// Longest certificate name (documented: ≤ 63 characters).
const MAX_NAME: usize = 63;
const RESOURCE_GROUP: &str = "rg-acfmcertdeskdemo";

enum Body {
    /// Seeded repository certificate `k`.
    Seeded(u64),
    /// The certificate of VOD's seeded domain `index` (China site only).
    Vod(u64),
    /// Uploaded by a client, with its private key.
    Uploaded { info: Arc<CertInfo>, key: Secret },
}

struct Entry {
    id: i64,
    name: String,
    body: Body,
    /// `Upload` (uploaded by the user) rather than bought/issued.
    upload: bool,
    created: OffsetDateTime,
    /// Dates of seeded rows, known without generating the certificate (listing filters on them).
    validity: (OffsetDateTime, OffsetDateTime),
    /// DNS names of seeded rows (Keyword filter without generating).
    names: Vec<String>,
    instance_id: String,
}

/// One account's repository at one site.
pub(crate) struct SslState {
    site: &'static str,
    entries: Vec<Entry>,
    by_id: HashMap<i64, usize>,
    names: HashSet<String>,
    next_id: i64,
    /// `ClientToken` → the answer given, per action (idempotent retries).
    tokens: HashMap<(String, String), Map<String, Value>>,
    account_id: i64,
}

/// What a seeded repository certificate looks like (a pure function of the inventory and `k`).
struct Seed {
    name: String,
    spec: CertSpec,
    upload: bool,
}

const WORDS: [&str; 6] = ["shop", "blog", "pay", "mail", "login", "news"];

/// The repository site an inventory's region hosts.
pub(crate) fn site_of(inv: &Inventory) -> &'static str {
    if inv.place.region == SSL_SITES[1] {
        SSL_SITES[1]
    } else {
        SSL_SITES[0]
    }
}

fn id_base(site: &str) -> i64 {
    if site == SSL_SITES[1] {
        52_000_000
    } else {
        12_000_000
    }
}

fn seed(inv: &Inventory, k: u64) -> Seed {
    let zone = inv.domain("certdesk-demo.net");
    let h = data::mix(inv.seed, "ssl", k);
    let wildcard = vec![format!("*.{zone}"), zone.clone()];
    // (common name, names, days until expiry from the anchor, validity in days, uploaded)
    let (cn, names, left, days, upload) = match k {
        0 => (format!("*.{zone}"), wildcard, 300, 365, false),
        1 => (format!("*.{zone}"), wildcard, 12, 90, true),
        2 => {
            let www = format!("www.{zone}");
            (www.clone(), vec![www], -5, 90, true)
        }
        3 => {
            let other = format!("shop.{}", inv.domain("certdesk-partner.com"));
            (other.clone(), vec![other], 200, 365, false)
        }
        _ => {
            let name = format!("{}{k}.{zone}", WORDS[k as usize % WORDS.len()]);
            let left = match h % 100 {
                0..10 => -(((h >> 8) % 60) as i64) - 1,
                10..25 => ((h >> 8) % 29) as i64 + 1,
                _ => ((h >> 8) % 600) as i64 + 31,
            };
            let days = [90, 365, 397][(h >> 20) as usize % 3];
            (
                name.clone(),
                vec![name],
                left,
                days,
                (h >> 30).is_multiple_of(2),
            )
        }
    };
    let not_after = inv.anchor + Duration::days(left) + Duration::hours(((h >> 40) % 24) as i64);
    let first_label = cn
        .trim_start_matches("*.")
        .split('.')
        .next()
        .unwrap_or("cert");
    let label = if cn.starts_with("*.") {
        "wildcard"
    } else {
        first_label
    };
    Seed {
        name: format!("demo-{k:03}-{label}"),
        spec: CertSpec {
            subject: vec![
                (DnType::CountryName, "CN".into()),
                (DnType::StateOrProvinceName, "Zhejiang".into()),
                (DnType::LocalityName, "Hangzhou".into()),
                (DnType::OrganizationName, "certdesk demo".into()),
                (DnType::CommonName, cn),
            ],
            serial: data::serial(inv.seed, "ssl", k),
            not_before: not_after - Duration::days(days),
            not_after,
            dns_names: names,
            is_ca: false,
            client_auth: false,
            server_auth: true,
        },
        upload,
    }
}

fn seed_key(k: u64) -> String {
    format!("ssl/{k}")
}

fn seeded_cert(inv: &Inventory, k: u64) -> Result<Arc<CertInfo>, ApiError> {
    inv.issue_cached(&seed_key(k), &inv.vod_ca, || seed(inv, k).spec)
}

/// The (CertId, site) of seeded repository certificate `k` of the inventory's site.
pub(crate) fn seeded_repo_cert_id(inv: &Inventory, k: u64) -> (i64, &'static str) {
    let site = site_of(inv);
    (id_base(site) + k as i64, site)
}

/// The repository name of seeded certificate `k`.
pub(crate) fn seeded_repo_cert_name(inv: &Inventory, k: u64) -> String {
    seed(inv, k).name
}

/// Seeded repository certificate `k` of the inventory's site, as CDN deploys it (CDN's seeded
/// `cas` domains use the certificates of the repository in the same region).
pub(crate) fn seeded_repo_cert(inv: &Inventory, k: u64) -> Result<RepoCert, ApiError> {
    let site = site_of(inv);
    Ok(RepoCert {
        id: id_base(site) + k as i64,
        name: seed(inv, k).name,
        site,
        info: seeded_cert(inv, k)?,
    })
}

fn date(t: OffsetDateTime) -> String {
    t.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn millis(t: OffsetDateTime) -> i64 {
    data::millis(t)
}

fn not_found(id: i64) -> ApiError {
    // Not documented for this API; 404 `Certificate.NotFound` as the simulator's other services.
    ApiError::new(
        404,
        "Certificate.NotFound",
        format!("The certificate {id} does not exist."),
    )
}

fn cert_id_param(params: &Params) -> Result<i64, ApiError> {
    required(params, "CertId")?
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::invalid_parameter("CertId", "It must be an integer."))
}

fn flag(params: &Params, name: &str) -> Result<bool, ApiError> {
    match optional(params, name)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid_parameter(
            name,
            "It must be true or false.",
        )),
    }
}

impl SslState {
    pub(crate) fn new(inv: &Inventory) -> SslState {
        let site = site_of(inv);
        let mut entries = Vec::new();
        for k in 0..inv.counts.ssl as u64 {
            let s = seed(inv, k);
            let created = s.spec.not_before - Duration::hours(1);
            entries.push(Entry {
                id: id_base(site) + k as i64,
                name: s.name,
                body: Body::Seeded(k),
                upload: s.upload,
                created,
                validity: (s.spec.not_before, s.spec.not_after),
                names: s.spec.dns_names,
                instance_id: format!("cas-cert-{}", data::hex_digits(inv.seed, "ssl-inst", k, 12)),
            });
        }
        if site == SSL_SITES[0] {
            // VOD's seeded `cas` domains serve certificates bought here. Their dates are known
            // only from the certificate, which is generated when first shown.
            for c in vod::seeded_cas_certs(inv) {
                entries.push(Entry {
                    id: c.id,
                    name: c.name,
                    body: Body::Vod(c.index),
                    upload: false,
                    created: inv.anchor - Duration::days(400),
                    validity: (inv.anchor, inv.anchor),
                    names: Vec::new(),
                    instance_id: format!(
                        "cas-cert-{}",
                        data::hex_digits(inv.seed, "ssl-vod", c.index, 12)
                    ),
                });
            }
        }
        let by_id = entries.iter().enumerate().map(|(n, e)| (e.id, n)).collect();
        let names = entries.iter().map(|e| e.name.clone()).collect();
        SslState {
            site,
            entries,
            by_id,
            names,
            next_id: if site == SSL_SITES[1] {
                70_000_000
            } else {
                30_000_000
            },
            tokens: HashMap::new(),
            account_id: inv.place.account_id.parse().unwrap_or_default(),
        }
    }

    /// Every certificate as (CertId, name, expiry), for tests.
    pub(crate) fn listing(&self, inv: &Inventory) -> Vec<(i64, String, Option<OffsetDateTime>)> {
        self.entries
            .iter()
            .map(|e| {
                let not_after = self.cert(inv, e).ok().map(|c| c.not_after);
                (e.id, e.name.clone(), not_after)
            })
            .collect()
    }

    fn cert(&self, inv: &Inventory, e: &Entry) -> Result<Arc<CertInfo>, ApiError> {
        match &e.body {
            Body::Seeded(k) => seeded_cert(inv, *k),
            Body::Vod(i) => vod::seeded_cas_cert(inv, *i).map(|(info, _)| info),
            Body::Uploaded { info, .. } => Ok(Arc::clone(info)),
        }
    }

    fn key_pem(&self, inv: &Inventory, e: &Entry) -> Result<String, ApiError> {
        let internal = |e: super::pki::PkiError| ApiError::new(500, "InternalError", e.to_string());
        match &e.body {
            Body::Seeded(k) => inv.key_for(&seed_key(*k)).private_pem().map_err(internal),
            Body::Vod(i) => vod::seeded_cas_cert(inv, *i)?
                .1
                .private_pem()
                .map_err(internal),
            Body::Uploaded { key, .. } => Ok(key.expose().to_string()),
        }
    }

    /// Validity and names without generating a certificate where the seed knows them.
    fn facts(
        &self,
        inv: &Inventory,
        e: &Entry,
    ) -> Result<(OffsetDateTime, OffsetDateTime, Vec<String>), ApiError> {
        match e.body {
            Body::Seeded(_) => Ok((e.validity.0, e.validity.1, e.names.clone())),
            _ => {
                let c = self.cert(inv, e)?;
                Ok((c.not_before, c.not_after, c.dns_names.clone()))
            }
        }
    }

    fn position(&self, id: i64) -> Result<usize, ApiError> {
        self.by_id.get(&id).copied().ok_or_else(|| not_found(id))
    }

    /// Certificate `id` as a domain would deploy it (`SetCdnDomainSSLCertificate` with
    /// `CertType=cas`).
    pub(crate) fn repo_cert(&self, inv: &Inventory, id: i64) -> Result<RepoCert, ApiError> {
        let e = &self.entries[self.position(id)?];
        Ok(RepoCert {
            id,
            name: e.name.clone(),
            site: self.site,
            info: self.cert(inv, e)?,
        })
    }

    /// Runs one action. `deployments` are the account's domains that deploy a certificate of
    /// this repository (read by ListCloudResources and DeleteUserCertificate).
    pub(crate) fn handle(
        &mut self,
        inv: &Inventory,
        action: &str,
        params: &Params,
        deployments: &[Deployment],
    ) -> Result<Map<String, Value>, ApiError> {
        match action {
            "ListUserCertificateOrder" => self.list(inv, params),
            "GetUserCertificateDetail" => self.detail(inv, params),
            "UploadUserCertificate" => self.idempotent(action, params, |s| s.upload(params)),
            "DeleteUserCertificate" => {
                self.idempotent(action, params, |s| s.delete(params, deployments))
            }
            "ListCloudResources" => self.cloud_resources(inv, params, deployments),
            _ => Err(ApiError::unknown_action()),
        }
    }

    /// Runs `op` once per `ClientToken`: a repeat of a token that succeeded gets the same answer
    /// and changes nothing (the documented purpose of the token).
    fn idempotent(
        &mut self,
        action: &str,
        params: &Params,
        op: impl FnOnce(&mut Self) -> Result<Map<String, Value>, ApiError>,
    ) -> Result<Map<String, Value>, ApiError> {
        let token = optional(params, "ClientToken").map(|t| (action.to_string(), t.to_string()));
        if let Some(t) = &token {
            if t.1.len() > 64 || !t.1.is_ascii() {
                return Err(ApiError::invalid_parameter(
                    "ClientToken",
                    "It must be at most 64 ASCII characters.",
                ));
            }
            if let Some(answer) = self.tokens.get(t) {
                return Ok(answer.clone());
            }
        }
        let answer = op(self)?;
        if let Some(t) = token {
            self.tokens.insert(t, answer.clone());
        }
        Ok(answer)
    }

    fn list(&self, inv: &Inventory, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let page = page_param(params, "CurrentPage", 1, 1..=i64::from(i32::MAX))? as usize;
        // Documented default 50; the maximum is not documented (1–1000 here).
        let size = page_param(params, "ShowSize", 50, 1..=1000)? as usize;
        let order_type = optional(params, "OrderType").unwrap_or("CPACK");
        let status = optional(params, "Status");
        if !matches!(order_type, "CPACK" | "BUY" | "UPLOAD" | "CERT") {
            return Err(ApiError::invalid_parameter(
                "OrderType",
                "Valid values: CPACK, BUY, UPLOAD, CERT.",
            ));
        }
        if let Some(s) = status
            && !matches!(
                s,
                "PAYED"
                    | "CHECKING"
                    | "CHECKED_FAIL"
                    | "NOTACTIVATED"
                    | "REVOKED"
                    | "ISSUED"
                    | "WILLEXPIRED"
                    | "EXPIRED"
            )
        {
            return Err(ApiError::invalid_parameter(
                "Status",
                "Valid values: PAYED, CHECKING, CHECKED_FAIL, NOTACTIVATED, REVOKED, ISSUED, WILLEXPIRED, EXPIRED.",
            ));
        }
        if matches!(order_type, "CPACK" | "BUY") {
            return Ok(self.orders(inv, order_type, page, size));
        }
        let keyword = optional(params, "Keyword").map(str::to_ascii_lowercase);
        let now = OffsetDateTime::now_utc();
        let mut matching: Vec<(&Entry, OffsetDateTime, OffsetDateTime)> = Vec::new();
        for e in &self.entries {
            if order_type == "UPLOAD" && !e.upload {
                continue;
            }
            let (not_before, not_after, names) = self.facts(inv, e)?;
            let expired = not_after <= now;
            let will_expire = !expired && not_after - now <= Duration::days(WILL_EXPIRE_DAYS);
            let status_ok = match status {
                // Documented: empty = the valid ones, issued and about to expire.
                None => !expired,
                Some("ISSUED") => !expired && !will_expire,
                Some("WILLEXPIRED") => will_expire,
                Some("EXPIRED") => expired,
                // CPACK/BUY-only states never match a certificate.
                Some(_) => false,
            };
            let keyword_ok = keyword.as_deref().is_none_or(|k| {
                names.iter().any(|n| n.to_ascii_lowercase().contains(k))
                    || e.instance_id.to_ascii_lowercase().contains(k)
                    || e.id.to_string() == k
            });
            if status_ok && keyword_ok {
                matching.push((e, not_before, not_after));
            }
        }
        // Newest first.
        matching.sort_by(|a, b| b.0.created.cmp(&a.0.created).then(b.0.id.cmp(&a.0.id)));
        let total = matching.len();
        let items = matching
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|(e, _, _)| self.list_item(inv, e, now))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(object(json!({
            "CurrentPage": page,
            "ShowSize": size,
            "TotalCount": total,
            "CertificateOrderList": items,
        })))
    }

    fn list_item(
        &self,
        inv: &Inventory,
        e: &Entry,
        now: OffsetDateTime,
    ) -> Result<Value, ApiError> {
        let c = self.cert(inv, e)?;
        Ok(json!({
            "CertificateId": e.id,
            "Name": e.name,
            "CommonName": c.common_name,
            "Sans": c.dns_names.join(","),
            "Issuer": issuer_cn(inv),
            // The unit of `Fingerprint` is not documented; the simulator sends the SHA-1.
            "Fingerprint": c.sha1,
            "Sha2": c.sha256,
            "SerialNo": c.serial,
            "OrgName": c.organization,
            "Country": "CN",
            "Province": "Zhejiang",
            "City": "Hangzhou",
            "StartDate": date(c.not_before),
            "EndDate": date(c.not_after),
            "Expired": c.not_after <= now,
            "Upload": e.upload,
            "ResourceGroupId": RESOURCE_GROUP,
            "InstanceId": e.instance_id,
        }))
    }

    /// CPACK (quota) and BUY (purchase) orders: what a client gets that forgets `OrderType`.
    fn orders(&self, inv: &Inventory, kind: &str, page: usize, size: usize) -> Map<String, Value> {
        let h = data::mix(inv.seed, "ssl-order", if kind == "CPACK" { 1 } else { 2 });
        let bought = inv.anchor - Duration::days((h % 300) as i64 + 30);
        let order = json!({
            "OrderId": 60_000_000 + (h % 1_000_000) as i64,
            "AliyunOrderId": 230_000_000_000_000_i64 + (h % 1_000_000_000) as i64,
            "InstanceId": format!("cas-{}-{}", kind.to_ascii_lowercase(), data::hex_digits(inv.seed, "ssl-order-id", h % 97, 10)),
            "CertType": if kind == "CPACK" { "FREE" } else { "DV" },
            "DomainType": "ONE",
            "DomainCount": 1,
            "WildDomainCount": 0,
            "Domain": "",
            "CertStartTime": millis(bought),
            "CertEndTime": millis(bought + Duration::days(365)),
            "BuyDate": millis(bought),
            "Status": "PAYED",
            "SourceType": kind.to_ascii_lowercase(),
            "TrusteeStatus": "unTrustee",
            "RootBrand": "certdesk demo",
            "ProductCode": "cas",
            "ProductName": "certdesk demo certificate",
            "Algorithm": "ECC",
        });
        let items: Vec<Value> = if page == 1 { vec![order] } else { Vec::new() };
        object(json!({
            "CurrentPage": page,
            "ShowSize": size,
            "TotalCount": 1,
            "CertificateOrderList": items,
        }))
    }

    fn detail(&self, inv: &Inventory, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let id = cert_id_param(params)?;
        let filter = flag(params, "CertFilter")?;
        let e = &self.entries[self.position(id)?];
        let c = self.cert(inv, e)?;
        let now = OffsetDateTime::now_utc();
        let ca = &inv.vod_ca.issued;
        let remain = |t: OffsetDateTime| (t - now).whole_days().max(0);
        let mut body = object(json!({
            "Id": e.id,
            "Name": e.name,
            "CertIdentifier": format!("{}-{}", e.id, self.site),
            "Common": c.common_name,
            "Sans": c.dns_names.join(","),
            "Issuer": issuer_cn(inv),
            "Fingerprint": c.sha1,
            "Sha2": c.sha256,
            "CertSha2": c.sha256,
            "SerialNo": c.serial,
            "Algorithm": if c.key_algorithm == "ECDSA" { "ECC" } else { c.key_algorithm.as_str() },
            "StartDate": date(c.not_before),
            "EndDate": date(c.not_after),
            // The unit of NotBefore/NotAfter is not documented; milliseconds like the CPACK times.
            "NotBefore": millis(c.not_before),
            "NotAfter": millis(c.not_after),
            "Expired": c.not_after <= now,
            "BuyInAliyun": !e.upload,
            "OrderId": 0,
            "InstanceId": e.instance_id,
            "ResourceGroupId": RESOURCE_GROUP,
            "OrgName": c.organization,
            "Country": "CN",
            "Province": "Zhejiang",
            "City": "Hangzhou",
            "CertChain": [
                {"CommonName": c.common_name, "IssuerCommonName": issuer_cn(inv),
                 "NotBefore": millis(c.not_before), "NotAfter": millis(c.not_after), "RemainDay": remain(c.not_after)},
                {"CommonName": ca.common_name, "IssuerCommonName": ca.common_name,
                 "NotBefore": millis(ca.not_before), "NotAfter": millis(ca.not_after), "RemainDay": remain(ca.not_after)},
            ],
            "Tags": [],
        }));
        if !filter {
            // Whether `Cert` carries the chain is not documented; the leaf only here.
            body.insert("Cert".into(), Value::String(c.pem.clone()));
            body.insert("Key".into(), Value::String(self.key_pem(inv, e)?));
        }
        Ok(body)
    }

    fn upload(&mut self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let name = required(params, "Name")?;
        if name.chars().count() > MAX_NAME {
            return Err(ApiError::invalid_parameter(
                "Name",
                "It must be at most 63 characters.",
            ));
        }
        if self.names.contains(name) {
            // Documented: the name is unique per account. The code is the simulator's choice.
            return Err(ApiError::invalid_parameter(
                "Name",
                &format!("A certificate named {name:?} already exists."),
            ));
        }
        let cert = optional(params, "Cert");
        let key = optional(params, "Key");
        if cert.is_none()
            && key.is_none()
            && ["EncryptCert", "SignCert"]
                .iter()
                .any(|p| optional(params, p).is_some())
        {
            return Err(ApiError::invalid_parameter(
                "EncryptCert",
                "SM2 (national-standard) certificates are not simulated.",
            ));
        }
        let cert = cert.ok_or_else(|| ApiError::missing_parameter("Cert"))?;
        let key = key.ok_or_else(|| ApiError::missing_parameter("Key"))?;
        let info = check_uploaded_pair(Some(cert), "Cert", Some(key), "Key")?;
        let id = self.next_id;
        self.next_id += 1;
        let now = OffsetDateTime::now_utc();
        let resource_id = format!("cas-upload-{}", data::hex_digits(id as u64, "ssl-up", 0, 8));
        self.entries.push(Entry {
            id,
            name: name.to_string(),
            validity: (info.not_before, info.not_after),
            names: info.dns_names.clone(),
            body: Body::Uploaded {
                info: Arc::new(info),
                key: Secret::new(key),
            },
            upload: true,
            created: now,
            instance_id: resource_id.clone(),
        });
        self.by_id.insert(id, self.entries.len() - 1);
        self.names.insert(name.to_string());
        Ok(object(json!({"CertId": id, "ResourceId": resource_id})))
    }

    fn delete(
        &mut self,
        params: &Params,
        deployments: &[Deployment],
    ) -> Result<Map<String, Value>, ApiError> {
        let id = cert_id_param(params)?;
        let n = self.position(id)?;
        if let Some(d) = deployments
            .iter()
            .find(|d| d.cert_id == id && d.cert_site == self.site)
        {
            // What the service does with a deployed certificate is not documented; refusing is
            // the safe choice (deleting it would leave a domain serving a certificate that no
            // longer exists in the repository).
            return Err(ApiError::new(
                400,
                "Certificate.InUse",
                format!(
                    "The certificate {id} is deployed ({} {}); replace it there first.",
                    d.product, d.domain
                ),
            ));
        }
        let e = self.entries.remove(n);
        self.names.remove(&e.name);
        self.by_id = self
            .entries
            .iter()
            .enumerate()
            .map(|(n, e)| (e.id, n))
            .collect();
        Ok(Map::new())
    }

    fn cloud_resources(
        &self,
        inv: &Inventory,
        params: &Params,
        deployments: &[Deployment],
    ) -> Result<Map<String, Value>, ApiError> {
        let page = page_param(params, "CurrentPage", 1, 1..=i64::from(i32::MAX))? as usize;
        // Documented default 20; the maximum is not documented (1–1000 here).
        let size = page_param(params, "ShowSize", 20, 1..=1000)? as usize;
        let ids = match optional(params, "CertIds") {
            None => None,
            Some(text) => Some(parse_cert_ids(text)?),
        };
        let cloud = optional(params, "CloudName");
        let product = optional(params, "CloudProduct");
        let keyword = optional(params, "Keyword").map(str::to_ascii_lowercase);
        let matching: Vec<&Deployment> = deployments
            .iter()
            .filter(|d| d.cert_site == self.site)
            .filter(|d| ids.as_ref().is_none_or(|ids| ids.contains(&d.cert_id)))
            // Only Alibaba Cloud resources are simulated (no third-party clouds).
            .filter(|_| cloud.is_none_or(|c| c.eq_ignore_ascii_case("aliyun")))
            .filter(|d| product.is_none_or(|p| p.eq_ignore_ascii_case(d.product)))
            .filter(|d| {
                keyword
                    .as_deref()
                    .is_none_or(|k| d.domain.to_ascii_lowercase().contains(k))
            })
            .collect();
        let seconds = |t: OffsetDateTime| t.unix_timestamp().to_string();
        let mut items = Vec::new();
        for d in matching
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
        {
            let (name, start, end) = match self.by_id.get(&d.cert_id) {
                Some(&n) => {
                    let e = &self.entries[n];
                    let c = self.cert(inv, e)?;
                    (e.name.clone(), seconds(c.not_before), seconds(c.not_after))
                }
                None => (String::new(), String::new(), String::new()),
            };
            items.push(json!({
                "Id": d.resource_id,
                "CertId": d.cert_id,
                "UserId": self.account_id,
                "CertName": name,
                "CertStartTime": start,
                "CertEndTime": end,
                "GmtCreate": seconds(d.since),
                "GmtModified": seconds(d.since),
                "CloudName": "aliyun",
                "CloudProduct": d.product,
                "CloudRegion": d.region,
                "RegionId": d.region,
                "Domain": d.domain,
                // Status values are not documented; the simulator's word for a deployment.
                "Status": "normal",
                "EnableHttps": i32::from(d.https),
                "UseSsl": i32::from(d.https),
                "InstanceId": "",
                "ListenerId": "",
                "ListenerPort": "",
                "DefaultResource": 0,
            }));
        }
        Ok(object(json!({
            "CurrentPage": page,
            "ShowSize": size,
            "Total": matching.len(),
            "Data": items,
        })))
    }
}

fn issuer_cn(inv: &Inventory) -> String {
    inv.vod_ca.issued.common_name.clone()
}

/// `CertIds` as the SDK sends it, a JSON array (`[1,2]`); a comma list (what the field comment
/// says) is accepted too.
fn parse_cert_ids(text: &str) -> Result<Vec<i64>, ApiError> {
    let bad = || ApiError::invalid_parameter("CertIds", "It must be a JSON array of integers.");
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        let values: Vec<Value> = serde_json::from_str(trimmed).map_err(|_| bad())?;
        values
            .iter()
            .map(|v| match v {
                Value::Number(n) => n.as_i64().ok_or_else(bad),
                Value::String(s) => s.trim().parse().map_err(|_| bad()),
                _ => Err(bad()),
            })
            .collect()
    } else {
        trimmed
            .split(',')
            .map(|s| s.trim().parse::<i64>().map_err(|_| bad()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_ids_parse_as_json_or_commas() {
        assert_eq!(parse_cert_ids("[1,2]").unwrap(), vec![1, 2]);
        assert_eq!(parse_cert_ids("[\"3\"]").unwrap(), vec![3]);
        assert_eq!(parse_cert_ids("4, 5").unwrap(), vec![4, 5]);
        assert!(parse_cert_ids("[1,").is_err());
        assert!(parse_cert_ids("x").is_err());
    }
}

//! Private CA, cas 2020-06-30 (alibaba.md §3.2): ListClientCertificate, DescribeClientCertificate,
//! DescribeClientCertificateStatus(+ForSerialNumber), CreateRevokeClientCertificate,
//! ListRevokeCertificate, DeleteClientCertificate. Client and server certificates issued by a
//! seeded subordinate CA; revocation is final and deletion needs a revoked certificate.

use super::data::{self, Inventory, Params, millis, object, page_count, page_param, required};
use super::errors::ApiError;
use super::pki::{CertInfo, CertSpec};
use rcgen::DnType;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

struct Row {
    id: i64,
    index: u64,
    identifier: String,
    server: bool,
    common_name: String,
    serial: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    revoked_at: Option<OffsetDateTime>,
    deleted: bool,
}

/// The private-CA certificates of the simulated account.
pub(crate) struct PcaState {
    rows: Vec<Row>,
    by_identifier: HashMap<String, usize>,
    by_serial: HashMap<String, usize>,
    ca_identifier: String,
}

const ORG: &str = "certdesk demo";
const RESOURCE_GROUP: &str = "rg-acfmcertdeskdemo";

impl PcaState {
    pub(crate) fn new(inv: &Inventory) -> PcaState {
        let mut rows = Vec::with_capacity(inv.counts.pca);
        for i in 0..inv.counts.pca as u64 {
            let h = data::mix(inv.seed, "pca", i);
            let server = i % 4 == 3;
            let common_name = if server {
                format!("svc-{i:05}.internal.{}", inv.domain("certdesk-demo.com"))
            } else {
                format!("client-{i:05}")
            };
            let not_before = inv.anchor - Duration::days((h % 700) as i64 + 1);
            let days = [365, 730, 90, 1095][(h >> 16) as usize % 4];
            // Row 0 is always valid and issued, row 1 always revoked (tests rely on both).
            let revoked = i == 1 || (i > 1 && (h >> 8) % 100 < 15);
            rows.push(Row {
                id: 100_000 + i as i64,
                index: i,
                identifier: data::hex_digits(inv.seed, "pca-id", i, 32),
                server,
                common_name,
                serial: hex::encode(data::serial(inv.seed, "pca", i)),
                not_before,
                not_after: not_before + Duration::days(days),
                revoked_at: revoked.then(|| not_before + Duration::days(((h >> 24) % 60) as i64)),
                deleted: false,
            });
        }
        let by_identifier = rows
            .iter()
            .enumerate()
            .map(|(n, r)| (r.identifier.clone(), n))
            .collect();
        let by_serial = rows
            .iter()
            .enumerate()
            .map(|(n, r)| (r.serial.clone(), n))
            .collect();
        PcaState {
            rows,
            by_identifier,
            by_serial,
            ca_identifier: data::hex_digits(inv.seed, "pca-ca", 1, 32),
        }
    }

    /// Every certificate not deleted as (identifier, status, expiry), for tests.
    pub(crate) fn listing(&self) -> Vec<(String, String, Option<OffsetDateTime>)> {
        self.rows
            .iter()
            .filter(|r| !r.deleted)
            .map(|r| {
                (
                    r.identifier.clone(),
                    status_of(r).to_string(),
                    Some(r.not_after),
                )
            })
            .collect()
    }

    pub(crate) fn status(&self, identifier: &str) -> Option<String> {
        self.find(identifier).ok().map(|r| status_of(r).to_string())
    }

    /// Runs one cas action.
    pub(crate) fn handle(
        &mut self,
        inv: &Inventory,
        action: &str,
        params: &Params,
    ) -> Result<Map<String, Value>, ApiError> {
        match action {
            "ListClientCertificate" => self.list(inv, params),
            "DescribeClientCertificate" => {
                let row = self.find(required(params, "Identifier")?)?;
                let mut item = self.item(inv, row)?;
                let chain = format!("{}{}", inv.pca_sub.issued.pem, inv.pca_root.issued.pem);
                item.insert("CertChain".into(), Value::String(chain));
                item.insert("FullAlgorithm".into(), Value::String("ECC_256".into()));
                item.insert("UploadFlag".into(), json!(0));
                item.insert("Tags".into(), json!([]));
                Ok(object(json!({"Certificate": item})))
            }
            "DescribeClientCertificateStatus" => {
                let ids = required(params, "Identifier")?;
                let list: Vec<Value> = ids
                    .split(',')
                    .map(|id| self.status_item(self.by_identifier.get(id.trim()).copied()))
                    .collect();
                Ok(object(json!({"CertificateStatus": list})))
            }
            "DescribeClientCertificateStatusForSerialNumber" => {
                let serials = required(params, "SerialNumber")?;
                let list: Vec<Value> = serials
                    .split(',')
                    .map(|s| {
                        let key = s.trim().to_ascii_lowercase();
                        let item = self.status_item(self.by_serial.get(&key).copied());
                        match item {
                            // Unknown serials still echo what was asked.
                            Value::Object(mut m) if m["Status"] == "unknown" => {
                                m.insert("SerialNumber".into(), Value::String(s.trim().into()));
                                Value::Object(m)
                            }
                            other => other,
                        }
                    })
                    .collect();
                Ok(object(json!({"CertificateStatus": list})))
            }
            "CreateRevokeClientCertificate" => {
                let n = self.position(required(params, "Identifier")?)?;
                let row = &mut self.rows[n];
                if row.revoked_at.is_some() {
                    return Err(ApiError::certificate_status_error());
                }
                row.revoked_at = Some(OffsetDateTime::now_utc());
                Ok(Map::new())
            }
            "DeleteClientCertificate" => {
                let n = self.position(required(params, "Identifier")?)?;
                let row = &mut self.rows[n];
                // Only a revoked certificate may be deleted (doc).
                if row.revoked_at.is_none() {
                    return Err(ApiError::certificate_status_error());
                }
                row.deleted = true;
                Ok(Map::new())
            }
            "ListRevokeCertificate" => self.list_revoked(params),
            _ => Err(ApiError::unknown_action()),
        }
    }

    fn position(&self, identifier: &str) -> Result<usize, ApiError> {
        // The docs give no status for an unknown identifier; 404 like the other services.
        match self.by_identifier.get(identifier) {
            Some(&n) if !self.rows[n].deleted => Ok(n),
            _ => Err(ApiError::certificate_not_found()),
        }
    }

    fn find(&self, identifier: &str) -> Result<&Row, ApiError> {
        self.position(identifier).map(|n| &self.rows[n])
    }

    fn status_item(&self, position: Option<usize>) -> Value {
        match position.map(|n| &self.rows[n]).filter(|r| !r.deleted) {
            None => json!({"SerialNumber": "", "Status": "unknown"}),
            Some(row) => match row.revoked_at {
                Some(at) => {
                    json!({"SerialNumber": row.serial, "Status": "revoked", "RevokeTime": millis(at)})
                }
                None => json!({"SerialNumber": row.serial, "Status": "good"}),
            },
        }
    }

    fn cert(&self, inv: &Inventory, row: &Row) -> Result<Arc<CertInfo>, ApiError> {
        inv.issue_cached(&format!("pca/{}", row.index), &inv.pca_sub, || CertSpec {
            subject: subject(row),
            serial: data::serial(inv.seed, "pca", row.index),
            not_before: row.not_before,
            not_after: row.not_after,
            dns_names: if row.server {
                vec![row.common_name.clone()]
            } else {
                Vec::new()
            },
            is_ca: false,
            client_auth: !row.server,
            server_auth: row.server,
        })
    }

    fn item(&self, inv: &Inventory, row: &Row) -> Result<Map<String, Value>, ApiError> {
        let cert = self.cert(inv, row)?;
        let sans = if row.server {
            json!([{"Type": 2, "Value": row.common_name}]).to_string()
        } else {
            "[]".to_string()
        };
        Ok(object(json!({
            "Id": row.id,
            "Identifier": row.identifier,
            "ParentIdentifier": self.ca_identifier,
            "CustomIdentifier": "",
            "AliasName": format!("demo-{}", row.common_name),
            "CommonName": row.common_name,
            "SerialNumber": row.serial,
            "Status": status_of(row),
            "CertificateType": if row.server { "SERVER" } else { "CLIENT" },
            "Algorithm": "ECC",
            "KeySize": 256,
            "SignAlgorithm": "SHA256WITHECDSA",
            "BeforeDate": millis(row.not_before),
            "AfterDate": millis(row.not_after),
            "Days": (row.not_after - row.not_before).whole_days(),
            "Sans": sans,
            "SubjectDN": super::pki::dn_string(&subject(row)),
            "CountryCode": "CN",
            "State": "Zhejiang",
            "Locality": "Hangzhou",
            "Organization": ORG,
            "OrganizationUnit": if row.server { "services" } else { "devices" },
            "Md5": cert.md5,
            "Sha2": cert.sha256,
            "X509Certificate": cert.pem,
            "ResourceGroupId": RESOURCE_GROUP,
        })))
    }

    fn list(&self, inv: &Inventory, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let page = page_param(params, "CurrentPage", 1, 1..=i64::from(i32::MAX))? as usize;
        let size = page_param(params, "ShowSize", 20, 1..=1000)? as usize;
        let filter = data::optional(params, "Identifier");
        // Newest first.
        let matching: Vec<&Row> = self
            .rows
            .iter()
            .rev()
            .filter(|r| !r.deleted && filter.is_none_or(|f| r.identifier == f))
            .collect();
        let total = matching.len();
        let items = matching
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|r| self.item(inv, r).map(Value::Object))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(object(json!({
            "CurrentPage": page,
            "ShowSize": size,
            "TotalCount": total,
            "PageCount": page_count(total, size),
            "MaxResults": total,
            "CertificateList": items,
        })))
    }

    fn list_revoked(&self, params: &Params) -> Result<Map<String, Value>, ApiError> {
        let page = page_param(params, "CurrentPage", 1, 1..=i64::from(i32::MAX))? as usize;
        let size = page_param(params, "ShowSize", 20, 1..=1000)? as usize;
        let revoked: Vec<&Row> = self
            .rows
            .iter()
            .rev()
            .filter(|r| !r.deleted && r.revoked_at.is_some())
            .collect();
        let total = revoked.len();
        let revoke_date = time::macros::format_description!("[year]-[month]-[day]T00:00Z");
        let items: Vec<Value> = revoked
            .iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|r| {
                json!({
                    "Id": r.id,
                    "Identifier": r.identifier,
                    "SerialNumber": r.serial,
                    "CommonName": r.common_name,
                    "AliasName": format!("demo-{}", r.common_name),
                    "RevokeDate": r.revoked_at.and_then(|t| t.format(&revoke_date).ok()),
                    "BeforeDate": data::iso(r.not_before),
                    "AfterDate": data::iso(r.not_after),
                })
            })
            .collect();
        Ok(object(json!({
            "CurrentPage": page,
            "ShowSize": size,
            "TotalCount": total,
            "PageCount": page_count(total, size),
            "CertificateList": items,
        })))
    }
}

fn status_of(row: &Row) -> &'static str {
    if row.revoked_at.is_some() {
        "REVOKE"
    } else {
        "ISSUE"
    }
}

fn subject(row: &Row) -> Vec<(DnType, String)> {
    vec![
        (DnType::CountryName, "CN".into()),
        (DnType::StateOrProvinceName, "Zhejiang".into()),
        (DnType::LocalityName, "Hangzhou".into()),
        (DnType::OrganizationName, ORG.into()),
        (
            DnType::OrganizationalUnitName,
            if row.server { "services" } else { "devices" }.into(),
        ),
        (DnType::CommonName, row.common_name.clone()),
    ]
}

//! The simulated estate: N independent accounts, each with its own keys, account id, seed, RAM
//! roles and Huawei projects (one per region), and its inventories per region; plus the temporary
//! credentials STS issues. Inventories are created on first use, so a simulator with many accounts
//! and regions starts as fast as one.
//!
//! Also decides which inventory a request reaches: the account from the key that signed it, the
//! region from the request (see [`alibaba_site`]) through the product's endpoint rule, so a client
//! addressing `cn-shanghai` CDN reaches the same domains as `cn-hangzhou` (both are the central
//! `cdn.aliyuncs.com`), while KMS in `cn-shanghai` is another inventory.
//!
//! Knows nothing about HTTP, routing or wire formats (`server`), nor about what each service does
//! with its inventory.

use super::auth::{AlibabaKey, HuaweiKey, RoleSession};
use super::cdn::CdnState;
use super::data::{self, Inventory, Place};
use super::deploy::{Deployment, SSL_SITES};
use super::errors::ApiError;
use super::esa::EsaState;
use super::iotda::IotdaState;
use super::kms::KmsState;
use super::pca::PcaState;
use super::ssl::SslState;
use super::vod::VodState;
use super::{
    ALIBABA_REGIONS, DEMO_ALIBABA_STS_ACCESS_KEY_ID, DEMO_ALIBABA_STS_ACCESS_KEY_SECRET,
    DEMO_ALIBABA_STS_TOKEN, DemoCredentials, HUAWEI_REGIONS, SimError, SimOptions, SimService,
    SimSize,
};
use crate::credentials::Secret;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use time::OffsetDateTime;

/// The Alibaba account id of the first account (as the simulator always had; KMS ARNs).
pub(crate) const FIRST_ACCOUNT_ID: &str = "1234567890123456";

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        // A panic elsewhere must not take the simulator down; the data is still consistent
        // because every handler validates before it mutates.
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Who may assume a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Every simulated account (a cross-account administration role).
    AnyAccount,
    /// Only the role's own account.
    OwnAccount,
}

/// A RAM role of an account.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub name: &'static str,
    pub arn: String,
    pub id: String,
    /// `MaxSessionDuration`, seconds.
    pub max_session: u32,
    /// The trust policy's `sts:ExternalId` condition.
    pub external_id: Option<String>,
    pub trust: Trust,
}

/// A Huawei IAM project: one per region and account.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub region: &'static str,
    pub id: String,
    pub instance_id: String,
}

/// One account's services in one region, each created on first use.
pub(crate) struct Shard {
    pub inv: Inventory,
    kms: OnceLock<Mutex<KmsState>>,
    pca: OnceLock<Mutex<PcaState>>,
    esa: OnceLock<Mutex<EsaState>>,
    vod: OnceLock<Mutex<VodState>>,
    cdn: OnceLock<Mutex<CdnState>>,
    ssl: OnceLock<Mutex<SslState>>,
}

macro_rules! service_state {
    ($name:ident, $ty:ty) => {
        pub(crate) fn $name(&self) -> MutexGuard<'_, $ty> {
            lock(self.$name.get_or_init(|| Mutex::new(<$ty>::new(&self.inv))))
        }
    };
}

impl Shard {
    fn new(inv: Inventory) -> Shard {
        Shard {
            inv,
            kms: OnceLock::new(),
            pca: OnceLock::new(),
            esa: OnceLock::new(),
            vod: OnceLock::new(),
            cdn: OnceLock::new(),
            ssl: OnceLock::new(),
        }
    }
    service_state!(kms, KmsState);
    service_state!(pca, PcaState);
    service_state!(esa, EsaState);
    service_state!(vod, VodState);
    service_state!(cdn, CdnState);
    service_state!(ssl, SslState);
}

/// One account's IoTDA in one region.
pub(crate) struct IotShard {
    pub inv: Inventory,
    pub iot: Mutex<IotdaState>,
}

/// One simulated account.
pub(crate) struct Account {
    /// 1-based, as `certdesk sim` prints it.
    pub number: usize,
    pub id: String,
    pub seed: u64,
    pub alibaba_id: String,
    pub alibaba_secret: Secret,
    pub huawei_ak: String,
    pub huawei_sk: Secret,
    /// One per entry of [`HUAWEI_REGIONS`], in that order.
    pub projects: Vec<Project>,
    pub roles: Vec<Role>,
    alibaba: [Mutex<Option<Arc<Shard>>>; ALIBABA_REGIONS.len()],
    huawei: [Mutex<Option<Arc<IotShard>>>; HUAWEI_REGIONS.len()],
    /// Held while a change involves two services (a CDN domain taking a repository certificate,
    /// a repository certificate deleted only when no domain deploys it).
    pub links: Mutex<()>,
}

/// The simulated accounts and the temporary credentials STS issued.
pub(crate) struct Estate {
    pub accounts: Vec<Account>,
    size: SimSize,
    /// See [`SimOptions::anchor_day`].
    anchor_day: Option<time::Date>,
    permanent: HashMap<String, AlibabaKey>,
    huawei_keys: HashMap<String, HuaweiKey>,
    /// Project id → (account, index in [`HUAWEI_REGIONS`]).
    projects: HashMap<String, (usize, usize)>,
    temporary: Mutex<HashMap<String, AlibabaKey>>,
    /// Shortest `DurationSeconds` AssumeRole accepts.
    pub sts_min_duration: u32,
}

fn account_seed(base: u64, number: usize) -> u64 {
    if number == 1 {
        base
    } else {
        data::mix(base, "account", number as u64)
    }
}

/// The seed of an account's inventory in `region`: the account's own in its home region (so the
/// first account's home inventory is the one the simulator always served).
fn regional_seed(account_seed: u64, region: &str, home: bool) -> u64 {
    if home {
        account_seed
    } else {
        data::mix(account_seed, region, 7)
    }
}

fn domain_tag(number: usize, region: &str, home: bool) -> String {
    let account = if number == 1 {
        String::new()
    } else {
        format!("a{number}.")
    };
    if home {
        account
    } else {
        format!("{region}.{account}")
    }
}

fn new_account(options: &SimOptions, creds: &DemoCredentials, number: usize) -> Account {
    let base = options.seed;
    let seed = account_seed(base, number);
    let first = number == 1;
    let n = number as u64;
    let id = if first {
        FIRST_ACCOUNT_ID.to_string()
    } else {
        // 16 digits: 12 from the seed, then the account number, so ids never collide.
        format!(
            "{:012}{:04}",
            data::mix(base, "account-id", n) % 900_000_000_000 + 100_000_000_000,
            number % 10_000
        )
    };
    let projects = HUAWEI_REGIONS
        .iter()
        .enumerate()
        .map(|(r, region)| {
            if first && r == 0 {
                Project {
                    region,
                    id: creds.huawei_project_id.clone(),
                    instance_id: creds.iotda_instance_id.clone(),
                }
            } else {
                let i = n * 16 + r as u64;
                Project {
                    region,
                    id: data::hex_digits(base, "project", i, 32),
                    instance_id: data::uuid_like(base, "iotda-instance", i),
                }
            }
        })
        .collect();
    let role = |name: &'static str, max_session: u32, external: bool, trust: Trust| Role {
        name,
        arn: format!("acs:ram::{id}:role/{name}"),
        id: format!(
            "3{:018}",
            data::mix(seed, name, n) % 1_000_000_000_000_000_000
        ),
        max_session,
        external_id: external.then(|| format!("certdesk-{id}")),
        trust,
    };
    let roles = vec![
        role("certdesk-admin", 3600, false, Trust::AnyAccount),
        role("certdesk-auditor", 43_200, true, Trust::AnyAccount),
        role("certdesk-private", 3600, false, Trust::OwnAccount),
    ];
    Account {
        number,
        alibaba_id: if first {
            creds.alibaba_access_key_id.clone()
        } else {
            format!(
                "LTAIcertdesk{number:04}{}",
                data::hex_digits(base, "ak", n, 8).to_ascii_uppercase()
            )
        },
        alibaba_secret: if first {
            creds.alibaba_access_key_secret.clone()
        } else {
            Secret::new(data::hex_digits(base, "ak-secret", n, 30))
        },
        huawei_ak: if first {
            creds.huawei_ak.clone()
        } else {
            format!(
                "CERTDESK{number:04}{}",
                data::hex_digits(base, "hw-ak", n, 8).to_ascii_uppercase()
            )
        },
        huawei_sk: if first {
            creds.huawei_sk.clone()
        } else {
            Secret::new(data::hex_digits(base, "hw-sk", n, 40))
        },
        id,
        seed,
        projects,
        roles,
        alibaba: Default::default(),
        huawei: Default::default(),
        links: Mutex::new(()),
    }
}

/// The simulated region whose inventory `service` answers from when a request addresses
/// `region` (`None`: the request named none), as an index in [`ALIBABA_REGIONS`]; an error when
/// the simulator does not serve the product there.
///
/// Each product follows its SDK's endpoint rule (alibaba.md §2, alibaba-cdn-cas-sts.md §1):
/// KMS and ESA are regional (ESA only in cn-hangzhou and ap-southeast-1, its two endpoints); the
/// private CA (cas 2020-06-30) answers every `cn-*` region from `cas.aliyuncs.com`; the SSL
/// Certificates Service (cas 2020-04-07) has the China site (`cas.aliyuncs.com`, its endpoint map)
/// and the international site ap-southeast-1; CDN is central, with the overseas regions on the
/// Singapore endpoint; VOD exists only in Shanghai and has one inventory per account whatever the
/// region; STS keeps no inventory.
pub(crate) fn alibaba_site(service: SimService, region: Option<&str>) -> Result<usize, ApiError> {
    const HOME: usize = 0;
    let Some(region) = region.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(HOME);
    };
    let simulated = |r: &str| ALIBABA_REGIONS.iter().position(|s| *s == r);
    let not_served = |why: String| {
        // Real clients get a DNS failure for a host that does not exist; the simulator's own code.
        ApiError::new(400, "InvalidRegionId", why)
    };
    let regional = |r: &str| {
        simulated(r).ok_or_else(|| {
            not_served(format!(
                "The region {r} is not simulated (simulated regions: {}).",
                ALIBABA_REGIONS.join(", ")
            ))
        })
    };
    match service {
        SimService::Kms => regional(region),
        SimService::Esa => match regional(region)? {
            n if ALIBABA_REGIONS[n] == "cn-shanghai" => Err(not_served(format!(
                "ESA is not offered in {region} (its endpoints: cn-hangzhou, ap-southeast-1)."
            ))),
            n => Ok(n),
        },
        SimService::Pca => {
            if region.starts_with("cn-")
                || [
                    "us-east-1",
                    "us-west-1",
                    "eu-west-1",
                    "ap-southeast-3",
                    "ap-southeast-5",
                ]
                .contains(&region)
            {
                Ok(HOME)
            } else {
                regional(region)
            }
        }
        SimService::Ssl => {
            if SSL_CHINA_SITE_REGIONS.contains(&region) {
                Ok(HOME)
            } else {
                regional(region)
            }
        }
        SimService::Cdn => {
            if CDN_OVERSEAS_REGIONS.contains(&region) {
                regional(SSL_SITES[1])
            } else {
                Ok(HOME)
            }
        }
        SimService::Vod | SimService::Sts | SimService::Iotda => Ok(HOME),
    }
}

/// The regions the SSL Certificates Service SDK maps to the China site `cas.aliyuncs.com`.
const SSL_CHINA_SITE_REGIONS: [&str; 15] = [
    "cn-hangzhou",
    "cn-beijing",
    "cn-chengdu",
    "cn-hongkong",
    "cn-huhehaote",
    "cn-qingdao",
    "cn-shanghai",
    "cn-shenzhen",
    "cn-wulanchabu",
    "cn-zhangjiakou",
    "ap-southeast-3",
    "ap-southeast-5",
    "eu-west-1",
    "us-east-1",
    "us-west-1",
];

/// The regions the CDN SDK maps to the overseas endpoint `cdn.ap-southeast-1.aliyuncs.com`.
const CDN_OVERSEAS_REGIONS: [&str; 11] = [
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "eu-central-1",
    "eu-west-1",
    "me-east-1",
    "us-east-1",
    "us-west-1",
];

impl Estate {
    pub(crate) fn new(
        options: &SimOptions,
        creds: &DemoCredentials,
        sts_min_duration: u32,
    ) -> Result<Estate, SimError> {
        if options.accounts == 0 || options.accounts > 1000 {
            return Err(SimError::InvalidOption(format!(
                "{} accounts: expected 1 to 1000",
                options.accounts
            )));
        }
        let accounts: Vec<Account> = (1..=options.accounts)
            .map(|n| new_account(options, creds, n))
            .collect();
        let mut permanent = HashMap::new();
        let mut huawei_keys = HashMap::new();
        let mut projects = HashMap::new();
        for (a, account) in accounts.iter().enumerate() {
            permanent.insert(
                account.alibaba_id.clone(),
                AlibabaKey {
                    id: account.alibaba_id.clone(),
                    secret: account.alibaba_secret.clone(),
                    sts_token: None,
                    account: a,
                    expires: None,
                    session: None,
                },
            );
            huawei_keys.insert(
                account.huawei_ak.clone(),
                HuaweiKey {
                    ak: account.huawei_ak.clone(),
                    sk: account.huawei_sk.clone(),
                    account: a,
                },
            );
            for (r, p) in account.projects.iter().enumerate() {
                projects.insert(p.id.clone(), (a, r));
            }
        }
        // The fixed demo STS credentials of the first account (they never expire).
        permanent.insert(
            DEMO_ALIBABA_STS_ACCESS_KEY_ID.to_string(),
            AlibabaKey {
                id: DEMO_ALIBABA_STS_ACCESS_KEY_ID.to_string(),
                secret: Secret::new(DEMO_ALIBABA_STS_ACCESS_KEY_SECRET),
                sts_token: Some(Secret::new(DEMO_ALIBABA_STS_TOKEN)),
                account: 0,
                expires: None,
                session: Some(Arc::new(RoleSession {
                    arn: format!("acs:ram::{FIRST_ACCOUNT_ID}:assumed-role/certdesk-demo/demo"),
                    role_id: "300000000000000000001".into(),
                    session: "demo".into(),
                })),
            },
        );
        Ok(Estate {
            accounts,
            size: options.size,
            anchor_day: options.anchor_day,
            permanent,
            huawei_keys,
            projects,
            temporary: Mutex::new(HashMap::new()),
            sts_min_duration,
        })
    }

    /// The key with this AccessKey id: an account's, the demo STS one, or one STS issued.
    pub(crate) fn alibaba_key(&self, id: &str) -> Option<AlibabaKey> {
        if let Some(key) = self.permanent.get(id) {
            return Some(key.clone());
        }
        lock(&self.temporary).get(id).cloned()
    }

    /// The Huawei key with this AK.
    pub(crate) fn huawei_key(&self, ak: &str) -> Option<HuaweiKey> {
        self.huawei_keys.get(ak).cloned()
    }

    /// (account, region index) of a Huawei project id.
    pub(crate) fn project(&self, id: &str) -> Option<(usize, usize)> {
        self.projects.get(id).copied()
    }

    /// Keeps temporary credentials (AssumeRole); forgets those expired for more than a day.
    pub(crate) fn add_temporary(&self, key: AlibabaKey, now: OffsetDateTime) {
        let mut keys = lock(&self.temporary);
        keys.retain(|_, k| k.expires.is_none_or(|t| now - t < time::Duration::days(1)));
        keys.insert(key.id.clone(), key);
    }

    /// Makes every temporary credential expire now (tests of expiry and refresh).
    pub(crate) fn expire_temporary(&self, now: OffsetDateTime) {
        for key in lock(&self.temporary).values_mut() {
            key.expires = Some(now);
        }
    }

    fn inventory(
        &self,
        account: &Account,
        region: &str,
        home: bool,
    ) -> Result<Inventory, ApiError> {
        Inventory::new(
            regional_seed(account.seed, region, home),
            self.size,
            Place {
                account_id: account.id.clone(),
                region: region.to_string(),
                domain_tag: domain_tag(account.number, region, home),
            },
            self.anchor_day,
        )
        .map_err(|e| ApiError::new(500, "InternalError", format!("inventory: {e}")))
    }

    /// Account `a`'s inventory in simulated region `r` (index in [`ALIBABA_REGIONS`]), created on
    /// first use.
    pub(crate) fn shard(&self, a: usize, r: usize) -> Result<Arc<Shard>, ApiError> {
        let account = &self.accounts[a];
        let mut slot = lock(&account.alibaba[r]);
        if let Some(shard) = slot.as_ref() {
            return Ok(Arc::clone(shard));
        }
        let shard = Arc::new(Shard::new(self.inventory(
            account,
            ALIBABA_REGIONS[r],
            r == 0,
        )?));
        *slot = Some(Arc::clone(&shard));
        Ok(shard)
    }

    /// Account `a`'s IoTDA in region `r` (index in [`HUAWEI_REGIONS`]), created on first use.
    pub(crate) fn iot_shard(&self, a: usize, r: usize) -> Result<Arc<IotShard>, ApiError> {
        let account = &self.accounts[a];
        let mut slot = lock(&account.huawei[r]);
        if let Some(shard) = slot.as_ref() {
            return Ok(Arc::clone(shard));
        }
        let inv = self.inventory(account, HUAWEI_REGIONS[r], r == 0)?;
        let shard = Arc::new(IotShard {
            iot: Mutex::new(IotdaState::new(&inv)),
            inv,
        });
        *slot = Some(Arc::clone(&shard));
        Ok(shard)
    }

    /// Every domain of account `a` that deploys a repository certificate: CDN at both endpoints
    /// and VOD.
    pub(crate) fn deployments(&self, a: usize) -> Result<Vec<Deployment>, ApiError> {
        let mut out = Vec::new();
        for site in SSL_SITES {
            let r = alibaba_site(SimService::Cdn, Some(site))?;
            let shard = self.shard(a, r)?;
            out.extend(shard.cdn().deployments(&shard.inv));
        }
        out.extend(self.shard(a, 0)?.vod().deployments());
        Ok(out)
    }

    /// The account with this Alibaba account id.
    pub(crate) fn account_by_id(&self, id: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_each_products_endpoint_rule() {
        let site = |s, r| alibaba_site(s, Some(r)).map(|n| ALIBABA_REGIONS[n]);
        assert_eq!(alibaba_site(SimService::Kms, None).unwrap(), 0);
        assert_eq!(site(SimService::Kms, "cn-shanghai").unwrap(), "cn-shanghai");
        assert!(site(SimService::Kms, "cn-beijing").is_err());
        assert!(site(SimService::Esa, "cn-shanghai").is_err());
        assert_eq!(
            site(SimService::Esa, "ap-southeast-1").unwrap(),
            "ap-southeast-1"
        );
        assert_eq!(site(SimService::Pca, "cn-beijing").unwrap(), "cn-hangzhou");
        assert_eq!(site(SimService::Ssl, "cn-shanghai").unwrap(), "cn-hangzhou");
        assert_eq!(
            site(SimService::Ssl, "ap-southeast-1").unwrap(),
            "ap-southeast-1"
        );
        assert_eq!(site(SimService::Cdn, "cn-shanghai").unwrap(), "cn-hangzhou");
        assert_eq!(
            site(SimService::Cdn, "us-east-1").unwrap(),
            "ap-southeast-1"
        );
        assert_eq!(
            site(SimService::Vod, "ap-southeast-1").unwrap(),
            "cn-hangzhou"
        );
        let err = site(SimService::Kms, "mars-1").unwrap_err();
        assert_eq!(err.code, "InvalidRegionId");
    }

    #[test]
    fn accounts_have_distinct_keys_ids_and_projects() {
        let options = SimOptions {
            accounts: 3,
            ..SimOptions::default()
        };
        let estate = Estate::new(&options, &DemoCredentials::demo(), 900).unwrap();
        let a = &estate.accounts;
        assert_eq!(a[0].id, FIRST_ACCOUNT_ID);
        assert_eq!(a[0].alibaba_id, super::super::DEMO_ALIBABA_ACCESS_KEY_ID);
        assert_eq!(a[0].projects[0].id, super::super::DEMO_HUAWEI_PROJECT_ID);
        let ids: std::collections::HashSet<_> = a.iter().map(|x| x.id.clone()).collect();
        assert_eq!(ids.len(), 3);
        assert!(
            a.iter()
                .all(|x| x.id.len() == 16 && x.id.bytes().all(|b| b.is_ascii_digit()))
        );
        assert_ne!(a[1].alibaba_id, a[2].alibaba_id);
        assert_eq!(estate.alibaba_key(&a[2].alibaba_id).unwrap().account, 2);
        assert_eq!(estate.project(&a[1].projects[2].id), Some((1, 2)));
        assert!(estate.alibaba_key("nope").is_none());
        assert!(
            a[1].roles[0]
                .arn
                .starts_with(&format!("acs:ram::{}:role/", a[1].id))
        );
        assert!(
            Estate::new(
                &SimOptions {
                    accounts: 0,
                    ..SimOptions::default()
                },
                &DemoCredentials::demo(),
                900
            )
            .is_err()
        );
    }
}

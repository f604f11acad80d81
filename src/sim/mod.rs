//! The embedded cloud simulator: one real HTTP server on loopback that verifies signatures and
//! behaves like the documented Alibaba Cloud (KMS 2016-01-20, private CA cas 2020-06-30, ESA
//! 2024-09-10, VOD 2017-03-21, CDN 2018-05-10, the SSL Certificates Service cas 2020-04-07, STS
//! 2015-04-01) and Huawei Cloud IoTDA v5 device-certificate APIs, for any number of accounts and
//! several regions.
//!
//! It knows only `signing` (to verify exactly what the clients sign), `model` and `credentials`;
//! it must never know about `cloud`, `jobs`, `app` or `ui`, so the simulator can judge the real
//! client code instead of sharing its mistakes.
//!
//! Inventories are seeded and deterministic: the same seed and size give the same ids, names,
//! statuses and even the same certificate bytes (keys are derived from the seed and ECDSA uses
//! RFC 6979), so certificates can be generated lazily, on demand, and cached only for speed.
//! One million IoTDA device certificates cost nothing at start: every row is a function of its
//! index, and only changes (status updates, deletions) are stored.
//!
//! # Accounts and regions
//! [`SimOptions::accounts`] independent accounts, each with its own AccessKey, AK/SK, 16-digit
//! account id, seed, RAM roles (`acs:ram::<account id>:role/certdesk-admin|certdesk-auditor|
//! certdesk-private`) and one Huawei IAM project per region. The first account has the demo
//! credentials and, in its home region, exactly the inventory a one-account simulator always had.
//! Each account has an inventory per region ([`ALIBABA_REGIONS`], [`HUAWEI_REGIONS`]), created
//! when first addressed, so start-up does not depend on the number of accounts or regions.
//!
//! A request's account is the one whose key signed it (temporary credentials from AssumeRole: the
//! role's account). Its region, on the one loopback listener:
//! - Alibaba: the signed header `x-acs-region-id` (V3), else the signed parameter `RegionId`;
//!   without either, `cn-hangzhou`. certdesk's clients send it on loopback endpoints; an official
//!   SDK sends it through `Config.global_parameters`. Each product follows its SDK's endpoint
//!   rule: KMS and ESA are regional (ESA only where it has endpoints: not cn-shanghai), the
//!   private CA answers every `cn-*` region from one inventory, CDN is central (overseas regions:
//!   the Singapore inventory), the SSL repository has a China and an international site, VOD has
//!   one inventory per account. A region a product does not have: 400 `InvalidRegionId`.
//! - Huawei: the project id in the path (an IAM project is regional); a V11 derived signature
//!   must be scoped to the project's region; another account's project: 403 `IOTDA.000022`.
//!
//! # Order of processing
//! fault injection → authentication (signature, clock, nonce, STS token and expiry) → routing →
//! region → rate limit (per account, region and API) → the operation. Faults are decided before
//! anything else, so a faulted request never changes state (real clouds may apply a change and
//! then fail; the simulator chooses the simple, documented behaviour).
//!
//! # What the simulator does not reproduce
//! (The same list, with more detail, is in `docs/simulator.md`.)
//! - Endpoints: one listener answers every product and region; the `Host` header is not checked;
//!   only the regions above exist.
//! - Authorisation: no RAM / IAM policies (`Forbidden.RAM`, `AccessDeniedDetail`); an AssumeRole
//!   session `Policy` is checked for JSON but not applied; roles are fixed; no Huawei AK lockout
//!   after 5 failed authentications.
//! - Signatures: ACS4 (SPI gateway), SDK-HMAC-SM3 and other Huawei algorithms, Huawei temporary
//!   credentials. `Format=XML` still gets JSON.
//! - Exact message texts of most errors (codes and statuses follow the docs), resolvable
//!   `Recommend` URLs.
//! - Statuses/codes the docs leave open are the simulator's choices: `Throttling.User` → 400,
//!   ESA `Certificate.NotFound` → 404, unknown ESA site → 404 `Site.NotFound`, unknown cas
//!   identifier → 404 `Certificate.NotFound`, IoTDA missing certificate → 404 `IOTDA.000404`,
//!   IoTDA injected errors → `IOTDA.000500`/`IOTDA.000503`, IoTDA bad offset/marker/fingerprint →
//!   400 `IOTDA.000006`, foreign project id or `Instance-Id` → 403 `IOTDA.000022`, KMS upload to
//!   or status change of a non-PENDING / PENDING certificate → 400 `Certificate.StatusError`; the
//!   CDN, SSL repository and STS codes (none documented; listed in `docs/simulator.md`).
//! - KMS: `CertificatePrivateKeySign/PublicKeyVerify/PublicKeyEncrypt/PrivateKeyDecrypt`; chain
//!   validation on `UploadCertificate` (only the public key is compared); the SM2 CSR carries no
//!   extension request (subject and key only).
//! - cas: issuing and CA management, `ResourceGroupId` filtering, the meaning of `MaxResults`
//!   (set to `TotalCount`), the real `ShowSize` maximum (1–1000 here).
//! - ESA: `CreateClientCertificate`, edge certificates, the `ListSites` filters `AccessType`,
//!   `Coverage`, `OnlyEnterprise`, `OrderBy`, `PlanSubscribeType`, `ResourceGroupId`,
//!   `TagFilter`; certificate `Type` values (always `free`).
//! - VOD: `SetVodDomainSSLCertificate`, `DescribeVodCertificateList`,
//!   `DescribeVodSSLCertificateList`, tag filters, `ServiceBusy`/`InvalidDomain.Offline`/
//!   `IllegalOperation`/`OperationDenied`; SSL changes apply at once (no "configuring" phase).
//! - CDN: every operation but the three certificate ones (no DescribeCdnDomainByCertificate, no
//!   batch configuration, no SM2 certificates); a change applies at once (no "configuring"
//!   phase after it); `CertType=free`; whether the certificate covers the domain is not checked.
//! - SSL repository: SM2 certificate sets, tags, resource groups, ListCertificates and the
//!   deployment jobs; third-party clouds in ListCloudResources.
//! - IoTDA: CA-certificate operations, `list-device`, devices; the `fingerprint` list filter only
//!   finds certificates this run has already generated (listed or shown).
//! - Faults after a state change (real clouds may apply a change and then fail).

mod auth;
mod cdn;
mod data;
mod deploy;
mod errors;
mod esa;
mod estate;
mod faults;
mod iotda;
mod kms;
mod limits;
mod pca;
mod pki;
mod server;
mod ssl;
mod sts;
mod vod;

use crate::credentials::Secret;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Inventory size of a simulated account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimSize {
    /// A few dozen rows per service.
    Small,
    /// Thousands of rows.
    Medium,
    /// Hundreds of thousands of rows.
    Large,
    /// Exactly this many IoTDA device certificates (and proportionate other inventories).
    Count(usize),
}

impl SimSize {
    /// Number of IoTDA device certificates at this size.
    pub fn iot_device_certificates(self) -> usize {
        match self {
            SimSize::Small => 40,
            SimSize::Medium => 5_000,
            SimSize::Large => 200_000,
            SimSize::Count(n) => n,
        }
    }
}

impl FromStr for SimSize {
    type Err = SimError;

    /// `small`, `medium`, `large` (any case) or a number of IoTDA device certificates.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        match trimmed.to_ascii_lowercase().as_str() {
            "small" => Ok(SimSize::Small),
            "medium" => Ok(SimSize::Medium),
            "large" => Ok(SimSize::Large),
            other => other
                .replace('_', "")
                .parse::<usize>()
                .map(SimSize::Count)
                .map_err(|_| {
                    SimError::InvalidOption(format!(
                        "size {trimmed:?}: expected small, medium, large or a number"
                    ))
                }),
        }
    }
}

impl fmt::Display for SimSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimSize::Small => f.write_str("small"),
            SimSize::Medium => f.write_str("medium"),
            SimSize::Large => f.write_str("large"),
            SimSize::Count(n) => write!(f, "{n}"),
        }
    }
}

/// How `certdesk sim` (or the in-process demo) runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Address to listen on; loopback only. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Seed of the deterministic inventories.
    pub seed: u64,
    /// Inventory size.
    pub size: SimSize,
    /// Fraction (0..=1) of requests answered with an injected fault.
    pub fault_rate: f64,
    /// Enforce the published per-API rate limits.
    pub rate_limit: bool,
    /// Independent accounts served (1–1000). The first has the demo credentials; each has its
    /// own keys, account id and seeded inventories.
    pub accounts: usize,
    /// The day (UTC) every seeded date is counted from; `None`: the day the simulator starts.
    /// Fixed where what is shown must not change with the calendar (the GUI snapshot tests).
    pub anchor_day: Option<time::Date>,
}

impl Default for SimOptions {
    /// `127.0.0.1:0`, seed 42, small, no faults, rate limits on, one account, dates from today.
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 42,
            size: SimSize::Small,
            fault_rate: 0.0,
            rate_limit: true,
            accounts: 1,
            anchor_day: None,
        }
    }
}

/// The Alibaba regions the simulator serves, the home region (every request without a region
/// marker) first. How a request names its region: see the module documentation.
pub const ALIBABA_REGIONS: [&str; 3] = ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"];

/// The Huawei regions the simulator serves, the home region first; each account has one IAM
/// project per region, and the project id in the path says which region a request addresses.
pub const HUAWEI_REGIONS: [&str; 3] = ["cn-north-4", "cn-east-3", "ap-southeast-1"];

/// Rate limits and fault timing; the defaults are the published limits.
#[derive(Debug, Clone, PartialEq)]
pub struct SimTuning {
    /// Requests per second per user and API when nothing more specific is published.
    pub default_qps: u32,
    /// cas (private CA) client-certificate APIs: 10 per second per user (published).
    pub cas_client_certificate_qps: u32,
    /// VOD domain-certificate APIs: 30 per second (published for SetVodDomainSSLCertificate).
    pub vod_ssl_qps: u32,
    /// CDN SetCdnDomainSSLCertificate (not published for CDN; VOD's 30 per second for its sibling).
    pub cdn_ssl_qps: u32,
    /// IoTDA device-certificate APIs (not published; gateway default chosen).
    pub iotda_qps: u32,
    /// How long the "slow answer" fault waits before answering 503 (longer than any client timeout).
    pub fault_delay: Duration,
    /// Added to every answer, to model the network round trip to a real cloud region (0 by
    /// default: loopback speed).
    pub latency: Duration,
    /// Shortest `DurationSeconds` STS AssumeRole accepts: the documented 900 s; tests lower it to
    /// see temporary credentials expire.
    pub sts_min_duration: Duration,
}

impl Default for SimTuning {
    fn default() -> Self {
        SimTuning {
            default_qps: 100,
            cas_client_certificate_qps: 10,
            vod_ssl_qps: 30,
            cdn_ssl_qps: 30,
            iotda_qps: 100,
            fault_delay: Duration::from_secs(60),
            latency: Duration::ZERO,
            sts_min_duration: Duration::from_secs(900),
        }
    }
}

/// Why the simulator could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A bad option value (size, fault rate, non-loopback address).
    #[error("invalid simulator option: {0}")]
    InvalidOption(String),
    /// The listener could not be bound or served.
    #[error("simulator I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Generating the seeded certificate authorities failed.
    #[error("simulator certificate generation failed: {0}")]
    Pki(String),
}

/// The fixed, documented demo credentials every simulator accepts. They are public on purpose:
/// they only ever open the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCredentials {
    /// Alibaba AccessKey id.
    pub alibaba_access_key_id: String,
    /// Alibaba AccessKey secret.
    pub alibaba_access_key_secret: Secret,
    /// Huawei AK.
    pub huawei_ak: String,
    /// Huawei SK.
    pub huawei_sk: Secret,
    /// Huawei IAM project id (path parameter of every IoTDA call).
    pub huawei_project_id: String,
    /// Huawei region id (V11 derived signing uses it).
    pub huawei_region: String,
    /// IoTDA instance id (`Instance-Id` header; optional on requests).
    pub iotda_instance_id: String,
}

/// Alibaba demo AccessKey id.
pub const DEMO_ALIBABA_ACCESS_KEY_ID: &str = "LTAIcertdeskDEMO";
/// Alibaba demo AccessKey secret.
pub const DEMO_ALIBABA_ACCESS_KEY_SECRET: &str = "certdesk-demo-alibaba-secret";
/// Alibaba demo STS AccessKey id (requires [`DEMO_ALIBABA_STS_TOKEN`]).
pub const DEMO_ALIBABA_STS_ACCESS_KEY_ID: &str = "STS.certdeskDEMO";
/// Alibaba demo STS AccessKey secret.
pub const DEMO_ALIBABA_STS_ACCESS_KEY_SECRET: &str = "certdesk-demo-sts-secret";
/// Security token that goes with [`DEMO_ALIBABA_STS_ACCESS_KEY_ID`].
pub const DEMO_ALIBABA_STS_TOKEN: &str = "CAIScertdeskDEMOstsTOKEN/+==";
/// Huawei demo AK.
pub const DEMO_HUAWEI_AK: &str = "CERTDESKDEMOAK";
/// Huawei demo SK.
pub const DEMO_HUAWEI_SK: &str = "certdesk-demo-huawei-sk";
/// Huawei demo project id (32 hex, like a real IAM project id).
pub const DEMO_HUAWEI_PROJECT_ID: &str = "0c5a1e2b3d4f40718293a4b5c6d7e8f9";
/// Huawei demo region.
pub const DEMO_HUAWEI_REGION: &str = "cn-north-4";
/// IoTDA demo instance id.
pub const DEMO_IOTDA_INSTANCE_ID: &str = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f";

impl DemoCredentials {
    /// The demo credentials (the same for every simulator).
    pub fn demo() -> Self {
        DemoCredentials {
            alibaba_access_key_id: DEMO_ALIBABA_ACCESS_KEY_ID.to_string(),
            alibaba_access_key_secret: Secret::new(DEMO_ALIBABA_ACCESS_KEY_SECRET),
            huawei_ak: DEMO_HUAWEI_AK.to_string(),
            huawei_sk: Secret::new(DEMO_HUAWEI_SK),
            huawei_project_id: DEMO_HUAWEI_PROJECT_ID.to_string(),
            huawei_region: DEMO_HUAWEI_REGION.to_string(),
            iotda_instance_id: DEMO_IOTDA_INSTANCE_ID.to_string(),
        }
    }
}

/// Which simulated API a request counter belongs to.
pub use crate::model::Service as SimService;

/// One simulated account: its keys, ids, Huawei projects and RAM roles (what `certdesk sim`
/// prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimAccount {
    /// 1-based.
    pub number: usize,
    /// The 16-digit Alibaba account id.
    pub account_id: String,
    /// Alibaba AccessKey id.
    pub alibaba_access_key_id: String,
    /// Alibaba AccessKey secret.
    pub alibaba_access_key_secret: Secret,
    /// Huawei AK.
    pub huawei_ak: String,
    /// Huawei SK.
    pub huawei_sk: Secret,
    /// One IAM project per entry of [`HUAWEI_REGIONS`], in that order.
    pub huawei_projects: Vec<SimProject>,
    /// The account's RAM roles.
    pub roles: Vec<SimRole>,
}

/// A Huawei IAM project of an account (one per region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimProject {
    /// Region id.
    pub region: String,
    /// Project id (the path parameter of every IoTDA call; it selects the region).
    pub project_id: String,
    /// IoTDA instance id of the region (`Instance-Id` header; optional on requests).
    pub instance_id: String,
}

/// A RAM role of a simulated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRole {
    /// `acs:ram::<account id>:role/<name>`.
    pub arn: String,
    /// The `ExternalId` the role's trust policy requires.
    pub external_id: Option<String>,
    /// `MaxSessionDuration`.
    pub max_session_seconds: u32,
    /// Only the role's own account may assume it (the others: every simulated account).
    pub own_account_only: bool,
}

/// A CDN domain's HTTPS state, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdnSslState {
    /// `on` or `off`.
    pub ssl_protocol: String,
    /// `upload` or `cas` (empty: never had a certificate).
    pub cert_type: String,
    /// The repository CertId of a `cas` certificate.
    pub cert_id: Option<i64>,
    /// SHA-256 (lower-case hex) of the configured certificate.
    pub sha256: Option<String>,
}

/// A simulator serving in this process. Dropping it stops the server too (without waiting);
/// [`RunningSimulator::shutdown`] also waits for the server task.
pub struct RunningSimulator {
    addr: SocketAddr,
    credentials: DemoCredentials,
    state: Arc<server::SimState>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for RunningSimulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSimulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Starts a simulator in this process (demo mode, tests, benches) with the published limits.
pub async fn start(options: SimOptions) -> Result<RunningSimulator, SimError> {
    start_tuned(options, SimTuning::default()).await
}

/// Starts a simulator with explicit rate limits / fault timing.
pub async fn start_tuned(
    options: SimOptions,
    tuning: SimTuning,
) -> Result<RunningSimulator, SimError> {
    if !options.listen.ip().is_loopback() {
        return Err(SimError::InvalidOption(format!(
            "{} is not a loopback address; the simulator serves plain http on loopback only",
            options.listen
        )));
    }
    if !(0.0..=1.0).contains(&options.fault_rate) {
        return Err(SimError::InvalidOption(format!(
            "fault rate {} is not within 0..=1",
            options.fault_rate
        )));
    }
    let credentials = DemoCredentials::demo();
    let state = Arc::new(server::SimState::new(&options, &tuning, &credentials)?);
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::serve(listener, Arc::clone(&state), shutdown_rx));
    Ok(RunningSimulator {
        addr,
        credentials,
        state,
        shutdown,
        task,
    })
}

impl RunningSimulator {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint every client points at, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The demo credentials this simulator accepts.
    pub fn credentials(&self) -> &DemoCredentials {
        &self.credentials
    }

    /// Stops accepting, drops open connections and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Requests that reached the given service's operations (after authentication and routing).
    pub fn request_count(&self, service: SimService) -> u64 {
        self.state.counters.service(service)
    }

    /// Every request received, including rejected and faulted ones.
    pub fn total_requests(&self) -> u64 {
        self.state.counters.total()
    }

    /// Requests answered with an injected fault.
    pub fn faults_injected(&self) -> u64 {
        self.state.counters.faults()
    }

    /// Requests refused by a rate limit.
    pub fn throttled_requests(&self) -> u64 {
        self.state.counters.throttled()
    }

    /// Requests refused by authentication (bad key, signature, clock, nonce).
    pub fn auth_failures(&self) -> u64 {
        self.state.counters.auth_failures()
    }

    /// KMS certificate status (`PENDING`/`ACTIVE`/`INACTIVE`/`REVOKED`); `None` when unknown.
    pub fn kms_status(&self, certificate_id: &str) -> Option<String> {
        self.state.kms_status(certificate_id)
    }

    /// Every KMS CertificateId (KMS has no list API; tests and the demo need the seeded ids).
    pub fn kms_certificate_ids(&self) -> Vec<String> {
        self.state.kms_ids()
    }

    /// Private-CA certificate status (`ISSUE`/`REVOKE`); `None` when unknown or deleted.
    pub fn pca_status(&self, identifier: &str) -> Option<String> {
        self.state.pca_status(identifier)
    }

    /// ESA client-certificate status (`active`/`revoked`); `None` when unknown or deleted.
    pub fn esa_status(&self, site_id: i64, certificate_id: &str) -> Option<String> {
        self.state.esa_status(site_id, certificate_id)
    }

    /// IoTDA device-certificate status (`ACTIVE`/`INACTIVE`); `None` when unknown or deleted.
    pub fn iotda_status(&self, certificate_id: &str) -> Option<String> {
        self.state.iotda_status(certificate_id)
    }

    /// How many mutating `action` requests (e.g. `CreateRevokeClientCertificate`,
    /// `UpdateDeviceCertificate`) for `target` reached a handler, i.e. were not faulted, throttled
    /// or refused at authentication.
    pub fn mutation_requests(&self, action: &str, target: &str) -> u64 {
        self.state.mutation_count(action, target)
    }

    /// Every certificate the simulator holds now, in the simulator's own terms (its status words,
    /// expiry as UNIX seconds): what tests compare the app's views against.
    pub fn certificates(&self) -> Vec<SimCertificate> {
        self.state.certificates()
    }

    /// Number of IoTDA device certificates currently present.
    pub fn iotda_count(&self) -> usize {
        self.state.iotda_count()
    }

    /// VOD domain SSL state: `(SslProtocol on|off, CertName, certificate CN)`; `None` when unknown.
    pub fn vod_ssl(&self, domain: &str) -> Option<VodSslState> {
        self.state.vod_ssl(domain)
    }

    /// Every simulated account, the first (demo credentials) first.
    pub fn accounts(&self) -> Vec<SimAccount> {
        self.state.accounts()
    }

    /// KMS CertificateIds of account `account` (0-based) in `region` (one of [`ALIBABA_REGIONS`]).
    pub fn kms_certificate_ids_in(&self, account: usize, region: &str) -> Vec<String> {
        match ALIBABA_REGIONS.iter().position(|r| *r == region) {
            Some(r) if account < self.state.account_count() => self.state.kms_ids_in(account, r),
            _ => Vec::new(),
        }
    }

    /// A CDN domain's HTTPS state in account `account` (0-based) as a client addressing `region`
    /// sees it; `None` when unknown.
    pub fn cdn_ssl(&self, account: usize, region: &str, domain: &str) -> Option<CdnSslState> {
        (account < self.state.account_count())
            .then(|| self.state.cdn_ssl(account, region, domain))
            .flatten()
    }

    /// CDN domains of account `account` (0-based) behind `region`: (name, `on`/`off`, expiry in
    /// UNIX seconds).
    pub fn cdn_domains(&self, account: usize, region: &str) -> Vec<(String, String, Option<i64>)> {
        if account < self.state.account_count() {
            self.state.cdn_domains(account, region)
        } else {
            Vec::new()
        }
    }

    /// The SSL certificate repository of account `account` (0-based) at the site serving
    /// `region`: (CertId, name, expiry in UNIX seconds).
    pub fn ssl_certificates(
        &self,
        account: usize,
        region: &str,
    ) -> Vec<(i64, String, Option<i64>)> {
        if account < self.state.account_count() {
            self.state.ssl_certificates(account, region)
        } else {
            Vec::new()
        }
    }

    /// Makes every temporary credential STS has issued expire now (to test expiry and refresh
    /// without waiting).
    pub fn expire_temporary_credentials(&self) {
        self.state.expire_temporary_credentials();
    }
}

/// One certificate as the simulator holds it (see [`RunningSimulator::certificates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCertificate {
    /// Service.
    pub service: SimService,
    /// ESA site.
    pub site_id: Option<i64>,
    /// Provider id (KMS CertificateId, cas identifier, ESA id, VOD domain, IoTDA certificate_id).
    pub id: String,
    /// The simulator's status word (`ACTIVE`, `ISSUE`, `revoked`, `on`...).
    pub status: String,
    /// Expiry, UNIX seconds (`None`: no certificate yet, KMS PENDING).
    pub not_after: Option<i64>,
}

/// A VOD domain's HTTPS settings, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VodSslState {
    /// `on` or `off`.
    pub ssl_protocol: String,
    /// Certificate name.
    pub cert_name: String,
    /// Common name of the certificate.
    pub cert_common_name: String,
    /// `upload`, `cas` or `free`.
    pub cert_type: String,
    /// Expiry of the certificate, `yyyy-MM-ddTHH:mm:ssZ`.
    pub cert_expire_time: String,
}

/// Runs `certdesk sim`: prints the address and demo credentials, serves until Ctrl-C.
pub async fn run_cli(options: SimOptions) -> Result<(), SimError> {
    let started = std::time::Instant::now();
    let size = options.size;
    let sim = start(options.clone()).await?;
    let creds = sim.credentials();
    println!("certdesk simulator listening on {}", sim.endpoint());
    println!(
        "  size {size} ({} IoTDA device certificates), seed {}, fault rate {}, rate limits {}, started in {:.2?}",
        size.iot_device_certificates(),
        options.seed,
        options.fault_rate,
        if options.rate_limit { "on" } else { "off" },
        started.elapsed()
    );
    // Printing the demo secrets is intended: they are public constants that only open this
    // simulator.
    println!("Alibaba Cloud (KMS, private CA, ESA, VOD, CDN, SSL certificates, STS):");
    println!(
        "  ALIBABA_CLOUD_ACCESS_KEY_ID={}",
        creds.alibaba_access_key_id
    );
    println!(
        "  ALIBABA_CLOUD_ACCESS_KEY_SECRET={}",
        creds.alibaba_access_key_secret.expose()
    );
    println!(
        "  (STS variant: id {DEMO_ALIBABA_STS_ACCESS_KEY_ID}, secret {DEMO_ALIBABA_STS_ACCESS_KEY_SECRET}, token {DEMO_ALIBABA_STS_TOKEN})"
    );
    println!("Huawei Cloud IoTDA:");
    println!("  HUAWEICLOUD_SDK_AK={}", creds.huawei_ak);
    println!("  HUAWEICLOUD_SDK_SK={}", creds.huawei_sk.expose());
    println!("  project id {}", creds.huawei_project_id);
    println!("  region {}", creds.huawei_region);
    println!("  instance id {}", creds.iotda_instance_id);
    println!(
        "Regions: Alibaba {} (the first is the default; name one with the signed header x-acs-region-id or a RegionId parameter),",
        ALIBABA_REGIONS.join(", ")
    );
    println!(
        "  Huawei {} (the project id in the path selects the region: one project per account and region).",
        HUAWEI_REGIONS.join(", ")
    );
    println!(
        "Accounts (one machine-readable line per account and cloud, then its Huawei projects and RAM roles):"
    );
    print!("{}", machine_lines(&sim.accounts()));
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

/// The machine-readable lines of `certdesk sim` (each at the start of a line, space-separated):
///
/// - `account <n> alibaba <account id> <AccessKeyId> <AccessKeySecret>`
/// - `account <n> huawei <AK> <SK> <project id>` (the project of the home region, `cn-north-4`)
/// - `project <n> huawei <region> <project id> <IoTDA instance id>` (one per Huawei region)
/// - `role <n> <role ARN> <MaxSessionDuration seconds> <ExternalId or -> <any|own>` (who may
///   assume it: every simulated account, or only its own)
pub fn machine_lines(accounts: &[SimAccount]) -> String {
    let mut out = String::new();
    for a in accounts {
        let n = a.number;
        // Printing the secrets is intended: they only open this simulator.
        out.push_str(&format!(
            "account {n} alibaba {} {} {}\n",
            a.account_id,
            a.alibaba_access_key_id,
            a.alibaba_access_key_secret.expose()
        ));
        let home = a
            .huawei_projects
            .first()
            .map(|p| p.project_id.as_str())
            .unwrap_or_default();
        out.push_str(&format!(
            "account {n} huawei {} {} {home}\n",
            a.huawei_ak,
            a.huawei_sk.expose()
        ));
        for p in &a.huawei_projects {
            out.push_str(&format!(
                "project {n} huawei {} {} {}\n",
                p.region, p.project_id, p.instance_id
            ));
        }
        for r in &a.roles {
            out.push_str(&format!(
                "role {n} {} {} {} {}\n",
                r.arn,
                r.max_session_seconds,
                r.external_id.as_deref().unwrap_or("-"),
                if r.own_account_only { "own" } else { "any" }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!("small".parse::<SimSize>().unwrap(), SimSize::Small);
        assert_eq!("Medium".parse::<SimSize>().unwrap(), SimSize::Medium);
        assert_eq!("LARGE".parse::<SimSize>().unwrap(), SimSize::Large);
        assert_eq!(
            "1000000".parse::<SimSize>().unwrap(),
            SimSize::Count(1_000_000)
        );
        assert_eq!("1_000".parse::<SimSize>().unwrap(), SimSize::Count(1000));
        assert!("huge".parse::<SimSize>().is_err());
        assert!("-3".parse::<SimSize>().is_err());
    }

    #[test]
    fn default_options_are_documented_ones() {
        let o = SimOptions::default();
        assert!(o.listen.ip().is_loopback());
        assert_eq!(o.listen.port(), 0);
        assert_eq!(o.seed, 42);
        assert_eq!(o.size, SimSize::Small);
        assert_eq!(o.fault_rate, 0.0);
        assert!(o.rate_limit);
        assert_eq!(o.accounts, 1);
        assert_eq!(o.anchor_day, None);
    }

    #[tokio::test]
    async fn a_fixed_anchor_day_moves_every_seeded_date_with_it_and_nothing_else() {
        let on = |day| SimOptions {
            anchor_day: Some(day),
            ..SimOptions::default()
        };
        let a = start(on(time::macros::date!(2025 - 06 - 02)))
            .await
            .unwrap();
        let b = start(on(time::macros::date!(2025 - 06 - 09)))
            .await
            .unwrap();
        let (mut ca, mut cb) = (a.certificates(), b.certificates());
        assert!(ca.len() > 100, "{} certificates", ca.len());
        ca.sort_by(|x, y| x.id.cmp(&y.id));
        cb.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(ca.len(), cb.len());
        let midnight = time::macros::datetime!(2025-06-02 00:00 UTC).unix_timestamp();
        for (x, y) in ca.iter().zip(&cb) {
            assert_eq!((&x.id, &x.status, x.site_id), (&y.id, &y.status, y.site_id));
            assert_eq!(x.not_after.map(|t| t + 7 * 86_400), y.not_after, "{}", x.id);
        }
        // The demo's soon-to-expire certificates are soon after the anchor, not after today.
        let month = midnight..midnight + 30 * 86_400;
        assert!(
            ca.iter()
                .any(|c| c.not_after.is_some_and(|t| month.contains(&t)))
        );
        a.shutdown().await;
        b.shutdown().await;
    }

    #[tokio::test]
    async fn machine_lines_name_every_account_with_its_keys() {
        let sim = start(SimOptions {
            accounts: 2,
            ..SimOptions::default()
        })
        .await
        .unwrap();
        let accounts = sim.accounts();
        let text = machine_lines(&accounts);
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
        assert_eq!(
            lines[0],
            [
                "account",
                "1",
                "alibaba",
                "1234567890123456",
                DEMO_ALIBABA_ACCESS_KEY_ID,
                DEMO_ALIBABA_ACCESS_KEY_SECRET
            ]
        );
        assert_eq!(
            lines[1],
            [
                "account",
                "1",
                "huawei",
                DEMO_HUAWEI_AK,
                DEMO_HUAWEI_SK,
                DEMO_HUAWEI_PROJECT_ID
            ]
        );
        let second: Vec<&Vec<&str>> = lines.iter().filter(|l| l[1] == "2").collect();
        assert_eq!(second[0][2], "alibaba");
        assert_eq!(second[0][4], accounts[1].alibaba_access_key_id);
        assert_ne!(second[0][3], "1234567890123456");
        assert_eq!(second[1][2], "huawei");
        assert_eq!(
            lines.iter().filter(|l| l[0] == "project").count(),
            2 * HUAWEI_REGIONS.len()
        );
        assert!(lines.iter().all(|l| l.len() >= 5 && !l.contains(&"")));
        sim.shutdown().await;
    }
}

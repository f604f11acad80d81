//! The listener and the dispatcher: one accept loop (so an injected "connection reset" can really
//! drop a connection), one axum router whose only handler tells the services apart — IoTDA by its
//! `/v5/iot/{project_id}/…` paths, Alibaba RPC by version and action (V3 headers
//! `x-acs-action`/`x-acs-version`, V1 parameters `Action`/`Version`) — and runs every request
//! through fault injection, authentication, rate limiting and the service, in that order. The
//! account is the signing key's; the region is the request's region marker (`x-acs-region-id`,
//! else a `RegionId` parameter) for Alibaba and the project id for Huawei (see `estate`).

use super::auth::{self, NonceStore, WireRequest};
use super::deploy::{RepoCert, SSL_SITES};
use super::errors::{self, ApiError};
use super::estate::{self, Estate, lock};
use super::faults::{Fault, FaultInjector};
use super::iotda::{self, IotdaOp, IotdaState};
use super::limits::{LimitClass, Limits};
use super::sts;
use super::{
    CdnSslState, DemoCredentials, HUAWEI_REGIONS, SimAccount, SimError, SimOptions, SimRole,
    SimService, SimTuning, VodSslState,
};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// Largest request body read (VOD PEMs travel in the query; form bodies are small).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Request counters, for tests and the CLI.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    total: AtomicU64,
    faults: AtomicU64,
    throttled: AtomicU64,
    auth_failures: AtomicU64,
    per_service: [AtomicU64; 8],
}

fn service_slot(service: SimService) -> usize {
    match service {
        SimService::Kms => 0,
        SimService::Pca => 1,
        SimService::Esa => 2,
        SimService::Vod => 3,
        SimService::Iotda => 4,
        SimService::Cdn => 5,
        SimService::Ssl => 6,
        SimService::Sts => 7,
    }
}

impl Counters {
    pub(crate) fn service(&self, service: SimService) -> u64 {
        self.per_service[service_slot(service)].load(Ordering::Relaxed)
    }
    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
    pub(crate) fn faults(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }
    pub(crate) fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
    pub(crate) fn auth_failures(&self) -> u64 {
        self.auth_failures.load(Ordering::Relaxed)
    }
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Everything one simulator instance knows.
pub(crate) struct SimState {
    estate: Estate,
    nonces: NonceStore,
    limits: Limits,
    faults: FaultInjector,
    fault_delay: Duration,
    latency: Duration,
    iotda_qps: u32,
    pub(crate) counters: Counters,
    /// Mutating requests that reached a handler, per "Action:target", so tests can prove that no
    /// change was sent twice (e.g. after a crash and resume).
    mutations: Mutex<std::collections::HashMap<String, u64>>,
}

/// The first account (tests and the demo read its home inventories).
const FIRST: usize = 0;
/// The home region (index 0 of the region lists).
const HOME: usize = 0;

impl SimState {
    pub(crate) fn new(
        options: &SimOptions,
        tuning: &SimTuning,
        creds: &DemoCredentials,
    ) -> Result<SimState, SimError> {
        let sts_min = u32::try_from(tuning.sts_min_duration.as_secs()).unwrap_or(u32::MAX);
        Ok(SimState {
            estate: Estate::new(options, creds, sts_min.max(1))?,
            nonces: NonceStore::default(),
            limits: Limits::new(options.rate_limit, tuning),
            faults: FaultInjector::new(options.fault_rate, options.seed),
            fault_delay: tuning.fault_delay,
            latency: tuning.latency,
            iotda_qps: tuning.iotda_qps,
            counters: Counters::default(),
            mutations: Mutex::new(std::collections::HashMap::new()),
        })
    }

    fn home(&self) -> Option<Arc<estate::Shard>> {
        self.estate.shard(FIRST, HOME).ok()
    }

    fn iot_home(&self) -> Option<Arc<estate::IotShard>> {
        self.estate.iot_shard(FIRST, HOME).ok()
    }

    pub(crate) fn kms_status(&self, id: &str) -> Option<String> {
        self.home()?.kms().status(id)
    }
    pub(crate) fn kms_ids(&self) -> Vec<String> {
        self.kms_ids_in(FIRST, HOME)
    }
    pub(crate) fn kms_ids_in(&self, account: usize, region: usize) -> Vec<String> {
        match self.estate.shard(account, region) {
            Ok(shard) => shard.kms().ids(),
            Err(_) => Vec::new(),
        }
    }
    pub(crate) fn pca_status(&self, identifier: &str) -> Option<String> {
        self.home()?.pca().status(identifier)
    }
    pub(crate) fn esa_status(&self, site_id: i64, id: &str) -> Option<String> {
        self.home()?.esa().status(site_id, id)
    }
    pub(crate) fn iotda_status(&self, id: &str) -> Option<String> {
        let shard = self.iot_home()?;
        lock(&shard.iot).status_text(shard.inv.seed, id)
    }
    pub(crate) fn certificates(&self) -> Vec<super::SimCertificate> {
        use super::SimCertificate;
        let unix = |t: Option<time::OffsetDateTime>| t.map(|t| t.unix_timestamp());
        let plain =
            |service: SimService, rows: Vec<(String, String, Option<time::OffsetDateTime>)>| {
                rows.into_iter().map(move |(id, status, t)| SimCertificate {
                    service,
                    site_id: None,
                    id,
                    status,
                    not_after: unix(t),
                })
            };
        let mut out: Vec<SimCertificate> = Vec::new();
        let (Some(home), Some(iot)) = (self.home(), self.iot_home()) else {
            return out;
        };
        out.extend(plain(SimService::Kms, home.kms().listing()));
        out.extend(plain(SimService::Pca, home.pca().listing()));
        out.extend(
            home.esa()
                .listing()
                .into_iter()
                .map(|(site, id, status, t)| SimCertificate {
                    service: SimService::Esa,
                    site_id: Some(site),
                    id,
                    status,
                    not_after: unix(t),
                }),
        );
        out.extend(plain(SimService::Vod, home.vod().listing(&home.inv)));
        out.extend(plain(
            SimService::Iotda,
            lock(&iot.iot).listing(iot.inv.seed, iot.inv.anchor),
        ));
        out
    }
    pub(crate) fn iotda_count(&self) -> usize {
        self.iot_home()
            .map(|s| lock(&s.iot).live_count())
            .unwrap_or(0)
    }
    pub(crate) fn vod_ssl(&self, domain: &str) -> Option<VodSslState> {
        let home = self.home()?;
        let vod = home.vod();
        vod.ssl(&home.inv, domain)
    }

    /// A CDN domain's HTTPS state in `account`'s inventory behind `region`.
    pub(crate) fn cdn_ssl(
        &self,
        account: usize,
        region: &str,
        domain: &str,
    ) -> Option<CdnSslState> {
        let r = estate::alibaba_site(SimService::Cdn, Some(region)).ok()?;
        let shard = self.estate.shard(account, r).ok()?;
        let (ssl, cert_type, cert_id, sha256) = shard.cdn().ssl(&shard.inv, domain)?;
        Some(CdnSslState {
            ssl_protocol: ssl,
            cert_type,
            cert_id,
            sha256: sha256.map(|s| s.to_ascii_lowercase()),
        })
    }

    /// CDN domains (name, `on`/`off`, expiry) of `account` behind `region`.
    pub(crate) fn cdn_domains(
        &self,
        account: usize,
        region: &str,
    ) -> Vec<(String, String, Option<i64>)> {
        let Ok(r) = estate::alibaba_site(SimService::Cdn, Some(region)) else {
            return Vec::new();
        };
        let Ok(shard) = self.estate.shard(account, r) else {
            return Vec::new();
        };
        let cdn = shard.cdn();
        cdn.listing(&shard.inv)
            .into_iter()
            .map(|(d, s, t)| (d, s, t.map(|t| t.unix_timestamp())))
            .collect()
    }

    /// The SSL repository (CertId, name, expiry) of `account` at the site serving `region`.
    pub(crate) fn ssl_certificates(
        &self,
        account: usize,
        region: &str,
    ) -> Vec<(i64, String, Option<i64>)> {
        let Ok(r) = estate::alibaba_site(SimService::Ssl, Some(region)) else {
            return Vec::new();
        };
        let Ok(shard) = self.estate.shard(account, r) else {
            return Vec::new();
        };
        let ssl = shard.ssl();
        ssl.listing(&shard.inv)
            .into_iter()
            .map(|(id, name, t)| (id, name, t.map(|t| t.unix_timestamp())))
            .collect()
    }

    pub(crate) fn accounts(&self) -> Vec<SimAccount> {
        self.estate
            .accounts
            .iter()
            .map(|a| SimAccount {
                number: a.number,
                account_id: a.id.clone(),
                alibaba_access_key_id: a.alibaba_id.clone(),
                alibaba_access_key_secret: a.alibaba_secret.clone(),
                huawei_ak: a.huawei_ak.clone(),
                huawei_sk: a.huawei_sk.clone(),
                huawei_projects: a
                    .projects
                    .iter()
                    .map(|p| super::SimProject {
                        region: p.region.to_string(),
                        project_id: p.id.clone(),
                        instance_id: p.instance_id.clone(),
                    })
                    .collect(),
                roles: a
                    .roles
                    .iter()
                    .map(|r| SimRole {
                        arn: r.arn.clone(),
                        external_id: r.external_id.clone(),
                        max_session_seconds: r.max_session,
                        own_account_only: r.trust == estate::Trust::OwnAccount,
                    })
                    .collect(),
            })
            .collect()
    }

    pub(crate) fn account_count(&self) -> usize {
        self.estate.accounts.len()
    }

    pub(crate) fn expire_temporary_credentials(&self) {
        self.estate.expire_temporary(OffsetDateTime::now_utc());
    }
}

/// Per-connection handle the dispatcher uses to drop its own connection.
#[derive(Clone)]
struct ConnectionControl {
    kill: Arc<Notify>,
}

/// Accepts connections until `shutdown` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<SimState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = Router::new().fallback(dispatch).with_state(state);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(serve_connection(stream, router.clone(), shutdown.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    // A duplicate of the socket lets a reset fault set SO_LINGER=0 (so closing sends RST) after
    // hyper owns the stream.
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let twin = std_stream.try_clone().ok();
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let control = ConnectionControl {
        kill: Arc::new(Notify::new()),
    };
    let kill = Arc::clone(&control.kill);
    let service = TowerToHyperService::new(router.layer(Extension(control)));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = kill.notified() => {
            if let Some(twin) = twin
                && let Ok(twin) = TcpStream::from_std(twin)
            {
                let _ = twin.set_zero_linger();
            }
            // Returning drops the connection (and the twin): the client gets a reset, no answer.
        }
        _ = shutdown.changed() => {}
    }
}

const KMS_ACTIONS: &[&str] = &[
    "DescribeCertificate",
    "GetCertificate",
    "CreateCertificate",
    "UploadCertificate",
    "UpdateCertificateStatus",
    "DeleteCertificate",
];
const PCA_ACTIONS: &[&str] = &[
    "ListClientCertificate",
    "DescribeClientCertificate",
    "DescribeClientCertificateStatus",
    "DescribeClientCertificateStatusForSerialNumber",
    "CreateRevokeClientCertificate",
    "ListRevokeCertificate",
    "DeleteClientCertificate",
];
const ESA_ACTIONS: &[&str] = &[
    "ListSites",
    "GetSite",
    "ListClientCertificates",
    "GetClientCertificate",
    "RevokeClientCertificate",
    "ActivateClientCertificate",
    "DeleteClientCertificate",
];
const VOD_ACTIONS: &[&str] = &[
    "DescribeVodUserDomains",
    "DescribeVodDomainCertificateInfo",
    "SetVodDomainCertificate",
    "SetVodDomainSSLCertificate",
    "DescribeVodDomainDetail",
];
const CDN_ACTIONS: &[&str] = &[
    "DescribeUserDomains",
    "DescribeDomainCertificateInfo",
    "SetCdnDomainSSLCertificate",
];
const SSL_ACTIONS: &[&str] = &[
    "ListUserCertificateOrder",
    "GetUserCertificateDetail",
    "UploadUserCertificate",
    "DeleteUserCertificate",
    "ListCloudResources",
];
const STS_ACTIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// Product by API version: the service and the name used in `Recommend` URLs.
fn product(version: Option<&str>) -> Option<(SimService, &'static str)> {
    match version? {
        "2016-01-20" => Some((SimService::Kms, "Kms")),
        "2020-06-30" => Some((SimService::Pca, "cas")),
        "2024-09-10" => Some((SimService::Esa, "ESA")),
        "2017-03-21" => Some((SimService::Vod, "vod")),
        "2018-05-10" => Some((SimService::Cdn, "Cdn")),
        "2020-04-07" => Some((SimService::Ssl, "cas")),
        "2015-04-01" => Some((SimService::Sts, "Sts")),
        _ => None,
    }
}

async fn dispatch(
    State(state): State<Arc<SimState>>,
    Extension(control): Extension<ConnectionControl>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    Counters::bump(&state.counters.total);
    let huawei = parts.uri.path().starts_with("/v5/");
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let err = ApiError::new(
                413,
                "RequestEntityTooLarge",
                "The request body is too large.",
            );
            return if huawei {
                errors::huawei_error(&err, &errors::huawei_request_id())
            } else {
                errors::alibaba_error(&err, &errors::alibaba_request_id(), "", "")
            };
        }
    };
    let wire = WireRequest {
        method: parts.method.as_str().to_ascii_uppercase(),
        path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts.headers,
        body,
    };

    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }

    // Faults come first: a faulted request never reaches authentication or state.
    if let Some(fault) = state.faults.roll() {
        Counters::bump(&state.counters.faults);
        let err = match fault {
            Fault::InternalError => internal_error(huawei),
            Fault::ServiceUnavailable => unavailable(huawei),
            Fault::ConnectionReset => {
                control.kill.notify_one();
                // The connection task drops this request with the connection.
                std::future::pending::<()>().await;
                unavailable(huawei)
            }
            Fault::Delay => {
                tokio::time::sleep(state.fault_delay).await;
                unavailable(huawei)
            }
        };
        return if huawei {
            errors::huawei_error(&err, &errors::huawei_request_id())
        } else {
            let (_, version) = auth::alibaba_action_version(&wire);
            let name = product(version.as_deref()).map(|p| p.1).unwrap_or_default();
            errors::alibaba_error(&err, &errors::alibaba_request_id(), &wire.host(), name)
        };
    }

    // State-only changes (a flag flipped under a lock, microseconds) run right here: a hop to the
    // blocking pool and back costs more than they do, and the simulator shares the CPU with the
    // client under test.
    if !huawei && is_state_only(&wire) {
        return handle_alibaba(&state, &wire);
    }
    // The other operations may generate certificates (CPU work): keep them off the async workers.
    let worker = Arc::clone(&state);
    let answer = tokio::task::spawn_blocking(move || {
        if huawei {
            handle_huawei(&worker, &wire)
        } else {
            handle_alibaba(&worker, &wire)
        }
    })
    .await;
    match answer {
        Ok(response) => response,
        Err(_) => {
            let err = internal_error(huawei);
            if huawei {
                errors::huawei_error(&err, &errors::huawei_request_id())
            } else {
                errors::alibaba_error(&err, &errors::alibaba_request_id(), "", "")
            }
        }
    }
}

/// Alibaba actions that only change or read a flag and never generate a certificate (see
/// `PcaState::handle`).
const STATE_ONLY_ACTIONS: &[&str] = &["CreateRevokeClientCertificate", "DeleteClientCertificate"];

/// Whether the request is a cas action from [`STATE_ONLY_ACTIONS`] (a name ESA shares is not).
fn is_state_only(wire: &WireRequest) -> bool {
    let (action, version) = auth::alibaba_action_version(wire);
    matches!(product(version.as_deref()), Some((SimService::Pca, _)))
        && action.is_some_and(|a| STATE_ONLY_ACTIONS.contains(&a.as_str()))
}

fn internal_error(huawei: bool) -> ApiError {
    if huawei {
        // Not documented for IoTDA (only the status is); the simulator's own code.
        ApiError::new(500, "IOTDA.000500", "Internal Server Error")
    } else {
        ApiError::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }
}

fn unavailable(huawei: bool) -> ApiError {
    if huawei {
        ApiError::new(503, "IOTDA.000503", "Service Unavailable")
    } else {
        ApiError::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }
}

fn handle_alibaba(state: &SimState, wire: &WireRequest) -> Response {
    let request_id = errors::alibaba_request_id();
    let host = wire.host();
    let (_, claimed_version) = auth::alibaba_action_version(wire);
    let claimed = product(claimed_version.as_deref())
        .map(|p| p.1)
        .unwrap_or_default();
    let fail =
        |err: ApiError, product: &str| errors::alibaba_error(&err, &request_id, &host, product);

    let now = OffsetDateTime::now_utc();
    let keys = |id: &str| state.estate.alibaba_key(id);
    let call = match auth::verify_alibaba(wire, &keys, &state.nonces, now) {
        Ok(call) => call,
        Err(err) => {
            Counters::bump(&state.counters.auth_failures);
            return fail(err, claimed);
        }
    };
    let Some((service, name)) = product(Some(&call.version)) else {
        return fail(
            ApiError::new(
                400,
                "NoSuchVersion",
                "Specified parameter Version is not valid.",
            ),
            "",
        );
    };
    let known = match service {
        SimService::Kms => KMS_ACTIONS,
        SimService::Pca => PCA_ACTIONS,
        SimService::Esa => ESA_ACTIONS,
        SimService::Vod => VOD_ACTIONS,
        SimService::Cdn => CDN_ACTIONS,
        SimService::Ssl => SSL_ACTIONS,
        SimService::Sts => STS_ACTIONS,
        SimService::Iotda => &[],
    };
    if !known.contains(&call.action.as_str()) {
        return fail(ApiError::unknown_action(), name);
    }
    // The region: the `x-acs-region-id` header of a V3 request (V3 refuses unsigned `x-acs-*`
    // headers), else a `RegionId` parameter (signed in both versions; a V1 request's headers are
    // not signed, so its header is ignored); without either, the account's home region.
    let v3 = wire.headers.contains_key("authorization");
    let region = v3
        .then(|| wire.header("x-acs-region-id"))
        .flatten()
        .or_else(|| call.params.get("RegionId").cloned());
    let site = match estate::alibaba_site(service, region.as_deref()) {
        Ok(site) => site,
        Err(err) => return fail(err, name),
    };
    let class = match service {
        SimService::Pca => LimitClass::CasClientCertificate,
        SimService::Vod
            if matches!(
                call.action.as_str(),
                "SetVodDomainCertificate" | "SetVodDomainSSLCertificate"
            ) =>
        {
            LimitClass::VodSsl
        }
        SimService::Cdn if call.action == "SetCdnDomainSSLCertificate" => LimitClass::CdnSsl,
        _ => LimitClass::Default,
    };
    let account = call.key.account;
    let limit_key = format!(
        "{}/{}",
        state.estate.accounts[account].id,
        super::ALIBABA_REGIONS[site]
    );
    if let Err(wait) = state.limits.check(class, &limit_key, &call.action) {
        Counters::bump(&state.counters.throttled);
        // The docs do not confirm the HTTP status of Throttling.User; 400 like `Throttling`.
        let mut err = ApiError::new(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        );
        err.retry_after_ms = Some(wait.as_millis().max(1) as u64);
        return fail(err, name);
    }
    Counters::bump(&state.counters.per_service[service_slot(service)]);
    if let Some(target) = mutation_target(&call.action, &call.params) {
        state.record_mutation(&call.action, &target);
    }
    match run_alibaba(state, service, account, site, &call, now) {
        Ok(body) => errors::alibaba_ok(body, &request_id),
        Err(err) => fail(err, name),
    }
}

/// Runs an authenticated, routed, admitted Alibaba call against account `account`'s inventory in
/// simulated region `site`.
fn run_alibaba(
    state: &SimState,
    service: SimService,
    account: usize,
    site: usize,
    call: &auth::AlibabaCall,
    now: OffsetDateTime,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let (action, params) = (call.action.as_str(), &call.params);
    if service == SimService::Sts {
        return sts::handle(&state.estate, &call.key, action, params, now);
    }
    let shard = state.estate.shard(account, site)?;
    let inv = &shard.inv;
    match service {
        SimService::Kms => shard.kms().handle(inv, action, params),
        SimService::Pca => shard.pca().handle(inv, action, params),
        SimService::Esa => shard.esa().handle(inv, action, params),
        SimService::Vod => {
            let _links = lock(&state.estate.accounts[account].links);
            let cas = cas_certificate(state, account, action, params);
            shard.vod().handle(inv, action, params, cas)
        }
        SimService::Cdn => {
            let _links = lock(&state.estate.accounts[account].links);
            let cas = cas_certificate(state, account, action, params);
            shard.cdn().handle(inv, action, params, cas)
        }
        SimService::Ssl => {
            let reads_deployments =
                matches!(action, "ListCloudResources" | "DeleteUserCertificate");
            let _links = reads_deployments.then(|| lock(&state.estate.accounts[account].links));
            let deployments = if reads_deployments {
                state.estate.deployments(account)?
            } else {
                Vec::new()
            };
            shard.ssl().handle(inv, action, params, &deployments)
        }
        SimService::Sts | SimService::Iotda => Err(ApiError::unknown_action()),
    }
}

/// The repository certificate a SetCdnDomainSSLCertificate or SetVodDomainSSLCertificate names
/// (`CertType=cas`, or a `CertId` without a type), looked up in the account's repository at the
/// site `CertRegion` names (default `cn-hangzhou`, the China site).
fn cas_certificate(
    state: &SimState,
    account: usize,
    action: &str,
    params: &std::collections::BTreeMap<String, String>,
) -> Option<Result<RepoCert, ApiError>> {
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let names_cas = match get("CertType") {
        Some(t) => t == "cas",
        None => get("SSLPub").is_none() && get("CertId").is_some(),
    };
    let sets_ssl = matches!(
        action,
        "SetCdnDomainSSLCertificate" | "SetVodDomainSSLCertificate"
    );
    if !sets_ssl || get("SSLProtocol") != Some("on") || !names_cas {
        return None;
    }
    let id = get("CertId")?;
    Some((|| {
        let id = id
            .parse::<i64>()
            .map_err(|_| ApiError::invalid_parameter("CertId", "It must be an integer."))?;
        let region = get("CertRegion").unwrap_or(SSL_SITES[0]);
        if !SSL_SITES.contains(&region) {
            return Err(ApiError::invalid_parameter(
                "CertRegion",
                "Valid values: cn-hangzhou, ap-southeast-1.",
            ));
        }
        let site = estate::alibaba_site(SimService::Ssl, Some(region))?;
        let shard = state.estate.shard(account, site)?;
        let ssl = shard.ssl();
        ssl.repo_cert(&shard.inv, id)
    })())
}

/// The target of a mutating Alibaba action (None for reads).
fn mutation_target(
    action: &str,
    params: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let key = match action {
        "UpdateCertificateStatus" | "UploadCertificate" | "DeleteCertificate" => "CertificateId",
        "CreateRevokeClientCertificate" | "DeleteClientCertificate" => "Identifier",
        "RevokeClientCertificate" | "ActivateClientCertificate" => "Id",
        "SetVodDomainCertificate" | "SetVodDomainSSLCertificate" | "SetCdnDomainSSLCertificate" => {
            "DomainName"
        }
        "UploadUserCertificate" => "Name",
        "DeleteUserCertificate" => "CertId",
        _ => return None,
    };
    Some(params.get(key).cloned().unwrap_or_default())
}

impl SimState {
    fn record_mutation(&self, action: &str, target: &str) {
        *lock(&self.mutations)
            .entry(format!("{action}:{target}"))
            .or_default() += 1;
    }

    /// How many `action` requests for `target` reached the handler (after auth, faults, limits).
    pub(crate) fn mutation_count(&self, action: &str, target: &str) -> u64 {
        lock(&self.mutations)
            .get(&format!("{action}:{target}"))
            .copied()
            .unwrap_or(0)
    }
}

fn handle_huawei(state: &SimState, wire: &WireRequest) -> Response {
    let request_id = errors::huawei_request_id();
    match huawei_operation(state, wire) {
        Ok((status, body)) => errors::huawei_ok(status, body, &request_id),
        Err(err) => errors::huawei_error(&err, &request_id),
    }
}

fn no_such_api() -> ApiError {
    ApiError::gateway(
        404,
        "APIG.0101",
        "The API does not exist or has not been published in the environment.",
    )
}

fn huawei_operation(
    state: &SimState,
    wire: &WireRequest,
) -> Result<(StatusCode, Option<serde_json::Value>), ApiError> {
    let rest = wire.path.strip_prefix("/v5/iot/");
    let scope = rest
        .and_then(|r| r.split_once('/'))
        .and_then(|(project, _)| state.estate.project(project));
    // The project id names the region (an IAM project is regional); V11 derived signatures must be
    // scoped to it. A project that is not simulated is checked against the home region and then
    // refused below.
    let region = HUAWEI_REGIONS[scope.map(|s| s.1).unwrap_or(HOME)];
    let keys = |ak: &str| state.estate.huawei_key(ak);
    let call = auth::verify_huawei(wire, &keys, region, OffsetDateTime::now_utc())
        .inspect_err(|_| Counters::bump(&state.counters.auth_failures))?;
    let rest = rest.ok_or_else(no_such_api)?;
    let (_, rest) = rest.split_once('/').ok_or_else(no_such_api)?;
    // Not documented for IoTDA: a project or instance that is not the caller's is refused as a
    // permission problem.
    let forbidden = || {
        ApiError::new(
            403,
            "IOTDA.000022",
            "Operation not allowed. The user does not have the permission",
        )
    };
    let (account, r) = match scope {
        Some((account, r)) if account == call.account => (account, r),
        _ => return Err(forbidden()),
    };
    let project = &state.estate.accounts[account].projects[r];
    if let Some(instance) = wire.header("instance-id")
        && instance != project.instance_id
    {
        return Err(forbidden());
    }
    let op = iotda::route(&wire.method, rest, call.query, &wire.body).ok_or_else(no_such_api)?;
    let api = match &op {
        IotdaOp::List(_) => "ListDeviceCertificate",
        IotdaOp::Show(_) => "ShowDeviceCertificate",
        IotdaOp::Update(..) => "UpdateDeviceCertificate",
        IotdaOp::Delete(_) => "DeleteDeviceCertificate",
    };
    let limit_key = format!("{}/{}", state.estate.accounts[account].id, project.region);
    if state
        .limits
        .check(LimitClass::Iotda, &limit_key, api)
        .is_err()
    {
        Counters::bump(&state.counters.throttled);
        return Err(ApiError::gateway(
            429,
            "APIG.0308",
            format!(
                "The throttling threshold has been reached: policy user over ratelimit,limit:{},time:1 second",
                state.iotda_qps
            ),
        ));
    }
    Counters::bump(&state.counters.per_service[service_slot(SimService::Iotda)]);
    if let IotdaOp::Update(id, _) | IotdaOp::Delete(id) = &op {
        state.record_mutation(api, id);
    }
    let status = iotda::success_status(&op);
    let shard = state.estate.iot_shard(account, r)?;
    let inv = &shard.inv;
    let seed = inv.seed;
    match op {
        IotdaOp::List(query) => {
            let (indices, total) = lock(&shard.iot).plan_list(seed, &query)?;
            let mut rows = Vec::with_capacity(indices.len());
            for i in indices {
                rows.push((i, IotdaState::generate(inv, i)?));
            }
            let mut iot = lock(&shard.iot);
            for (i, cert) in &rows {
                iot.remember(*i, cert);
            }
            Ok((status, Some(iot.list_body(seed, &rows, total))))
        }
        IotdaOp::Show(id) => {
            let i = lock(&shard.iot).find(seed, &id)?;
            let cert = IotdaState::generate(inv, i)?;
            let mut iot = lock(&shard.iot);
            iot.remember(i, &cert);
            Ok((status, Some(iot.show_body(seed, i, &cert))))
        }
        IotdaOp::Update(id, body) => {
            let active = IotdaState::parse_update(&body)?;
            let i = lock(&shard.iot).find(seed, &id)?;
            let cert = IotdaState::generate(inv, i)?;
            let mut iot = lock(&shard.iot);
            // Found before generating; check again in case it was deleted meanwhile.
            let i = iot.find(seed, &id)?;
            iot.set_status(i, active);
            iot.remember(i, &cert);
            Ok((status, Some(iot.show_body(seed, i, &cert))))
        }
        IotdaOp::Delete(id) => {
            let mut iot = lock(&shard.iot);
            let i = iot.find(seed, &id)?;
            iot.delete(i);
            Ok((status, None))
        }
    }
}

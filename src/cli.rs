//! The headless command line (clap) over the same core as the GUI: one subcommand per cloud
//! operation, the simulator (`certdesk sim`), and the GUI when no subcommand is given.
//!
//! The command surface is a stable contract (scripts depend on it). Output is a readable table,
//! or the typed API response as JSON with `--json`. Failures print ONE line to stderr and exit
//! non-zero: 1 = the cloud call failed, 2 = usage (bad arguments, unreadable files, refused
//! endpoint), 3 = configuration (no credentials, no project id), 4 = the simulator or the GUI
//! could not run, 5 = an estate command (`inventory`, `find`) could not read some accounts,
//! regions or services (the rows of the others were printed). This module parses and prints;
//! it knows no wire format.

use crate::cloud::{
    AlibabaClientConfig, AlibabaSignatureVersion, EsaClient, HuaweiClientConfig, HuaweiSigning,
    IotdaClient, KmsClient, PcaClient, ProxySetting, SiteId, Transport, VodClient,
};
use crate::credentials::Secret;
use crate::jobs::{BulkItem, CertificateUpload, ChangeRequest};
use crate::model::{CertificateRow, Change, Error, ErrorKind, Provider, Service};
use crate::profiles::{self, AccountCredentials};
use crate::sim::{SimOptions, SimSize};
use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bulk;
mod cas;
mod cdn;
mod cert_args;
mod change;
mod conventions;
mod estate;
mod pem;
mod profile;
mod rotate;
mod terminal;

use terminal::{escape_for_terminal, escape_lines_for_terminal};

const EXIT_CODES: &str = "\
Exit codes: 0 success, 1 the cloud call failed (inventory --fail-if-any: a certificate expires
within the days given), 2 usage error, 3 configuration error (no credentials or project id), 4 the
simulator or the window could not run, 5 inventory/find could not read some accounts, regions or
services (each is named on stderr; the others' rows were printed).
Credentials: --profile NAME (inventory and find: --profile A,B or --all-profiles), else the SDK
environment variables (ALIBABA_CLOUD_ACCESS_KEY_ID /
ALIBABA_CLOUD_ACCESS_KEY_SECRET [/ ALIBABA_CLOUD_SECURITY_TOKEN], HUAWEICLOUD_SDK_AK /
HUAWEICLOUD_SDK_SK [/ HUAWEICLOUD_SDK_PROJECT_ID]).";

/// certdesk: certificates in Alibaba Cloud (KMS, private CA, ESA, VOD, CDN, the SSL certificate
/// repository) and Huawei Cloud IoTDA.
/// Without a command, opens the desktop window.
#[derive(Debug, Parser)]
#[command(name = "certdesk", version = conventions::VERSION, after_help = EXIT_CODES)]
struct Cli {
    /// Profile (account) to use; default: the configured default profile or the SDK environment variables. inventory and find take several: A,B.
    #[arg(long, global = true, value_name = "NAME[,NAME…]")]
    profile: Option<String>,
    /// inventory and find: every enabled profile (all accounts and regions of the estate).
    #[arg(long, global = true, conflicts_with = "profile")]
    all_profiles: bool,
    /// The window only: open the demo over N simulated accounts (each in two regions), whatever
    /// profiles are configured — the whole estate without a real account.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    demo_accounts: Option<u16>,
    /// Endpoint override, e.g. https://kms.cn-shanghai.aliyuncs.com or http://127.0.0.1:PORT (plain http only for loopback).
    #[arg(long, global = true, value_name = "URL")]
    endpoint: Option<String>,
    /// Region id, e.g. cn-hangzhou or cn-north-4.
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    /// Print the typed API response as JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Alibaba signature: v3 (ACS3-HMAC-SHA256, default) or v1 (HMAC-SHA1).
    #[arg(long, global = true, value_enum, value_name = "VERSION")]
    alibaba_signature: Option<AlibabaSignatureArg>,
    /// Huawei signature: auto (by endpoint), basic (SDK-HMAC-SHA256) or derived (V11-HMAC-SHA256).
    #[arg(long, global = true, value_enum, value_name = "MODE")]
    huawei_signing: Option<HuaweiSigningArg>,
    /// Huawei IAM project id of the region (profile add: one per region, P1,P2 in the order of --regions, or REGION=ID,…).
    #[arg(long, global = true, value_name = "ID")]
    project_id: Option<String>,
    /// Huawei IoTDA instance id (Instance-Id header).
    #[arg(long, global = true, value_name = "ID")]
    instance_id: Option<String>,
    /// No informational output (progress, job notes); errors and the requested data still print.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AlibabaSignatureArg {
    V3,
    V1,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum HuaweiSigningArg {
    Auto,
    Basic,
    Derived,
}

impl AlibabaSignatureArg {
    fn version(self) -> AlibabaSignatureVersion {
        match self {
            AlibabaSignatureArg::V3 => AlibabaSignatureVersion::V3,
            AlibabaSignatureArg::V1 => AlibabaSignatureVersion::V1,
        }
    }
}

impl HuaweiSigningArg {
    fn signing(self) -> HuaweiSigning {
        match self {
            HuaweiSigningArg::Auto => HuaweiSigning::Auto,
            HuaweiSigningArg::Basic => HuaweiSigning::Basic,
            HuaweiSigningArg::Derived => HuaweiSigning::Derived,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Alibaba Cloud KMS certificates (2016-01-20).
    #[command(subcommand)]
    Kms(KmsCommand),
    /// Alibaba Cloud private CA client certificates (cas 2020-06-30).
    #[command(subcommand)]
    Pca(PcaCommand),
    /// Alibaba Cloud ESA client certificates (2024-09-10).
    #[command(subcommand)]
    Esa(EsaCommand),
    /// Alibaba Cloud VOD domain certificates (2017-03-21, Shanghai).
    #[command(subcommand)]
    Vod(VodCommand),
    /// Huawei Cloud IoTDA device certificates (v5).
    #[command(subcommand)]
    Iot(IotCommand),
    /// Alibaba Cloud CDN domain certificates (2018-05-10).
    #[command(subcommand)]
    Cdn(cdn::CdnCommand),
    /// The SSL certificate repository (Alibaba Cloud SSL Certificates Service, cas 2020-04-07).
    #[command(subcommand)]
    Cas(cas::CasCommand),
    /// Run the cloud simulator on loopback until Ctrl-C.
    Sim(SimArgs),
    /// Revoke / disable / enable / activate many certificates, or put a certificate on / switch
    /// HTTPS on or off for many CDN or VOD domains, at the API's rate limit, journaled.
    Bulk(bulk::BulkArgs),
    /// Bulk jobs in the journal: list them, resume an unfinished one, retry the failed items,
    /// undo one.
    #[command(subcommand)]
    Jobs(bulk::JobsCommand),
    /// Every change certdesk made (never a secret), as a table or CSV.
    Audit(bulk::AuditArgs),
    /// Inspect certificate, key and PKCS#12 files and run the upload checks.
    #[command(subcommand)]
    Pem(pem::PemCommand),
    /// Profiles (accounts): add, list, remove, set the default, test the connection.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Every certificate of the selected profiles and regions, as the window's tables show them.
    ///
    /// Reads every region of each selected profile (--profile A,B, --all-profiles, else each
    /// cloud's default profile); --region R keeps only R. An account, region or service that
    /// cannot be read is named on stderr and the others still print; the exit code is then 5.
    Inventory(estate::InventoryArgs),
    /// Find a certificate everywhere: SHA-256/SHA-1 fingerprint, serial number, id or name.
    ///
    /// Reads the selected profiles and regions as inventory does, then lists the certificates
    /// the window's find shows (the table filter's rules); the same row shape and exit codes.
    Find(estate::FindArgs),
    /// Print a shell completion script, e.g. `source <(certdesk completions bash)`.
    Completions(conventions::CompletionsArgs),
    /// Print the man page (roff), or write every page into a folder (for packaging).
    #[command(hide = true)]
    Man(conventions::ManArgs),
}

#[derive(Debug, Subcommand)]
enum KmsCommand {
    /// Show a certificate (DescribeCertificate).
    Describe {
        /// CertificateId.
        id: String,
    },
    /// Change a certificate's status (UpdateCertificateStatus).
    SetStatus {
        /// CertificateId.
        id: String,
        /// New status.
        #[arg(long, value_enum, ignore_case = true)]
        status: KmsStatusArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPERCASE")]
enum KmsStatusArg {
    Active,
    Inactive,
    Revoked,
}

#[derive(Debug, Subcommand)]
enum PcaCommand {
    /// List every client certificate (ListClientCertificate, all pages).
    List,
    /// Revocation status of certificates (DescribeClientCertificateStatus).
    Status {
        /// Certificate identifiers.
        #[arg(required = true)]
        identifiers: Vec<String>,
    },
    /// Revoke a certificate (CreateRevokeClientCertificate).
    Revoke {
        /// Certificate identifier.
        identifier: String,
    },
}

#[derive(Debug, Subcommand)]
enum EsaCommand {
    /// List sites (ListSites).
    Sites,
    /// List a site's client certificates (ListClientCertificates, all pages).
    List {
        /// Site id.
        #[arg(long = "site", value_name = "SITE_ID")]
        site: SiteId,
    },
    /// Revoke a client certificate (RevokeClientCertificate).
    Revoke {
        /// Site id.
        #[arg(long = "site", value_name = "SITE_ID")]
        site: SiteId,
        /// Certificate id.
        id: String,
    },
    /// Re-activate a client certificate (ActivateClientCertificate).
    Activate {
        /// Site id.
        #[arg(long = "site", value_name = "SITE_ID")]
        site: SiteId,
        /// Certificate id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum VodCommand {
    /// List accelerated domains (DescribeVodUserDomains).
    Domains,
    /// Certificate of a domain (DescribeVodDomainCertificateInfo).
    CertInfo {
        /// Domain name.
        domain: String,
    },
    /// Turn HTTPS on (with a certificate and key) or off (SetVodDomainCertificate).
    SetCert {
        /// Domain name.
        domain: String,
        /// on or off.
        #[arg(long, value_enum, value_name = "on|off")]
        ssl: SslArg,
        /// Certificate name.
        #[arg(long, value_name = "NAME")]
        cert_name: Option<String>,
        /// Certificate (chain) PEM file.
        #[arg(long = "cert", value_name = "FILE")]
        cert: Option<PathBuf>,
        /// Private key PEM file.
        #[arg(long = "key", value_name = "FILE")]
        key: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SslArg {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
enum IotCommand {
    /// List every device certificate (ListDeviceCertificate, all pages).
    List,
    /// Show a device certificate (ShowDeviceCertificate).
    Show {
        /// certificate_id.
        id: String,
    },
    /// Activate or deactivate a device certificate (UpdateDeviceCertificate).
    SetStatus {
        /// certificate_id.
        id: String,
        /// New status.
        #[arg(long, value_enum, ignore_case = true)]
        status: IotStatusArg,
    },
    /// Delete a device certificate (DeleteDeviceCertificate).
    Delete {
        /// certificate_id.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPERCASE")]
enum IotStatusArg {
    Active,
    Inactive,
}

#[derive(Debug, clap::Args)]
struct SimArgs {
    /// Loopback address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "127.0.0.1:PORT", default_value = "127.0.0.1:0", value_parser = parse_listen)]
    listen: SocketAddr,
    /// Seed of the deterministic inventories.
    #[arg(long, value_name = "N", default_value_t = 42)]
    seed: u64,
    /// Inventory size: small, medium, large or a number of IoTDA device certificates.
    #[arg(long, value_name = "SIZE", default_value = "small", value_parser = parse_sim_size)]
    size: SimSize,
    /// Fraction (0–1) of requests answered with an injected fault.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = parse_fault_rate)]
    fault_rate: f64,
    /// Do not enforce the published per-API rate limits.
    #[arg(long)]
    no_rate_limit: bool,
    /// Independent accounts to serve (own keys, account id and inventories), 1–1000.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
    accounts: u16,
}

fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an address such as 127.0.0.1:8080"))?;
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(format!(
            "the simulator listens on loopback only (127.0.0.1 or ::1), not {}",
            addr.ip()
        ))
    }
}

fn parse_sim_size(text: &str) -> Result<SimSize, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "small" => Ok(SimSize::Small),
        "medium" => Ok(SimSize::Medium),
        "large" => Ok(SimSize::Large),
        other => other
            .replace('_', "")
            .parse::<usize>()
            .map(SimSize::Count)
            .map_err(|_| format!("{text:?}: expected small, medium, large or a number")),
    }
}

fn parse_fault_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{text:?}: expected a fraction between 0 and 1")),
    }
}

/// Why a command failed; decides the exit code.
#[derive(Debug)]
enum Failure {
    /// A cloud operation failed: its kind decides the exit code.
    Cloud(Error),
    /// Bad arguments or unreadable input files.
    Usage(String),
    /// Missing credentials or settings.
    Config(String),
    /// The simulator or the window failed.
    Run(String),
    /// Some items of a bulk job failed (each was reported with its provider code), or
    /// `inventory --fail-if-any` found certificates expiring.
    Items(String),
    /// An estate command could not read some accounts, regions or services (each was named).
    Partial(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            // Failures found before anything was sent: a refused endpoint or an unusable argument
            // is a usage error, a missing account or key a configuration error.
            Failure::Cloud(e) if e.http_status.is_none() && e.kind == ErrorKind::InvalidInput => 2,
            Failure::Cloud(e) if e.kind == ErrorKind::Config => 3,
            Failure::Cloud(e) if e.http_status.is_none() && e.kind == ErrorKind::Auth => 3,
            Failure::Cloud(_) | Failure::Items(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Config(_) => 3,
            Failure::Run(_) => 4,
            Failure::Partial(_) => 5,
        }
    }

    /// One line, never a secret.
    fn line(&self) -> String {
        match self {
            Failure::Cloud(e) => match e.service {
                Some(service) => format!("error ({service}): {e}"),
                None => format!("error: {e}"),
            },
            Failure::Usage(m)
            | Failure::Config(m)
            | Failure::Run(m)
            | Failure::Items(m)
            | Failure::Partial(m) => {
                format!(
                    "error: {}",
                    m.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            }
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Cloud(e)
    }
}

/// A client could not be built: the error's kind decides the exit code (see [`Failure`]).
fn setup_failure(e: Error) -> Failure {
    Failure::Cloud(e)
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    conventions::set_quiet(cli.quiet);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(conventions::colour_on_stderr())
        .try_init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // A cloud error carries the provider's message: printed, never interpreted.
            eprintln!("{}", escape_for_terminal(&failure.line()));
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    if cli.command.is_some() && cli.demo_accounts.is_some() {
        return Err(Failure::Usage(
            "--demo-accounts opens the window: give it without a command (the simulator for \
             commands is `certdesk sim --accounts N`)"
                .into(),
        ));
    }
    let Some(command) = cli.command else {
        if cli.all_profiles || cli.profile.as_deref().is_some_and(|p| p.contains(',')) {
            return Err(Failure::Usage(
                "the window opens one --profile NAME, or every enabled profile without --profile"
                    .into(),
            ));
        }
        // The window owns the main thread (and its own runtime).
        return crate::ui::run(cli.profile.clone(), cli.demo_accounts.map(usize::from))
            .map_err(Failure::Run);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Run(format!("cannot start the async runtime: {e}")))?;
    let globals = Globals {
        profile: cli.profile,
        all_profiles: cli.all_profiles,
        endpoint: cli.endpoint,
        region: cli.region,
        json: cli.json,
        alibaba_signature: cli.alibaba_signature,
        huawei_signing: cli.huawei_signing,
        project_id: cli.project_id,
        instance_id: cli.instance_id,
    };
    runtime.block_on(dispatch(&globals, command))
}

/// The global options every subcommand reads.
#[derive(Clone)]
struct Globals {
    profile: Option<String>,
    all_profiles: bool,
    endpoint: Option<String>,
    region: Option<String>,
    json: bool,
    alibaba_signature: Option<AlibabaSignatureArg>,
    huawei_signing: Option<HuaweiSigningArg>,
    project_id: Option<String>,
    instance_id: Option<String>,
}

impl Globals {
    /// The one profile a single-account command uses (`None`: the default or the environment);
    /// several (`--profile A,B`, `--all-profiles`) are refused, saying so.
    fn single_profile(&self) -> Result<Option<String>, Failure> {
        if self.all_profiles {
            return Err(Failure::Usage(
                "this command works on exactly one account: --all-profiles is for inventory and \
                 find; choose one with --profile NAME"
                    .into(),
            ));
        }
        match profiles::Selection::from_list(self.profile.as_deref()) {
            profiles::Selection::Named(names) if names.len() > 1 => Err(Failure::Usage(format!(
                "this command works on exactly one account, but --profile names {}: {}; \
                 choose one (several are for inventory and find)",
                names.len(),
                names.join(", ")
            ))),
            profiles::Selection::Named(mut names) => Ok(names.pop()),
            _ => Ok(None),
        }
    }

    fn transport(&self) -> Result<Transport, Failure> {
        Transport::new().map_err(|e| Failure::Run(e.to_string()))
    }

    /// The transport for bulk jobs: no transport-level retries, the engine retries (with the
    /// journal written before each attempt).
    fn transport_for_jobs(&self) -> Result<Transport, Failure> {
        Transport::with_options(crate::cloud::TransportOptions {
            retry: crate::cloud::RetryPolicy::none(),
            ..crate::cloud::TransportOptions::default()
        })
        .map_err(|e| Failure::Run(e.to_string()))
    }

    /// The resolved Alibaba account with the global flags applied on top.
    fn alibaba(&self) -> Result<AlibabaClientConfig, Failure> {
        self.alibaba_account().map(|(config, _)| config)
    }

    /// [`Globals::alibaba`] plus the profile `profiles::resolve` chose (its name is what the
    /// journal and audit log record; `env` for the SDK environment variables).
    fn alibaba_account(&self) -> Result<(AlibabaClientConfig, profiles::Profile), Failure> {
        let account = profiles::resolve(self.single_profile()?.as_deref(), Provider::Alibaba)
            .map_err(|e| Failure::Config(e.to_string()))?;
        let region = self
            .region
            .clone()
            .unwrap_or_else(|| account.profile.region.clone());
        // A role profile gets its role session (assumed with its source profile's key).
        let mut config = profiles::alibaba_config(
            &account,
            &region,
            self.endpoint.as_deref(),
            &self.transport()?,
        )?;
        if let Some(signature) = self.alibaba_signature {
            config.signature = signature.version();
        }
        Ok((config, account.profile))
    }

    /// The resolved Huawei account with the global flags applied on top.
    fn huawei(&self) -> Result<HuaweiClientConfig, Failure> {
        self.huawei_account().map(|(config, _)| config)
    }

    /// [`Globals::huawei`] plus the profile `profiles::resolve` chose.
    fn huawei_account(&self) -> Result<(HuaweiClientConfig, profiles::Profile), Failure> {
        let account = profiles::resolve(self.single_profile()?.as_deref(), Provider::Huawei)
            .map_err(|e| Failure::Config(e.to_string()))?;
        let profile = account.profile.clone();
        let AccountCredentials::Huawei(credentials) = account.credentials else {
            return Err(Failure::Config(format!(
                "profile {:?} is not a Huawei Cloud profile",
                account.profile.name
            )));
        };
        let project_id = self
            .project_id
            .clone()
            .or(account.profile.project_id)
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| {
                Failure::Config(
                    "no Huawei project id: pass --project-id, set HUAWEICLOUD_SDK_PROJECT_ID or add it to the profile"
                        .to_string(),
                )
            })?;
        let proxy = ProxySetting::from_profile(account.profile.proxy.as_deref())
            .map_err(Failure::Config)?;
        let config = HuaweiClientConfig {
            credentials,
            region: self.region.clone().unwrap_or(account.profile.region),
            endpoint: self.endpoint.clone().or(account.profile.endpoint),
            signing: self
                .huawei_signing
                .map_or(account.profile.huawei_signing, HuaweiSigningArg::signing),
            project_id,
            instance_id: self.instance_id.clone().or(account.profile.instance_id),
            proxy,
        };
        Ok((config, profile))
    }
}

async fn dispatch(g: &Globals, command: Command) -> Result<(), Failure> {
    match command {
        Command::Kms(cmd) => kms(g, cmd).await,
        Command::Pca(cmd) => pca(g, cmd).await,
        Command::Esa(cmd) => esa(g, cmd).await,
        Command::Vod(cmd) => vod(g, cmd).await,
        Command::Iot(cmd) => iot(g, cmd).await,
        Command::Cdn(cmd) => cdn::run(g, cmd).await,
        Command::Cas(cmd) => cas::run(g, cmd).await,
        Command::Bulk(args) => rotate::bulk(g, args).await,
        Command::Jobs(cmd) => rotate::jobs(g, cmd).await,
        Command::Audit(args) => bulk::audit(g, args),
        Command::Pem(cmd) => pem::run(g, cmd),
        Command::Profile(cmd) => profile::run(g, cmd).await,
        Command::Inventory(args) => estate::inventory(g, args).await,
        Command::Find(args) => estate::find(g, args).await,
        Command::Completions(args) => conventions::completions(args),
        Command::Man(args) => conventions::man(args),
        Command::Sim(args) => {
            let options = SimOptions {
                listen: args.listen,
                seed: args.seed,
                size: args.size,
                fault_rate: args.fault_rate,
                rate_limit: !args.no_rate_limit,
                accounts: usize::from(args.accounts),
                anchor_day: None,
            };
            crate::sim::run_cli(options)
                .await
                .map_err(|e| Failure::Run(format!("simulator: {e}")))
        }
    }
}

async fn kms(g: &Globals, cmd: KmsCommand) -> Result<(), Failure> {
    let client = KmsClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
    match cmd {
        KmsCommand::Describe { id } => {
            let r = client.describe_certificate(&id).await?;
            emit(g, &r, || {
                let mut out = row_table(&[r.to_row()], false);
                for (k, v) in [
                    ("Subject", r.subject.as_str()),
                    ("Issuer", &r.issuer),
                    ("KeySpec", &r.key_spec),
                    ("NotBefore", &r.not_before),
                    ("NotAfter", &r.not_after),
                    ("Arn", &r.arn),
                    ("RequestId", &r.request_id),
                ] {
                    out.push_str(&format!("{k:<10} {}\n", escape_for_terminal(v)));
                }
                out
            })
        }
        KmsCommand::SetStatus { id, status } => {
            let change = match status {
                KmsStatusArg::Active => Change::Enable,
                KmsStatusArg::Inactive => Change::Disable,
                KmsStatusArg::Revoked => Change::Revoke,
            };
            change::apply(g, item(Service::Kms, id, None), change.into(), None).await
        }
    }
}

async fn pca(g: &Globals, cmd: PcaCommand) -> Result<(), Failure> {
    let client = PcaClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
    match cmd {
        PcaCommand::List => {
            let all = client
                .list_all(progress_printer("private CA certificates"))
                .await?;
            emit(g, &all, || {
                row_table(&all.iter().map(|c| c.to_row()).collect::<Vec<_>>(), false)
            })
        }
        PcaCommand::Status { identifiers } => {
            let statuses = client
                .describe_client_certificate_status(&identifiers)
                .await?;
            emit(g, &statuses, || {
                let mut out = format!("{:<40} {:<8} {}\n", "SERIAL", "STATUS", "REVOKED AT");
                for s in &statuses {
                    let revoked = s
                        .revoke_time
                        .map(|ms| format_time(Some(ms.div_euclid(1000))))
                        .unwrap_or_default();
                    out.push_str(&format!(
                        "{:<40} {:<8} {revoked}\n",
                        escape_for_terminal(&s.serial_number),
                        escape_for_terminal(&s.status)
                    ));
                }
                out
            })
        }
        PcaCommand::Revoke { identifier } => {
            let item = item(Service::Pca, identifier, None);
            change::apply(g, item, Change::Revoke.into(), None).await
        }
    }
}

async fn esa(g: &Globals, cmd: EsaCommand) -> Result<(), Failure> {
    let client = EsaClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
    match cmd {
        EsaCommand::Sites => {
            let sites = client.list_sites().await?;
            emit(g, &sites, || {
                let mut out = format!("{:<20} {:<10} {}\n", "SITE_ID", "STATUS", "NAME");
                for s in &sites {
                    let id = s.site_id.map(|i| i.to_string()).unwrap_or_default();
                    out.push_str(&format!(
                        "{id:<20} {:<10} {}\n",
                        escape_for_terminal(&s.status),
                        escape_for_terminal(&s.site_name)
                    ));
                }
                out
            })
        }
        EsaCommand::List { site } => {
            let all = client
                .list_client_certificates(site, progress_printer("ESA client certificates"))
                .await?;
            emit(g, &all, || {
                row_table(&all.iter().map(|c| c.to_row()).collect::<Vec<_>>(), true)
            })
        }
        EsaCommand::Revoke { site, id } => {
            let item = item(Service::Esa, id, Some(site.0));
            change::apply(g, item, Change::Revoke.into(), None).await
        }
        EsaCommand::Activate { site, id } => {
            let item = item(Service::Esa, id, Some(site.0));
            change::apply(g, item, Change::Activate.into(), None).await
        }
    }
}

/// Reads a PEM file for `flag` (at most [`crate::import::MAX_FILE_BYTES`]; a regular file or a
/// pipe), with a clear message when it is missing, unreadable, too large or not text.
fn read_pem(flag: &str, path: &Path) -> Result<String, Failure> {
    use crate::files::{Accept, read_bounded};
    let cannot = |reason: String| {
        Failure::Usage(format!(
            "cannot read {flag} file {}: {reason}",
            path.display()
        ))
    };
    let bytes = read_bounded(
        path,
        crate::import::MAX_FILE_BYTES,
        Accept::RegularFilesAndPipes,
    )
    .map_err(|e| cannot(e.to_string()))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| cannot("it is not text (PEM expected)".into()))?
        .to_string();
    if text.trim().is_empty() {
        return Err(Failure::Usage(format!(
            "{flag} file {} is empty",
            path.display()
        )));
    }
    Ok(text)
}

async fn vod(g: &Globals, cmd: VodCommand) -> Result<(), Failure> {
    let client = VodClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
    match cmd {
        VodCommand::Domains => {
            let domains = client.describe_vod_user_domains().await?;
            emit(g, &domains, || {
                let mut out = format!("{:<6} {:<14} {}\n", "SSL", "STATUS", "DOMAIN");
                for d in &domains {
                    out.push_str(&format!(
                        "{:<6} {:<14} {}\n",
                        escape_for_terminal(&d.ssl_protocol),
                        escape_for_terminal(&d.domain_status),
                        escape_for_terminal(&d.domain_name)
                    ));
                }
                out
            })
        }
        VodCommand::CertInfo { domain } => {
            let r = client.describe_vod_domain_certificate_info(&domain).await?;
            let sha256 = r.cert_infos.cert_info.first().and_then(|c| c.sha256());
            let shown = WithSha256 {
                response: &r,
                sha256: sha256.clone(),
            };
            emit(g, &shown, || {
                if r.cert_infos.cert_info.is_empty() {
                    return format!(
                        "{domain}: no certificate (RequestId: {})\n",
                        escape_for_terminal(&r.request_id)
                    );
                }
                let mut out = row_table(
                    &r.cert_infos
                        .cert_info
                        .iter()
                        .map(|c| c.to_row())
                        .collect::<Vec<_>>(),
                    false,
                );
                for c in &r.cert_infos.cert_info {
                    out.push_str(&format!(
                        "{}: name {:?}, for {}, type {}, org {}, expires {}\n",
                        escape_for_terminal(&c.domain_name),
                        c.cert_name,
                        escape_for_terminal(&c.cert_domain_name),
                        escape_for_terminal(&c.cert_type),
                        escape_for_terminal(&c.cert_org),
                        escape_for_terminal(&c.cert_expire_time)
                    ));
                }
                if let Some(sha) = &sha256 {
                    out.push_str(&format!("SHA-256 {sha}\n"));
                }
                out
            })
        }
        VodCommand::SetCert {
            domain,
            ssl,
            cert_name,
            cert,
            key,
        } => {
            if cert.is_some() != key.is_some() {
                return Err(Failure::Usage("--cert and --key go together".to_string()));
            }
            let request = match (ssl, cert, key) {
                (SslArg::Off, None, None) => Change::HttpsOff.into(),
                (SslArg::Off, _, _) => {
                    return Err(Failure::Usage(
                        "--cert and --key install a certificate, which turns HTTPS on: use --ssl on"
                            .to_string(),
                    ));
                }
                (SslArg::On, Some(cert), Some(key)) => {
                    ChangeRequest::SetCertificate(CertificateUpload {
                        cert_name: cert_name.unwrap_or_default(),
                        certificate_pem: read_pem("--cert", &cert)?,
                        private_key: Secret::new(read_pem("--key", &key)?),
                    })
                }
                (SslArg::On, _, _) => {
                    return Err(Failure::Usage(
                        "--ssl on needs the certificate: pass --cert and --key".to_string(),
                    ));
                }
            };
            change::apply(g, item(Service::Vod, domain, None), request, None).await
        }
    }
}

async fn iot(g: &Globals, cmd: IotCommand) -> Result<(), Failure> {
    let client = IotdaClient::new(&g.transport()?, &g.huawei()?).map_err(setup_failure)?;
    match cmd {
        IotCommand::List => {
            let all = client
                .list_all(progress_printer("IoTDA device certificates"))
                .await?;
            emit(g, &all, || {
                row_table(&all.iter().map(|c| c.to_row()).collect::<Vec<_>>(), false)
            })
        }
        IotCommand::Show { id } => {
            let c = client.show_device_certificate(&id).await?;
            emit(g, &c, || {
                let mut out = row_table(&[c.to_row()], false);
                out.push_str(&format!(
                    "fingerprint {}\n",
                    escape_for_terminal(&c.fingerprint)
                ));
                if !c.certificate_pem.is_empty() {
                    out.push_str(&escape_lines_for_terminal(&c.certificate_pem));
                    if !c.certificate_pem.ends_with('\n') {
                        out.push('\n');
                    }
                }
                out
            })
        }
        IotCommand::SetStatus { id, status } => {
            let change = match status {
                IotStatusArg::Active => Change::Enable,
                IotStatusArg::Inactive => Change::Disable,
            };
            change::apply(g, item(Service::Iotda, id, None), change.into(), None).await
        }
        IotCommand::Delete { id } => {
            change::apply(
                g,
                item(Service::Iotda, id, None),
                Change::Delete.into(),
                None,
            )
            .await
        }
    }
}

/// The item a single change addresses (its name is not known without a read).
fn item(service: Service, id: String, site_id: Option<i64>) -> BulkItem {
    BulkItem {
        service,
        id,
        site_id,
        name: String::new(),
    }
}

/// A typed certificate-info response with the served certificate's SHA-256 (lower-case hex of the
/// PEM the service returned) next to its own fields, for `--json`.
#[derive(Serialize)]
struct WithSha256<'a, T: Serialize> {
    #[serde(flatten)]
    response: &'a T,
    /// `null` when the service returned no certificate.
    sha256: Option<String>,
}

/// Prints `value` as JSON with `--json`, else the text `table` builds.
fn emit<T: Serialize + ?Sized>(
    g: &Globals,
    value: &T,
    table: impl FnOnce() -> String,
) -> Result<(), Failure> {
    let text = if g.json {
        let mut json = serde_json::to_string_pretty(value)
            .map_err(|e| Failure::Run(format!("cannot encode the result: {e}")))?;
        json.push('\n');
        json
    } else {
        table()
    };
    print!("{text}");
    Ok(())
}

/// `YYYY-MM-DD HH:MM` UTC, or empty when unknown.
fn format_time(unix: Option<i64>) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    unix.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// The common table of certificate rows (every cloud-provided cell escaped for the terminal).
fn row_table(rows: &[CertificateRow], with_site: bool) -> String {
    let id_width = rows
        .iter()
        .map(|r| r.id.chars().count())
        .max()
        .unwrap_or(2)
        .clamp(2, 64);
    let mut out = String::new();
    if with_site {
        out.push_str(&format!("{:<15} ", "SITE_ID"));
    }
    out.push_str(&format!(
        "{:<id_width$} {:<9} {:<16} {}\n",
        "ID", "STATUS", "NOT AFTER (UTC)", "NAME"
    ));
    for r in rows {
        if with_site {
            out.push_str(&format!(
                "{:<15} ",
                r.site_id.map(|s| s.to_string()).unwrap_or_default()
            ));
        }
        let status = if r.raw_status.is_empty() {
            r.status.label()
        } else {
            r.raw_status.as_str()
        };
        out.push_str(&format!(
            "{:<id_width$} {:<9} {:<16} {}\n",
            escape_for_terminal(&r.id),
            escape_for_terminal(status),
            format_time(r.not_after),
            escape_for_terminal(&r.name)
        ));
    }
    out
}

/// Progress of long listings on stderr, only when a person is watching.
fn progress_printer(what: &'static str) -> impl FnMut(usize, Option<usize>) {
    let interactive = std::io::stderr().is_terminal() && !conventions::quiet();
    move |fetched, total| {
        if interactive {
            match total {
                Some(total) => eprint!("\r{what}: {fetched}/{total}"),
                None => eprint!("\r{what}: {fetched}"),
            }
            if total.is_some_and(|t| fetched >= t) {
                eprintln!();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_surface_parses() {
        Cli::command().debug_assert();
        let ok = [
            vec!["certdesk", "kms", "describe", "id-1"],
            vec![
                "certdesk",
                "kms",
                "set-status",
                "id-1",
                "--status",
                "INACTIVE",
            ],
            vec![
                "certdesk",
                "kms",
                "set-status",
                "id-1",
                "--status",
                "revoked",
            ],
            vec!["certdesk", "pca", "list"],
            vec!["certdesk", "pca", "status", "a", "b", "c"],
            vec!["certdesk", "pca", "revoke", "a"],
            vec!["certdesk", "esa", "sites"],
            vec!["certdesk", "esa", "list", "--site", "1234567890123"],
            vec![
                "certdesk",
                "esa",
                "revoke",
                "--site",
                "1234567890123",
                "cid",
            ],
            vec!["certdesk", "esa", "activate", "--site", "1", "cid"],
            vec!["certdesk", "vod", "domains"],
            vec!["certdesk", "vod", "cert-info", "a.example.com"],
            vec![
                "certdesk",
                "vod",
                "set-cert",
                "a.example.com",
                "--ssl",
                "on",
                "--cert-name",
                "n",
                "--cert",
                "c.pem",
                "--key",
                "k.pem",
            ],
            vec![
                "certdesk",
                "vod",
                "set-cert",
                "a.example.com",
                "--ssl",
                "off",
            ],
            vec!["certdesk", "iot", "list"],
            vec!["certdesk", "iot", "show", "x"],
            vec!["certdesk", "iot", "set-status", "x", "--status", "ACTIVE"],
            vec!["certdesk", "iot", "delete", "x"],
            vec!["certdesk", "sim"],
            vec![
                "certdesk",
                "sim",
                "--listen",
                "127.0.0.1:8080",
                "--seed",
                "7",
                "--size",
                "large",
                "--fault-rate",
                "0.1",
                "--no-rate-limit",
            ],
            vec!["certdesk", "sim", "--size", "250000"],
            vec![
                "certdesk",
                "--profile",
                "p",
                "--endpoint",
                "http://127.0.0.1:1",
                "--region",
                "cn-shanghai",
                "--json",
                "--alibaba-signature",
                "v1",
                "--huawei-signing",
                "derived",
                "--project-id",
                "p1",
                "--instance-id",
                "i1",
                "iot",
                "list",
            ],
            vec![
                "certdesk",
                "kms",
                "describe",
                "x",
                "--json",
                "--region",
                "cn-beijing",
            ],
            vec!["certdesk"],
            vec!["certdesk", "cdn", "domains"],
            vec!["certdesk", "--json", "cdn", "cert-info", "www.example.com"],
            vec![
                "certdesk",
                "cdn",
                "set-cert",
                "a.example.com",
                "--ssl",
                "off",
            ],
            vec![
                "certdesk",
                "cdn",
                "set-cert",
                "a.example.com",
                "--ssl",
                "on",
            ],
            vec![
                "certdesk",
                "cdn",
                "set-cert",
                "a.example.com",
                "--ssl",
                "on",
                "--cas-cert-id",
                "12000000",
                "--cas-region",
                "ap-southeast-1",
            ],
            vec![
                "certdesk",
                "cdn",
                "set-cert",
                "a.example.com",
                "--ssl",
                "on",
                "--cert",
                "c.pem",
                "--key",
                "k.pem",
                "--cert-name",
                "n",
                "--allow-expired",
            ],
            vec!["certdesk", "cas", "list"],
            vec!["certdesk", "cas", "show", "12000000"],
            vec![
                "certdesk", "cas", "upload", "--name", "n", "--cert", "c.pem", "--key", "k.pem",
            ],
            vec!["certdesk", "cas", "delete", "12000000"],
            vec!["certdesk", "cas", "where", "12000000"],
            vec![
                "certdesk",
                "bulk",
                "set-cert",
                "--target",
                "cdn",
                "--ids-from",
                "d.txt",
                "--cas-cert-id",
                "1",
                "--dry-run",
            ],
            vec![
                "certdesk",
                "bulk",
                "set-cert",
                "--target",
                "vod",
                "--ids-from",
                "d.txt",
                "--cert",
                "c.pem",
                "--key",
                "k.pem",
                "--yes",
            ],
            vec![
                "certdesk",
                "bulk",
                "https-on",
                "--target",
                "cdn",
                "--ids-from",
                "d.txt",
            ],
            vec![
                "certdesk",
                "bulk",
                "https-off",
                "--target",
                "vod",
                "--ids-from",
                "d.txt",
            ],
            vec!["certdesk", "jobs", "retry-failed", "j1"],
            vec!["certdesk", "jobs", "undo", "j1", "--yes"],
            vec![
                "certdesk", "jobs", "resume", "j1", "--cert", "c.pem", "--key", "k.pem",
            ],
        ];
        for args in ok {
            assert!(
                Cli::try_parse_from(&args).is_ok(),
                "{args:?}: {:?}",
                Cli::try_parse_from(&args).err()
            );
        }
        let bad = [
            vec![
                "certdesk",
                "kms",
                "set-status",
                "id-1",
                "--status",
                "DISABLED",
            ],
            vec!["certdesk", "iot", "set-status", "x", "--status", "REVOKED"],
            vec!["certdesk", "esa", "list", "--site", "abc"],
            vec!["certdesk", "esa", "list"],
            vec!["certdesk", "pca", "status"],
            vec!["certdesk", "vod", "set-cert", "d", "--ssl", "maybe"],
            vec!["certdesk", "sim", "--listen", "0.0.0.0:8080"],
            vec!["certdesk", "sim", "--fault-rate", "1.5"],
            vec!["certdesk", "sim", "--size", "huge"],
            vec!["certdesk", "--alibaba-signature", "v2", "pca", "list"],
            vec!["certdesk", "cas", "show", "abc"],
            vec!["certdesk", "cdn", "set-cert", "d", "--ssl", "maybe"],
            vec!["certdesk", "cdn", "set-cert", "d"],
            vec![
                "certdesk",
                "bulk",
                "rotate",
                "--target",
                "cdn",
                "--ids-from",
                "f",
            ],
            vec![
                "certdesk",
                "bulk",
                "set-cert",
                "--target",
                "s3",
                "--ids-from",
                "f",
            ],
            vec!["certdesk", "jobs", "undo"],
        ];
        for args in bad {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn sim_options_come_from_the_flags() {
        let cli = Cli::try_parse_from([
            "certdesk",
            "sim",
            "--size",
            "1_000",
            "--fault-rate",
            "0.25",
            "--no-rate-limit",
        ])
        .unwrap();
        let Some(Command::Sim(args)) = cli.command else {
            panic!("not sim")
        };
        assert_eq!(args.size, SimSize::Count(1000));
        assert_eq!(args.fault_rate, 0.25);
        assert!(args.no_rate_limit);
        assert_eq!(args.listen, "127.0.0.1:0".parse::<SocketAddr>().unwrap());
        assert_eq!(args.seed, 42);
    }

    #[test]
    fn failures_are_one_line_with_distinct_exit_codes() {
        let cloud = Error::from_alibaba_response(
            crate::model::Service::Kms,
            404,
            None,
            None,
            br#"{"RequestId":"ABC","Code":"Certificate.NotFound","Message":"The specified certificate is not found."}"#,
        );
        let f = Failure::from(cloud);
        assert_eq!(
            f.line(),
            "error (KMS): Certificate.NotFound: The specified certificate is not found. (RequestId: ABC, HTTP 404)"
        );
        let codes: Vec<u8> = [
            f,
            Failure::Usage("a\nb".into()),
            Failure::Config("c".into()),
            Failure::Run("d".into()),
        ]
        .iter()
        .map(|f| {
            assert!(!f.line().contains('\n'));
            f.exit_code()
        })
        .collect();
        assert_eq!(codes, [1, 2, 3, 4]);
        assert_eq!(Failure::Partial("p".into()).exit_code(), 5);
    }

    #[test]
    fn rows_render_as_a_table() {
        let row = CertificateRow {
            service: crate::model::Service::Esa,
            id: "c1".into(),
            name: "device".into(),
            status: crate::model::CertStatus::Active,
            raw_status: "active".into(),
            not_after: Some(1_767_225_599),
            serial: None,
            fingerprint_sha256: None,
            site_id: Some(12),
            pem: None,
        };
        let table = row_table(&[row], true);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("SITE_ID"));
        assert!(
            lines[1].contains("2025-12-31 23:59")
                && lines[1].contains("device")
                && lines[1].starts_with("12 ")
        );
    }
}

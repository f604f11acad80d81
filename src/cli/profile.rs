//! `certdesk profile add|list|remove|set-default|test`: the profiles of `profiles.toml` and their
//! secrets in the OS keyring, from the command line, through the same `profiles` functions (and
//! so the same validation) as the window's Settings.
//!
//! A secret is read from standard input when it is not a terminal, else prompted for without
//! echo; it goes to the keyring only, and is never printed, logged or written to a file. A role
//! profile has no secret of its own. Knows nothing of the window.

use super::estate::profile_failure;
use super::{Failure, Globals, conventions, emit, escape_for_terminal};
use crate::app::cloud_source::EstateSource;
use crate::app::context::Workspace;
use crate::app::headless;
use crate::credentials::Secret;
use crate::model::{Error, Provider, Service};
use crate::profiles::{self, OsKeyring, Profile, ProfileSecrets, ProfileStore, RoleSpec};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Read};
use zeroize::Zeroizing;

/// `certdesk profile …`.
#[derive(Debug, Subcommand)]
pub(super) enum ProfileCommand {
    /// Add a profile. Its secret is read from standard input (prompted for without echo on a
    /// terminal) and kept in the OS keyring; a role profile needs none. The global --endpoint,
    /// --project-id, --instance-id, --alibaba-signature and --huawei-signing are stored with it.
    Add(AddArgs),
    /// Every profile, its regions and its key id or role (never a secret).
    List,
    /// Remove a profile and its secret in the OS keyring.
    Remove {
        /// Profile name.
        name: String,
    },
    /// Make a profile the default of its cloud (used when no --profile is given).
    SetDefault {
        /// Profile name.
        name: String,
    },
    /// One read per service and region: reachable and authorised, or why not. Exit 1 if any failed.
    Test {
        /// Profile name.
        name: String,
    },
}

/// Which cloud a new profile is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum CloudArg {
    Alibaba,
    Huawei,
}

impl CloudArg {
    fn provider(self) -> Provider {
        match self {
            CloudArg::Alibaba => Provider::Alibaba,
            CloudArg::Huawei => Provider::Huawei,
        }
    }
}

/// `certdesk profile add` arguments.
#[derive(Debug, clap::Args)]
pub(super) struct AddArgs {
    /// Profile name: letters, digits, spaces, '.', '_' and '-', at most 64.
    name: String,
    /// The cloud.
    #[arg(long, value_enum)]
    cloud: CloudArg,
    /// AccessKey id (Alibaba) or AK (Huawei). A role profile has none (it uses its source's).
    #[arg(long, value_name = "ID", required_unless_present = "role_arn")]
    access_key_id: Option<String>,
    /// Regions, the first being the default, e.g. cn-hangzhou,ap-southeast-1 (default:
    /// cn-hangzhou, or cn-north-4 for Huawei). Huawei: each region needs its project id, given
    /// with --project-id P1,P2 (in this order) or REGION=ID,….
    #[arg(long, value_name = "R1,R2", value_delimiter = ',')]
    regions: Vec<String>,
    /// Alibaba RAM role to assume (STS AssumeRole): acs:ram::<account id>:role/<name>.
    #[arg(
        long,
        value_name = "ARN",
        requires = "source_profile",
        conflicts_with = "access_key_id"
    )]
    role_arn: Option<String>,
    /// The Alibaba profile whose AccessKey assumes the role.
    #[arg(long, value_name = "NAME", requires = "role_arn")]
    source_profile: Option<String>,
    /// The role's ExternalId, when its trust policy asks for one.
    #[arg(long, value_name = "ID", requires = "role_arn")]
    external_id: Option<String>,
    /// Role session name shown in the target account's audit (default certdesk-<profile>).
    #[arg(long, value_name = "NAME", requires = "role_arn")]
    session_name: Option<String>,
    /// Seconds the role's credentials last before they are renewed (900 to the role's maximum; default 3600).
    #[arg(long, value_name = "SECONDS", requires = "role_arn")]
    duration: Option<u32>,
    /// Make it the default profile of its cloud.
    #[arg(long)]
    default: bool,
}

/// Runs a `profile` subcommand.
pub(super) async fn run(g: &Globals, cmd: ProfileCommand) -> Result<(), Failure> {
    match cmd {
        ProfileCommand::Add(args) => add(g, args),
        ProfileCommand::List => list(g),
        ProfileCommand::Remove { name } => remove(g, &name),
        ProfileCommand::SetDefault { name } => set_default(g, &name),
        ProfileCommand::Test { name } => test(g, &name).await,
    }
}

fn load_store() -> Result<ProfileStore, Failure> {
    ProfileStore::load().map_err(profile_failure)
}

/// Huawei project ids from `--project-id`: `P1,P2` in the order of the regions, or
/// `REGION=ID,…`.
fn project_ids(text: &str, regions: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let items: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let named = items.iter().filter(|i| i.contains('=')).count();
    let usage = |m: String| Failure::Usage(format!("--project-id: {m}"));
    if named == 0 {
        if items.len() > regions.len() {
            return Err(usage(format!(
                "{} project ids for {} region(s) ({})",
                items.len(),
                regions.len(),
                regions.join(", ")
            )));
        }
        return Ok(regions
            .iter()
            .cloned()
            .zip(items.iter().map(|s| s.to_string()))
            .collect());
    }
    if named != items.len() {
        return Err(usage(
            "give every id as REGION=ID, or only ids in the order of --regions".into(),
        ));
    }
    let mut out = BTreeMap::new();
    for item in items {
        let (region, id) = item.split_once('=').unwrap_or((item, ""));
        let (region, id) = (region.trim(), id.trim());
        if !regions.iter().any(|r| r == region) {
            return Err(usage(format!(
                "{region:?} is not one of the profile's regions ({})",
                regions.join(", ")
            )));
        }
        if id.is_empty() {
            return Err(usage(format!("no project id after {region}=")));
        }
        out.insert(region.to_string(), id.to_string());
    }
    Ok(out)
}

/// The profile `add` describes (validated by `profiles` when stored).
fn profile_of(g: &Globals, args: &AddArgs) -> Result<Profile, Failure> {
    let provider = args.cloud.provider();
    let mut regions: Vec<String> = args
        .regions
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    match (&g.region, regions.is_empty()) {
        (Some(_), false) => {
            return Err(Failure::Usage(
                "give the profile's regions with --regions only (the first is its default)".into(),
            ));
        }
        (Some(region), true) => regions.push(region.trim().to_string()),
        (None, true) => regions.push(profiles::default_region(provider).to_string()),
        (None, false) => {}
    }
    let mut profile = Profile::new(
        &args.name,
        provider,
        &regions[0],
        args.access_key_id.as_deref().unwrap_or("").trim(),
    );
    profile.regions = regions[1..].to_vec();
    profile.endpoint = g.endpoint.clone();
    if let Some(signature) = g.alibaba_signature {
        profile.alibaba_signature = signature.version();
    }
    if let Some(signing) = g.huawei_signing {
        profile.huawei_signing = signing.signing();
    }
    match provider {
        Provider::Alibaba => {
            if g.project_id.is_some() || g.instance_id.is_some() {
                return Err(Failure::Usage(
                    "--project-id and --instance-id are for Huawei Cloud profiles".into(),
                ));
            }
        }
        Provider::Huawei => {
            let mut projects = match &g.project_id {
                Some(text) => project_ids(text, &regions)?,
                None => BTreeMap::new(),
            };
            profile.project_id = projects.remove(&regions[0]);
            profile.projects = projects;
            profile.instance_id = g.instance_id.clone();
            if profile.project_id.is_none() {
                return Err(Failure::Usage(format!(
                    "a Huawei Cloud profile needs the IAM project id of {} (--project-id)",
                    regions[0]
                )));
            }
        }
    }
    if let Some(role_arn) = &args.role_arn {
        profile.role = Some(RoleSpec {
            role_arn: role_arn.trim().to_string(),
            source_profile: args.source_profile.clone().unwrap_or_default(),
            external_id: args.external_id.clone(),
            session_name: args.session_name.clone(),
            duration_secs: args.duration,
        });
    }
    Ok(profile)
}

fn add(g: &Globals, args: AddArgs) -> Result<(), Failure> {
    let profile = profile_of(g, &args)?;
    let mut store = load_store()?;
    // Everything the file can refuse is refused before a secret is asked for.
    profiles::validate_profile(&profile).map_err(profile_failure)?;
    if store.get(&profile.name).is_some() {
        return Err(profile_failure(profiles::ProfileError::DuplicateProfile {
            name: profile.name.clone(),
        }));
    }
    store.check_role_source(&profile).map_err(profile_failure)?;
    let secrets = match profile.role {
        Some(_) => ProfileSecrets {
            secret: Secret::default(),
            security_token: None,
        },
        None => ProfileSecrets {
            secret: read_secret(&profile)?,
            security_token: None,
        },
    };
    let same_key: Vec<String> = store
        .list()
        .iter()
        .filter(|p| {
            p.role.is_none()
                && profile.role.is_none()
                && p.provider == profile.provider
                && p.access_key_id == profile.access_key_id
        })
        .map(|p| format!("{:?}", p.name))
        .collect();
    profiles::create_profile(
        &mut store,
        &OsKeyring,
        profile.clone(),
        &secrets,
        args.default,
    )
    .map_err(profile_failure)?;
    if !same_key.is_empty() {
        eprintln!(
            "warning: profile {:?} has the same AccessKey as {}: they reach the same account, \
             which inventory and find read once",
            profile.name,
            same_key.join(", ")
        );
    }
    let view = ProfileView::of(&profile, &store);
    emit(g, &view, || {
        let what = match &profile.role {
            Some(role) => format!(
                "assumes {} with the key of profile {:?}",
                role.role_arn, role.source_profile
            ),
            None => "its secret is in the OS keyring".to_string(),
        };
        escape_for_terminal(&format!(
            "Added {} profile {:?} (regions {}{}); {what}.",
            profile.provider.display_name(),
            profile.name,
            profile.all_regions().join(", "),
            if view.default { ", default" } else { "" }
        )) + "\n"
    })
}

/// The secret of a new profile: standard input when it is not a terminal (one line; surrounding
/// whitespace dropped), else a prompt without echo.
fn read_secret(profile: &Profile) -> Result<Secret, Failure> {
    let what = match profile.provider {
        Provider::Alibaba => "AccessKey secret",
        Provider::Huawei => "SK (secret access key)",
    };
    let stdin = std::io::stdin();
    let text = if stdin.is_terminal() {
        prompt_without_echo(&format!("{what} of profile {:?}: ", profile.name))?
    } else {
        // A secret is short: more than this is not a secret but the wrong input.
        const LIMIT: u64 = 16 * 1024;
        let mut text = Zeroizing::new(String::new());
        stdin
            .lock()
            .take(LIMIT + 1)
            .read_to_string(&mut text)
            .map_err(|e| {
                Failure::Usage(format!("cannot read the {what} from standard input: {e}"))
            })?;
        if text.len() as u64 > LIMIT {
            return Err(Failure::Usage(format!(
                "standard input holds more than {LIMIT} bytes: not a {what}"
            )));
        }
        text
    };
    let secret = text.trim();
    if secret.is_empty() {
        return Err(Failure::Usage(format!(
            "no {what} on standard input: pipe it in (e.g. from a password manager), or run on a \
             terminal to be asked for it"
        )));
    }
    if secret.contains(['\n', '\r']) {
        return Err(Failure::Usage(format!(
            "standard input holds several lines: give the {what} alone"
        )));
    }
    Ok(Secret::new(secret))
}

/// Reads one line from the terminal on standard input with echo off (the prompt on stderr).
#[cfg(unix)]
fn prompt_without_echo(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::Write;
    let stdin = std::io::stdin();
    let failed = |e: std::io::Error| Failure::Run(format!("cannot read from the terminal: {e}"));
    let original = tcgetattr(&stdin).map_err(|e| failed(e.into()))?;
    let mut silent = original.clone();
    silent.local_modes.remove(LocalModes::ECHO);
    // The Enter key still moves to the next line.
    silent.local_modes.insert(LocalModes::ECHONL);
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    tcsetattr(&stdin, OptionalActions::Flush, &silent).map_err(|e| failed(e.into()))?;
    let mut line = Zeroizing::new(String::new());
    let read = tokio::task::block_in_place(|| stdin.lock().read_line(&mut line));
    // Echo comes back even when the read failed.
    let restored = tcsetattr(&stdin, OptionalActions::Now, &original);
    read.map_err(failed)?;
    restored.map_err(|e| failed(e.into()))?;
    Ok(line)
}

/// Without a way to turn echo off, the secret must come on standard input.
#[cfg(not(unix))]
fn prompt_without_echo(_prompt: &str) -> Result<Zeroizing<String>, Failure> {
    Err(Failure::Usage(
        "cannot ask for a secret without echo here: pipe it on standard input".into(),
    ))
}

/// What `profile list` and `profile add --json` print of a profile: never a secret.
#[derive(Debug, Serialize)]
struct ProfileView {
    name: String,
    cloud: Provider,
    /// The default profile of its cloud.
    default: bool,
    enabled: bool,
    /// Every region, the default first.
    regions: Vec<String>,
    endpoint: Option<String>,
    /// `None` for a role profile (it uses its source profile's key).
    access_key_id: Option<String>,
    /// Huawei: the IAM project id of each region.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    project_ids: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<String>,
    role: Option<RoleSpec>,
}

impl ProfileView {
    fn of(p: &Profile, store: &ProfileStore) -> Self {
        let project_ids = p
            .all_regions()
            .into_iter()
            .filter_map(|r| p.project_for(&r).map(|id| (r.clone(), id.to_string())))
            .collect();
        ProfileView {
            name: p.name.clone(),
            cloud: p.provider,
            default: store
                .default_for(p.provider)
                .is_some_and(|d| d.name == p.name),
            enabled: p.enabled,
            regions: p.all_regions(),
            endpoint: p.endpoint.clone(),
            access_key_id: p.role.is_none().then(|| p.access_key_id.clone()),
            project_ids,
            instance_id: p.instance_id.clone(),
            role: p.role.clone(),
        }
    }
}

fn list(g: &Globals) -> Result<(), Failure> {
    let store = load_store()?;
    let views: Vec<ProfileView> = store
        .list()
        .iter()
        .map(|p| ProfileView::of(p, &store))
        .collect();
    emit(g, &views, || {
        if views.is_empty() {
            return "No profiles: add one with `certdesk profile add`.\n".to_string();
        }
        let width = views
            .iter()
            .map(|v| v.name.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 64);
        let mut out = format!(
            "{:<width$} {:<7} {:<7} {:<7} {:<30} {}\n",
            "NAME", "CLOUD", "DEFAULT", "ENABLED", "REGIONS", "KEY / ROLE"
        );
        for v in &views {
            let key = match &v.role {
                Some(role) => format!("role {} via {}", role.role_arn, role.source_profile),
                None => v.access_key_id.clone().unwrap_or_default(),
            };
            let endpoint = v
                .endpoint
                .as_deref()
                .map(|e| format!(" @ {e}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{:<width$} {:<7} {:<7} {:<7} {:<30} {}\n",
                escape_for_terminal(&v.name),
                v.cloud.code(),
                if v.default { "yes" } else { "" },
                if v.enabled { "yes" } else { "no" },
                escape_for_terminal(&v.regions.join(",")),
                escape_for_terminal(&format!("{key}{endpoint}")),
            ));
        }
        out
    })
}

fn remove(g: &Globals, name: &str) -> Result<(), Failure> {
    let mut store = load_store()?;
    let removed =
        profiles::delete_profile(&mut store, &OsKeyring, name).map_err(profile_failure)?;
    let report = serde_json::json!({ "removed": removed.name });
    emit(g, &report, || {
        escape_for_terminal(&format!(
            "Removed profile {:?} (and its secret in the OS keyring).",
            removed.name
        )) + "\n"
    })
}

fn set_default(g: &Globals, name: &str) -> Result<(), Failure> {
    let mut store = load_store()?;
    let provider = store.get(name).map(|p| p.provider).ok_or_else(|| {
        profile_failure(profiles::ProfileError::UnknownProfile {
            name: name.to_string(),
            known: store.known_names(),
        })
    })?;
    store
        .set_default(provider, Some(name))
        .and_then(|()| store.save())
        .map_err(profile_failure)?;
    let report = serde_json::json!({ "default": name, "cloud": provider });
    emit(g, &report, || {
        escape_for_terminal(&format!(
            "Profile {name:?} is now the default {} profile.",
            provider.display_name()
        )) + "\n"
    })
}

/// One line of `profile test`.
#[derive(Debug, Serialize)]
struct Check {
    profile: String,
    region: String,
    service: Service,
    ok: bool,
    /// What the read found, or why it failed.
    detail: String,
    /// The provider's (or certdesk's) error code when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

async fn test(g: &Globals, name: &str) -> Result<(), Failure> {
    let store = load_store()?;
    let profile = store.get(name).ok_or_else(|| {
        profile_failure(profiles::ProfileError::UnknownProfile {
            name: name.to_string(),
            known: store.known_names(),
        })
    })?;
    let account = profiles::account_in(&store, &OsKeyring, profile).map_err(profile_failure)?;
    let transport = g.transport()?;
    let (source, scopes) = EstateSource::open(
        std::slice::from_ref(&account),
        &transport,
        g.endpoint.as_deref(),
    );
    let workspace = Workspace {
        demo: false,
        description: name.to_string(),
        scopes,
    };
    let plan = headless::probe_plan(&workspace);
    let results: Vec<Result<String, Error>> = futures_util::future::join_all(
        plan.iter()
            .map(|&(scope, service)| headless::probe(&source, scope, service)),
    )
    .await;
    let checks: Vec<Check> = plan
        .iter()
        .zip(results)
        .map(|(&(scope, service), result)| {
            let region = workspace
                .scope(scope)
                .map(|s| s.region.clone())
                .unwrap_or_default();
            let (ok, detail, code) = match result {
                Ok(found) => (true, found, None),
                Err(e) => (false, e.to_string(), Some(e.code.clone())),
            };
            Check {
                profile: name.to_string(),
                region,
                service,
                ok,
                detail,
                code,
            }
        })
        .collect();
    emit(g, &checks, || {
        let mut out = String::new();
        for c in &checks {
            out.push_str(&format!(
                "{:<16} {:<6} {} {}\n",
                escape_for_terminal(&c.region),
                c.service.code(),
                if c.ok { "ok:    " } else { "FAILED:" },
                escape_for_terminal(&c.detail)
            ));
        }
        out
    })?;
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed > 0 {
        return Err(Failure::Items(format!(
            "{failed} of {} reads of profile {name:?} failed",
            checks.len()
        )));
    }
    conventions::note(format_args!(
        "profile {name:?}: all {} reads worked",
        checks.len()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(list: &[&str]) -> Vec<String> {
        list.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn project_ids_go_by_position_or_by_region() {
        let r = regions(&["cn-north-4", "cn-east-3"]);
        let by_position = project_ids("p1, p2", &r).expect("positional");
        assert_eq!(
            by_position.get("cn-north-4").map(String::as_str),
            Some("p1")
        );
        assert_eq!(by_position.get("cn-east-3").map(String::as_str), Some("p2"));
        let by_region = project_ids("cn-east-3=p2,cn-north-4=p1", &r).expect("named");
        assert_eq!(by_region, by_position);
        for bad in ["p1,p2,p3", "p1,cn-east-3=p2", "eu-west-1=p9", "cn-east-3="] {
            assert!(
                matches!(project_ids(bad, &r), Err(Failure::Usage(_))),
                "{bad} accepted"
            );
        }
    }
}

//! `certdesk inventory` and `certdesk find`: the rows the window's tables show, across every
//! selected profile (`--profile A,B`, `--all-profiles`, else each cloud's default) and each of
//! their regions, fetched by the app's own inventories code run headless
//! ([`crate::app::headless`]), and `find` with the window's find-everywhere search.
//!
//! An account, region or service that cannot be read does not stop the others: it is named on
//! stderr with the reason, its rows are missing, and the exit code is 5 (see [`Failure`]).
//! Knows nothing of the window; every cloud string it prints goes through
//! [`escape_for_terminal`].

use super::{Failure, Globals, conventions, emit, escape_for_terminal, format_time};
use crate::app::find::{self, QueryKind};
use crate::app::headless::{self, EstateRequest, LoadProgress, LoadedEstate};
use crate::app::inventory::view::Cancel;
use crate::app::inventory::{PaneKey, RowId};
use crate::model::{CertStatus, Provider, Scope, Service};
use crate::profiles::{self, Account, OsKeyring, ProfileError, ProfileStore, Selection};
use crate::store::Store;
use clap::ValueEnum;
use serde::Serialize;
use std::io::IsTerminal;

/// Which service `--service` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ServiceArg {
    Kms,
    Pca,
    Esa,
    Vod,
    #[value(alias = "iotda")]
    Iot,
}

impl ServiceArg {
    fn service(self) -> Service {
        match self {
            ServiceArg::Kms => Service::Kms,
            ServiceArg::Pca => Service::Pca,
            ServiceArg::Esa => Service::Esa,
            ServiceArg::Vod => Service::Vod,
            ServiceArg::Iot => Service::Iotda,
        }
    }
}

/// `certdesk inventory` arguments.
#[derive(Debug, clap::Args)]
pub(super) struct InventoryArgs {
    /// Only this service's certificates (KMS lists the ids certdesk knows: it has no list call).
    #[arg(long, value_enum)]
    service: Option<ServiceArg>,
    /// Only certificates that expire within DAYS from now, expired ones included (revoked ones
    /// are left out: they can no longer be used, so their expiry needs no action).
    #[arg(long, value_name = "DAYS")]
    expiring_within: Option<u32>,
    /// With --expiring-within: exit 1 when any certificate is listed (for cron and monitoring).
    #[arg(long, requires = "expiring_within")]
    fail_if_any: bool,
}

/// `certdesk find` arguments.
#[derive(Debug, clap::Args)]
pub(super) struct FindArgs {
    /// SHA-256 or SHA-1 fingerprint (any case, with or without colons), serial number (hex,
    /// with or without colons), certificate id, or a fragment of a name.
    text: String,
}

/// One certificate as `inventory` and `find` print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct EstateRow {
    /// The profile (account) it was read with.
    profile: String,
    cloud: Provider,
    region: String,
    service: Service,
    /// ESA: the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    site_id: Option<i64>,
    id: String,
    name: String,
    /// Normalised status (active, inactive, revoked, pending, unknown).
    status: CertStatus,
    /// The provider's own word for it.
    provider_status: String,
    /// RFC 3339, UTC; `null` when unknown.
    not_after: Option<String>,
    /// Lower-case hex without colons; `null` when unknown.
    sha256: Option<String>,
    /// As the provider prints it; `null` when unknown.
    serial: Option<String>,
    #[serde(skip)]
    not_after_unix: Option<i64>,
    /// The account and region's place in the workspace (the order rows are printed in).
    #[serde(skip)]
    scope_index: u16,
}

/// A [`ProfileError`] as a failure: what the user typed or asked for is a usage error, a file or
/// keyring problem a configuration error.
pub(super) fn profile_failure(e: ProfileError) -> Failure {
    match e {
        ProfileError::UnknownProfile { .. }
        | ProfileError::WrongProvider { .. }
        | ProfileError::DuplicateProfile { .. }
        | ProfileError::InvalidProfile { .. }
        | ProfileError::SourceInUse { .. }
        | ProfileError::DuplicateAccount { .. } => Failure::Usage(e.to_string()),
        _ => Failure::Config(e.to_string()),
    }
}

/// The profiles the global flags select.
fn selection(g: &Globals) -> Selection {
    if g.all_profiles {
        Selection::All
    } else {
        Selection::from_list(g.profile.as_deref())
    }
}

/// The selected accounts, and the profiles that could not be resolved (each already named on
/// stderr). An unknown name is a usage error before anything runs; a profile reaching the same
/// account as one before it is a warning (that account is read once).
fn accounts(g: &Globals) -> Result<(Vec<Account>, usize), Failure> {
    for (flag, given) in [
        ("--project-id", g.project_id.is_some()),
        ("--instance-id", g.instance_id.is_some()),
    ] {
        if given {
            return Err(Failure::Usage(format!(
                "{flag} names one Huawei project; inventory and find read each profile's own \
                 (set them with certdesk profile add)"
            )));
        }
    }
    let selection = selection(g);
    let store = match ProfileStore::load() {
        Ok(store) => store,
        // No home directory: no profiles, but the SDK environment variables may still work.
        Err(ProfileError::NoConfigDir) if selection == Selection::Default => {
            ProfileStore::load_from(std::path::PathBuf::from("/nonexistent/certdesk"))
                .map_err(profile_failure)?
        }
        Err(e) => return Err(profile_failure(e)),
    };
    if let Selection::Named(names) = &selection {
        let unknown: Vec<&str> = names
            .iter()
            .filter(|n| store.get(n).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Failure::Usage(format!(
                "unknown profile{} {} (known: {})",
                if unknown.len() > 1 { "s" } else { "" },
                unknown
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                store.known_names()
            )));
        }
    }
    if selection == Selection::All && !store.list().iter().any(|p| p.enabled) {
        return Err(Failure::Config(
            "no enabled profile: add one with `certdesk profile add`".into(),
        ));
    }
    let mut accounts = Vec::new();
    let mut failed = Vec::new();
    for (name, result) in profiles::resolve_selection(&store, &OsKeyring, &selection) {
        match result {
            Ok(account) => accounts.push(account),
            Err(e @ ProfileError::DuplicateAccount { .. }) => {
                eprintln!("{}", escape_for_terminal(&format!("warning: {e}")))
            }
            Err(e) => {
                eprintln!(
                    "{}",
                    escape_for_terminal(&format!("error: profile {name:?}: {e}"))
                );
                failed.push(name);
            }
        }
    }
    if accounts.is_empty() {
        return Err(Failure::Config(if failed.is_empty() {
            "no profile and no SDK environment variables: add a profile with `certdesk profile \
             add`, or set ALIBABA_CLOUD_ACCESS_KEY_ID / HUAWEICLOUD_SDK_AK …"
                .to_string()
        } else {
            format!("no selected profile could be used ({})", failed.join(", "))
        }));
    }
    let accounts = narrow_to_region(g, accounts)?;
    Ok((accounts, failed.len()))
}

/// `--region R`: each account only in R (a profile that does not cover R is left out, saying
/// so); signature overrides apply to every account.
fn narrow_to_region(g: &Globals, accounts: Vec<Account>) -> Result<Vec<Account>, Failure> {
    let mut out = Vec::new();
    for mut account in accounts {
        let p = &mut account.profile;
        if let Some(signature) = g.alibaba_signature {
            p.alibaba_signature = signature.version();
        }
        if let Some(signing) = g.huawei_signing {
            p.huawei_signing = signing.signing();
        }
        let Some(region) = &g.region else {
            out.push(account);
            continue;
        };
        if !p.all_regions().contains(region) {
            conventions::note(format_args!(
                "{}",
                escape_for_terminal(&format!(
                    "profile {:?} does not cover region {region} ({}); left out",
                    p.name,
                    p.all_regions().join(", ")
                ))
            ));
            continue;
        }
        p.project_id = p.project_for(region).map(str::to_string);
        p.region = region.clone();
        p.regions.clear();
        p.projects.clear();
        out.push(account);
    }
    if out.is_empty() {
        return Err(Failure::Usage(format!(
            "no selected profile covers region {}",
            g.region.as_deref().unwrap_or_default()
        )));
    }
    Ok(out)
}

/// The KMS certificate ids certdesk knows, from the window's database when it exists (none is
/// created; opening one of an older schema migrates it, as the window would).
fn known_kms_ids() -> impl Fn(&Scope) -> Result<Vec<String>, String> {
    let store = crate::store::default_path()
        .filter(|p| p.is_file())
        .map(|p| Store::open(&p).map_err(|e| format!("{}: {e}", p.display())));
    move |scope: &Scope| match &store {
        None => Ok(Vec::new()),
        Some(Ok(store)) => store
            .kms_ids(&scope.cache_account())
            .map_err(|e| e.to_string()),
        Some(Err(e)) => Err(e.clone()),
    }
}

/// Loads the selected estate (the services asked for), naming every failure on stderr; the
/// number of failures (profiles that could not be used included).
fn load(g: &Globals, services: &[Service]) -> Result<(LoadedEstate, usize), Failure> {
    let (accounts, unusable) = accounts(g)?;
    let transport = g.transport()?;
    let kms_ids = known_kms_ids();
    let request = EstateRequest {
        accounts: &accounts,
        transport: &transport,
        endpoint: g.endpoint.as_deref(),
        services,
        kms_ids: &kms_ids,
    };
    let interactive = std::io::stderr().is_terminal() && !conventions::quiet();
    let mut shown = false;
    let mut progress = |p: LoadProgress| {
        if interactive {
            eprint!(
                "\rreading {} of {} account-region inventories, {} rows…",
                p.done, p.total, p.rows
            );
            shown = true;
        }
    };
    // The app's state is driven from this thread; its work runs on the runtime's workers.
    let estate = tokio::task::block_in_place(|| {
        headless::load(&request, tokio::runtime::Handle::current(), &mut progress)
    });
    if shown {
        eprint!("\r\x1b[K");
    }
    for f in &estate.failures {
        let service = match f.site_id {
            Some(site) => format!("{} site {site}", f.service.label()),
            None => f.service.label().to_string(),
        };
        eprintln!(
            "{}",
            escape_for_terminal(&format!(
                "error: profile {:?} region {} {service}: {}",
                f.scope.profile, f.scope.region, f.error
            ))
        );
    }
    let failures = estate.failures.len() + unusable;
    Ok((estate, failures))
}

/// The row `row` of `key`'s inventory, as printed.
fn estate_row(estate: &LoadedEstate, key: PaneKey, row: RowId) -> Option<EstateRow> {
    let inventory = &estate.inventories.pane(key)?.inventory;
    let scope_index = inventory.scope(row);
    let scope = estate.scope(scope_index)?;
    let not_after_unix = inventory.not_after(row);
    Some(EstateRow {
        profile: scope.profile.clone(),
        cloud: scope.provider,
        region: scope.region.clone(),
        service: key.service,
        site_id: inventory.site_id(row).or(key.site_id),
        id: inventory.id(row).to_string(),
        name: inventory.name(row).to_string(),
        status: inventory.status(row),
        provider_status: inventory.raw_status(row).to_string(),
        not_after: not_after_unix.and_then(rfc3339),
        sha256: inventory.fingerprint(row).map(find::normalise_hex),
        serial: inventory.serial(row).map(str::to_string),
        not_after_unix,
        scope_index,
    })
}

fn rfc3339(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Every present row of every pane of `services`, by service, account and region, name, id.
fn all_rows(estate: &LoadedEstate, services: &[Service]) -> Vec<EstateRow> {
    let mut keys: Vec<PaneKey> = estate
        .inventories
        .panes
        .keys()
        .filter(|k| services.is_empty() || services.contains(&k.service))
        .copied()
        .collect();
    keys.sort();
    let mut rows = Vec::new();
    for key in keys {
        let Some(pane) = estate.inventories.pane(key) else {
            continue;
        };
        let inventory = &pane.inventory;
        for row in 0..inventory.len() as RowId {
            if !inventory.is_removed(row)
                && let Some(r) = estate_row(estate, key, row)
            {
                rows.push(r);
            }
        }
    }
    rows.sort_by(|a, b| {
        (a.service, a.scope_index, a.site_id, &a.name, &a.id).cmp(&(
            b.service,
            b.scope_index,
            b.site_id,
            &b.name,
            &b.id,
        ))
    });
    rows
}

/// Rows expiring by `now + days` (expired ones included), revoked ones left out.
fn expiring(rows: Vec<EstateRow>, days: u32, now: i64) -> Vec<EstateRow> {
    let until = now.saturating_add(i64::from(days) * 86_400);
    rows.into_iter()
        .filter(|r| r.status != CertStatus::Revoked && r.not_after_unix.is_some_and(|t| t <= until))
        .collect()
}

/// The rows as a table (every cloud-provided cell escaped for the terminal).
fn table(rows: &[EstateRow]) -> String {
    let width = |f: &dyn Fn(&EstateRow) -> usize, min: usize, max: usize| {
        rows.iter().map(f).max().unwrap_or(min).clamp(min, max)
    };
    let profile_w = width(&|r| r.profile.chars().count(), 7, 32);
    let region_w = width(&|r| r.region.chars().count(), 6, 20);
    let id_w = width(&|r| r.id.chars().count(), 2, 64);
    let mut out = format!(
        "{:<profile_w$} {:<region_w$} {:<7} {:<id_w$} {:<9} {:<16} {}\n",
        "PROFILE", "REGION", "SERVICE", "ID", "STATUS", "NOT AFTER (UTC)", "NAME"
    );
    for r in rows {
        let status = if r.provider_status.is_empty() {
            r.status.label()
        } else {
            r.provider_status.as_str()
        };
        out.push_str(&format!(
            "{:<profile_w$} {:<region_w$} {:<7} {:<id_w$} {:<9} {:<16} {}\n",
            escape_for_terminal(&r.profile),
            escape_for_terminal(&r.region),
            r.service.code(),
            escape_for_terminal(&r.id),
            escape_for_terminal(status),
            format_time(r.not_after_unix),
            escape_for_terminal(&r.name)
        ));
    }
    out
}

/// The exit of an estate command: `found` rows that must fail it (`--fail-if-any`), else the
/// failures to read.
fn outcome(found: Option<(usize, u32)>, failures: usize) -> Result<(), Failure> {
    if let Some((count, days)) = found
        && count > 0
    {
        return Err(Failure::Items(format!(
            "{count} certificate(s) expire within {days} days or have expired"
        )));
    }
    if failures > 0 {
        return Err(Failure::Partial(format!(
            "{failures} account, region or service reads failed (named above); the rows shown \
             are incomplete"
        )));
    }
    Ok(())
}

/// `certdesk inventory`.
pub(super) async fn inventory(g: &Globals, args: InventoryArgs) -> Result<(), Failure> {
    let services: Vec<Service> = args.service.map(|s| s.service()).into_iter().collect();
    let (estate, failures) = load(g, &services)?;
    let mut rows = all_rows(&estate, &services);
    if let Some(days) = args.expiring_within {
        rows = expiring(rows, days, crate::app::now_unix());
    }
    if services == [Service::Kms] && rows.is_empty() && args.expiring_within.is_none() {
        conventions::note(format_args!(
            "KMS has no list call: certdesk lists the certificate ids it knows (added or created \
             in the window)"
        ));
    }
    emit(g, &rows, || table(&rows))?;
    let found = args
        .expiring_within
        .filter(|_| args.fail_if_any)
        .map(|days| (rows.len(), days));
    outcome(found, failures)
}

/// `certdesk find`.
pub(super) async fn find(g: &Globals, args: FindArgs) -> Result<(), Failure> {
    let text = args.text.trim();
    if text.is_empty() {
        return Err(Failure::Usage(
            "give a fingerprint, serial number, id or name to find".into(),
        ));
    }
    let (estate, failures) = load(g, &[])?;
    let hits = find::search(&estate.inventories, text, &Cancel::never()).unwrap_or_default();
    let rows: Vec<EstateRow> = hits
        .iter()
        .filter_map(|h| estate_row(&estate, h.pane, h.row))
        .collect();
    conventions::note(format_args!(
        "{} certificate(s) match {} {}",
        rows.len(),
        QueryKind::of(text).label(),
        escape_for_terminal(text)
    ));
    emit(g, &rows, || table(&rows))?;
    outcome(None, failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: CertStatus, not_after: Option<i64>) -> EstateRow {
        EstateRow {
            profile: "p".into(),
            cloud: Provider::Alibaba,
            region: "cn-hangzhou".into(),
            service: Service::Pca,
            site_id: None,
            id: "id".into(),
            name: "name".into(),
            status,
            provider_status: String::new(),
            not_after: not_after.and_then(rfc3339),
            sha256: None,
            serial: None,
            not_after_unix: not_after,
            scope_index: 0,
        }
    }

    #[test]
    fn expiring_keeps_expired_and_soon_but_not_revoked_later_or_unknown() {
        let now = 1_000_000_000;
        let day = 86_400;
        let rows = vec![
            row(CertStatus::Active, Some(now - day)),
            row(CertStatus::Active, Some(now + 10 * day)),
            row(CertStatus::Active, Some(now + 30 * day)),
            row(CertStatus::Active, Some(now + 31 * day)),
            row(CertStatus::Revoked, Some(now - day)),
            row(CertStatus::Inactive, None),
        ];
        let kept: Vec<Option<i64>> = expiring(rows, 30, now)
            .iter()
            .map(|r| r.not_after_unix)
            .collect();
        assert_eq!(
            kept,
            [Some(now - day), Some(now + 10 * day), Some(now + 30 * day)]
        );
    }

    #[test]
    fn rows_print_as_json_with_rfc3339_and_as_an_escaped_table() {
        let mut r = row(CertStatus::Active, Some(1_767_225_599));
        r.name = "evil\u{1b}[2J".into();
        r.sha256 = Some("ab".repeat(32));
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["not_after"], "2025-12-31T23:59:59Z");
        assert_eq!(json["service"], "pca");
        assert_eq!(json["cloud"], "alibaba");
        assert!(json.get("not_after_unix").is_none());
        assert!(json.get("site_id").is_none());
        let text = table(&[r]);
        assert!(text.contains("evil\\u{1b}[2J"), "{text}");
        assert!(text.contains("2025-12-31 23:59"), "{text}");
    }

    #[test]
    fn fail_if_any_outranks_a_partial_read() {
        assert!(outcome(None, 0).is_ok());
        assert!(outcome(Some((0, 30)), 0).is_ok());
        assert_eq!(outcome(Some((2, 30)), 1).unwrap_err().exit_code(), 1);
        assert_eq!(outcome(Some((0, 30)), 1).unwrap_err().exit_code(), 5);
        assert_eq!(outcome(None, 3).unwrap_err().exit_code(), 5);
    }
}

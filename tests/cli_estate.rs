//! The estate from the command line, end to end: `certdesk profile add|list|set-default|test|
//! remove` against the real OS keyring, role profiles assuming into another simulated account,
//! `inventory` and `find` over several accounts and regions of `certdesk sim --accounts 3`, and
//! every bad input of issue 14 (unknown profile, unassumable role, a region a service lacks, a
//! rejected key among good ones, duplicate profiles) with its exit code.
//!
//! Run through `scripts/test.sh` (a private Secret Service). Without a usable keyring these tests
//! fail when `CI` is set and are skipped with a warning otherwise, as tests/keyring.rs does.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use certdesk::profiles::{OsKeyring, SecretStore};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_certdesk");

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `true` when the real keyring works; panics in CI when it does not.
fn keyring_ready(test: &str) -> bool {
    match OsKeyring.probe() {
        Ok(()) => true,
        Err(e) if in_ci() => panic!(
            "{test}: CI must test against a real Secret Service, but the OS keyring is unusable: \
             {e}\nRun the tests with scripts/test.sh"
        ),
        Err(e) => {
            eprintln!("WARNING: {test} SKIPPED — no usable OS keyring ({e}). Run scripts/test.sh.");
            false
        }
    }
}

/// One simulated account as the machine-readable lines of `certdesk sim` describe it.
#[derive(Debug, Clone, Default)]
struct SimAccount {
    account_id: String,
    alibaba_id: String,
    alibaba_secret: String,
    huawei_ak: String,
    huawei_sk: String,
    /// Region → Huawei project id.
    projects: BTreeMap<String, String>,
    /// Role name → (ARN, ExternalId).
    roles: BTreeMap<String, (String, Option<String>)>,
}

/// `account`, `project` and `role` lines → accounts by number (1-based).
fn parse_machine_lines(text: &str) -> BTreeMap<usize, SimAccount> {
    let mut accounts: BTreeMap<usize, SimAccount> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let n = |i: usize| f.get(i).and_then(|s| s.parse::<usize>().ok());
        match (f.first().copied(), f.get(2).copied()) {
            (Some("account"), Some("alibaba")) if f.len() == 6 => {
                let a = accounts.entry(n(1).unwrap()).or_default();
                a.account_id = f[3].into();
                a.alibaba_id = f[4].into();
                a.alibaba_secret = f[5].into();
            }
            (Some("account"), Some("huawei")) if f.len() == 6 => {
                let a = accounts.entry(n(1).unwrap()).or_default();
                a.huawei_ak = f[3].into();
                a.huawei_sk = f[4].into();
            }
            (Some("project"), Some("huawei")) if f.len() == 6 => {
                let a = accounts.entry(n(1).unwrap()).or_default();
                a.projects.insert(f[3].into(), f[4].into());
            }
            (Some("role"), _) if f.len() == 6 => {
                let a = accounts.entry(n(1).unwrap()).or_default();
                let name = f[2].rsplit('/').next().unwrap().to_string();
                let external = (f[4] != "-").then(|| f[4].to_string());
                a.roles.insert(name, (f[2].into(), external));
            }
            _ => {}
        }
    }
    accounts
}

/// A simulator: the `certdesk sim --accounts 3` process, or one in this process (when a test
/// needs to look inside, e.g. at the KMS ids no API lists).
struct Sim {
    endpoint: String,
    accounts: BTreeMap<usize, SimAccount>,
    child: Option<Child>,
    in_process: Option<(tokio::runtime::Runtime, certdesk::sim::RunningSimulator)>,
}

impl Sim {
    /// `certdesk sim --accounts 3`, its endpoint and accounts read from what it prints.
    fn binary() -> Sim {
        let mut child = Command::new(BIN)
            .args(["sim", "--accounts", "3", "--listen", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut printed = String::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        // Keep the pipe drained so the simulator never blocks on a full stdout.
        std::thread::spawn(move || lines.for_each(drop));
        let endpoint = printed
            .lines()
            .find_map(|l| l.strip_prefix("certdesk simulator listening on "))
            .unwrap_or_else(|| panic!("no endpoint in:\n{printed}"))
            .to_string();
        let accounts = parse_machine_lines(&printed);
        assert_eq!(accounts.len(), 3, "{printed}");
        Sim {
            endpoint,
            accounts,
            child: Some(child),
            in_process: None,
        }
    }

    /// The same simulator (three accounts) in this process, on a runtime of its own.
    fn in_process() -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = runtime
            .block_on(certdesk::sim::start(certdesk::sim::SimOptions {
                accounts: 3,
                ..Default::default()
            }))
            .unwrap();
        let accounts = parse_machine_lines(&certdesk::sim::machine_lines(&sim.accounts()));
        Sim {
            endpoint: sim.endpoint(),
            accounts,
            child: None,
            in_process: Some((runtime, sim)),
        }
    }

    fn account(&self, n: usize) -> &SimAccount {
        &self.accounts[&n]
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A private config and data directory, profile names unique to this test (the keyring is
/// shared by every test of the run), and the simulator.
struct Estate {
    dir: tempfile::TempDir,
    tag: String,
    sim: Sim,
}

impl Estate {
    fn new(sim: Sim) -> Estate {
        Estate {
            dir: tempfile::tempdir().unwrap(),
            tag: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
            sim,
        }
    }

    /// The profile name `short` stands for in this test.
    fn name(&self, short: &str) -> String {
        format!("{short}-{}", self.tag)
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn config_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("config")
    }

    /// Runs the binary (no SDK credentials from the environment), `stdin` piped in when given.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("CERTDESK_CONFIG_DIR", self.config_dir())
            .env("CERTDESK_DATA_DIR", self.data_dir())
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in [
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            "HUAWEICLOUD_SDK_AK",
            "HUAWEICLOUD_SDK_SK",
            "HUAWEICLOUD_SDK_SECURITY_TOKEN",
            "HUAWEICLOUD_SDK_PROJECT_ID",
        ] {
            cmd.env_remove(var);
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs and expects `code`, returning stdout.
    fn expect(&self, code: i32, args: &[&str], stdin: Option<&str>) -> (String, String) {
        let out = self.run(args, stdin);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(
            out.status.code(),
            Some(code),
            "certdesk {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        (stdout, stderr)
    }

    /// Adds an Alibaba profile of simulated account `n` (its key piped in).
    fn add_alibaba(&self, short: &str, n: usize, regions: &str, extra: &[&str]) {
        let name = self.name(short);
        let account = self.sim.account(n);
        let mut args = vec![
            "--endpoint",
            &self.sim.endpoint,
            "profile",
            "add",
            &name,
            "--cloud",
            "alibaba",
            "--access-key-id",
            &account.alibaba_id,
            "--regions",
            regions,
        ];
        args.extend_from_slice(extra);
        self.expect(0, &args, Some(&format!("{}\n", account.alibaba_secret)));
    }

    /// Adds a Huawei profile of simulated account `n` in `regions` (their project ids in order).
    fn add_huawei(&self, short: &str, n: usize, regions: &[&str]) {
        let name = self.name(short);
        let account = self.sim.account(n);
        let projects: Vec<&str> = regions
            .iter()
            .map(|r| account.projects[*r].as_str())
            .collect();
        let (regions, projects) = (regions.join(","), projects.join(","));
        self.expect(
            0,
            &[
                "--endpoint",
                &self.sim.endpoint,
                "--project-id",
                &projects,
                "profile",
                "add",
                &name,
                "--cloud",
                "huawei",
                "--access-key-id",
                &account.huawei_ak,
                "--regions",
                &regions,
            ],
            Some(&account.huawei_sk),
        );
    }

    /// Adds a role profile assuming `role` of account `n` with the key of profile `source`.
    fn add_role(&self, short: &str, n: usize, role: &str, source: &str, extra: &[&str]) -> Output {
        let name = self.name(short);
        let source = self.name(source);
        let arn = self.sim.account(n).roles[role].0.clone();
        let mut args = vec![
            "--endpoint",
            &self.sim.endpoint,
            "profile",
            "add",
            &name,
            "--cloud",
            "alibaba",
            "--role-arn",
            &arn,
            "--source-profile",
            &source,
        ];
        args.extend_from_slice(extra);
        self.run(&args, None)
    }

    /// `inventory --json` (after `pre` global flags): the rows and the stderr.
    fn inventory(&self, code: i32, pre: &[&str], post: &[&str]) -> (Vec<Value>, String) {
        let mut args = pre.to_vec();
        args.extend(["inventory", "--json"]);
        args.extend_from_slice(post);
        let (stdout, stderr) = self.expect(code, &args, None);
        let rows: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
        (rows.as_array().unwrap().clone(), stderr)
    }

    /// Removes every profile this test added (role profiles first), so the shared keyring keeps
    /// nothing of it.
    fn cleanup(&self) {
        let (listed, _) = self.expect(0, &["profile", "list", "--json"], None);
        let profiles: Vec<Value> = serde_json::from_str(&listed).unwrap();
        let mut names: Vec<(bool, String)> = profiles
            .iter()
            .map(|p| (p["role"].is_null(), p["name"].as_str().unwrap().to_string()))
            .collect();
        names.sort();
        for (_, name) in names {
            self.expect(0, &["profile", "remove", &name], None);
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s<'a>(row: &'a Value, field: &str) -> &'a str {
    row[field].as_str().unwrap_or("")
}

/// Rows per (profile, region, service).
fn counts(rows: &[Value]) -> BTreeMap<(String, String, String), usize> {
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry((
            s(r, "profile").to_string(),
            s(r, "region").to_string(),
            s(r, "service").to_string(),
        ))
        .or_insert(0) += 1;
    }
    out
}

fn ids_of<'a>(rows: &'a [Value], profile: &str, region: &str, service: &str) -> BTreeSet<&'a str> {
    rows.iter()
        .filter(|r| {
            s(r, "profile") == profile && s(r, "region") == region && s(r, "service") == service
        })
        .map(|r| s(r, "id"))
        .collect()
}

/// Every file under `dir`, as text.
fn files_text(dir: &Path) -> String {
    let mut all = String::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
            }
        }
    }
    all
}

#[test]
fn profiles_are_added_listed_tested_made_default_and_removed() {
    if !keyring_ready("profiles_are_added_listed_tested_made_default_and_removed") {
        return;
    }
    let e = Estate::new(Sim::binary());
    let (a1, a2, h1) = (e.name("a1"), e.name("a2"), e.name("h1"));
    e.add_alibaba("a1", 1, "cn-hangzhou,ap-southeast-1", &[]);
    e.add_alibaba("a2", 2, "cn-hangzhou", &["--default"]);
    e.add_huawei("h1", 1, &["cn-north-4", "cn-east-3"]);

    // The secrets are in the keyring, under the profile names, and nowhere on disk.
    let secret1 = e.sim.account(1).alibaba_secret.clone();
    assert_eq!(
        OsKeyring.get(&a1).unwrap().map(|s| s.expose().to_string()),
        Some(secret1.clone())
    );
    let on_disk = files_text(&e.config_dir());
    assert!(on_disk.contains(&a1), "profiles.toml names the profile");
    for account in [e.sim.account(1), e.sim.account(2)] {
        assert!(
            !on_disk.contains(&account.alibaba_secret),
            "a secret on disk"
        );
        assert!(!on_disk.contains(&account.huawei_sk), "a secret on disk");
    }

    let (listed, _) = e.expect(0, &["profile", "list", "--json"], None);
    for account in e.sim.accounts.values() {
        assert!(
            !listed.contains(&account.alibaba_secret),
            "list shows a secret"
        );
        assert!(!listed.contains(&account.huawei_sk), "list shows a secret");
    }
    let profiles: Vec<Value> = serde_json::from_str(&listed).unwrap();
    let by_name: BTreeMap<&str, &Value> = profiles.iter().map(|p| (s(p, "name"), p)).collect();
    assert_eq!(by_name.len(), 3, "{listed}");
    assert_eq!(by_name[a2.as_str()]["default"], true);
    assert_eq!(by_name[a1.as_str()]["default"], false);
    assert_eq!(
        by_name[a1.as_str()]["regions"],
        serde_json::json!(["cn-hangzhou", "ap-southeast-1"])
    );
    assert_eq!(
        by_name[h1.as_str()]["project_ids"]["cn-east-3"],
        e.sim.account(1).projects["cn-east-3"].as_str()
    );
    let (table, _) = e.expect(0, &["profile", "list"], None);
    assert!(table.starts_with("NAME"), "{table}");
    assert_eq!(table.lines().count(), 4, "{table}");

    e.expect(0, &["profile", "set-default", &a1], None);
    let (listed, _) = e.expect(0, &["profile", "list", "--json"], None);
    let profiles: Vec<Value> = serde_json::from_str(&listed).unwrap();
    let defaults: Vec<&str> = profiles
        .iter()
        .filter(|p| p["default"] == true)
        .map(|p| s(p, "name"))
        .collect();
    assert_eq!(defaults, [a1.as_str(), h1.as_str()], "{listed}");

    // One read per service and region: KMS and ESA in both regions, the private CA and VOD once.
    let (tested, _) = e.expect(0, &["profile", "test", &a1, "--json"], None);
    let checks: Vec<Value> = serde_json::from_str(&tested).unwrap();
    let seen: BTreeSet<(&str, &str)> = checks
        .iter()
        .map(|c| (s(c, "region"), s(c, "service")))
        .collect();
    let expected: BTreeSet<(&str, &str)> = [
        ("cn-hangzhou", "kms"),
        ("cn-hangzhou", "esa"),
        ("cn-hangzhou", "pca"),
        ("cn-hangzhou", "vod"),
        ("ap-southeast-1", "kms"),
        ("ap-southeast-1", "esa"),
    ]
    .into();
    assert_eq!(seen, expected, "{tested}");
    assert!(checks.iter().all(|c| c["ok"] == true), "{tested}");
    let (tested, _) = e.expect(0, &["profile", "test", &h1], None);
    assert_eq!(tested.lines().count(), 2, "{tested}");
    assert!(tested.lines().all(|l| l.contains(" ok: ")), "{tested}");

    // Bad input is refused before anything is stored.
    let (_, err) = e.expect(
        2,
        &[
            "profile",
            "add",
            &a1,
            "--cloud",
            "alibaba",
            "--access-key-id",
            "x",
        ],
        Some("s"),
    );
    assert!(err.contains("already exists"), "{err}");
    let (_, err) = e.expect(
        2,
        &[
            "profile",
            "add",
            &e.name("h9"),
            "--cloud",
            "huawei",
            "--access-key-id",
            "x",
        ],
        Some("s"),
    );
    assert!(err.contains("project id"), "{err}");
    let (_, err) = e.expect(
        2,
        &[
            "profile",
            "add",
            &e.name("a9"),
            "--cloud",
            "alibaba",
            "--access-key-id",
            "x",
        ],
        Some("\n"),
    );
    assert!(
        err.contains("no AccessKey secret on standard input"),
        "{err}"
    );
    let (_, err) = e.expect(
        2,
        &[
            "profile",
            "add",
            "bad:name",
            "--cloud",
            "alibaba",
            "--access-key-id",
            "x",
        ],
        Some("s"),
    );
    assert!(err.contains("invalid profile"), "{err}");
    assert_eq!(OsKeyring.get(&e.name("a9")).unwrap(), None);

    // A key the account does not know: the test names each failed read and exits 1.
    let bad = e.name("bad");
    e.expect(
        0,
        &[
            "--endpoint",
            &e.sim.endpoint,
            "profile",
            "add",
            &bad,
            "--cloud",
            "alibaba",
            "--access-key-id",
            &e.sim.account(3).alibaba_id,
        ],
        Some("not-the-secret"),
    );
    let (tested, err) = e.expect(1, &["profile", "test", &bad], None);
    assert_eq!(tested.matches("FAILED:").count(), 4, "{tested}");
    assert!(tested.contains("SignatureDoesNotMatch"), "{tested}");
    assert!(err.contains("4 of 4 reads"), "{err}");

    // Removing deletes the keyring secret too; an unknown name lists the known ones.
    e.expect(0, &["profile", "remove", &a2], None);
    assert_eq!(OsKeyring.get(&a2).unwrap(), None);
    let (_, err) = e.expect(2, &["profile", "remove", &a2], None);
    assert!(
        err.contains("unknown profile") && err.contains(&a1),
        "{err}"
    );
    e.cleanup();
    assert_eq!(OsKeyring.get(&a1).unwrap(), None);
    assert_eq!(OsKeyring.get(&h1).unwrap(), None);
}

#[test]
fn a_role_profile_reads_another_account_and_an_unassumable_one_fails_alone() {
    if !keyring_ready("a_role_profile_reads_another_account_and_an_unassumable_one_fails_alone") {
        return;
    }
    let e = Estate::new(Sim::binary());
    e.add_alibaba("src", 1, "cn-hangzhou", &[]);
    // certdesk-admin of account 3: any account may assume it.
    let out = e.add_role(
        "admin3",
        3,
        "certdesk-admin",
        "src",
        &["--regions", "cn-hangzhou"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (rows, _) = e.inventory(0, &["--profile", &e.name("admin3")], &["--service", "pca"]);
    assert_eq!(rows.len(), 30, "the seeded private CA of account 3");
    assert!(
        rows.iter()
            .any(|r| s(r, "name").contains(".a3.certdesk-demo.com")),
        "names of account 3"
    );
    // The same certificates as account 3's own key lists them (the single-account command, with
    // the SDK environment variables).
    let three = e.sim.account(3);
    let direct = Command::new(BIN)
        .args(["--endpoint", &e.sim.endpoint, "pca", "list", "--json"])
        .env("CERTDESK_CONFIG_DIR", e.dir.path().join("empty"))
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &three.alibaba_id)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &three.alibaba_secret)
        .output()
        .unwrap();
    assert!(direct.status.success(), "{}", text(&direct.stderr));
    let direct: Vec<Value> = serde_json::from_slice(&direct.stdout).unwrap();
    let direct_ids: BTreeSet<&str> = direct.iter().map(|c| s(c, "Identifier")).collect();
    let role_ids: BTreeSet<&str> = rows.iter().map(|r| s(r, "id")).collect();
    assert_eq!(role_ids, direct_ids);
    // A single-account command works through the role too.
    let (listed, _) = e.expect(
        0,
        &["--profile", &e.name("admin3"), "pca", "list", "--json"],
        None,
    );
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.len(), 30);

    // certdesk-auditor wants its ExternalId: with it the role works, without it it is refused.
    let external = three.roles["certdesk-auditor"].1.clone().unwrap();
    let out = e.add_role(
        "auditor3",
        3,
        "certdesk-auditor",
        "src",
        &["--external-id", &external],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (rows, _) = e.inventory(
        0,
        &["--profile", &e.name("auditor3")],
        &["--service", "vod"],
    );
    assert_eq!(rows.len(), 6);

    // certdesk-private admits only its own account: this role cannot be assumed. The profile of
    // account 2 still loads; the role's reads are named with why, and the exit code says partial.
    e.add_alibaba("two", 2, "cn-hangzhou", &[]);
    let out = e.add_role("private3", 3, "certdesk-private", "src", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let both = format!("{},{}", e.name("two"), e.name("private3"));
    let (rows, err) = e.inventory(5, &["--profile", &both], &[]);
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| s(r, "profile") == e.name("two")),
        "only account 2's rows"
    );
    for service in ["Private CA", "ESA", "VOD CDN"] {
        let line = err
            .lines()
            .find(|l| l.contains(&e.name("private3")) && l.contains(service))
            .unwrap_or_else(|| panic!("{service} not named:\n{err}"));
        assert!(
            line.contains("region cn-hangzhou") && line.contains("NoPermission"),
            "{line}"
        );
        assert!(line.contains(&three.roles["certdesk-private"].0), "{line}");
    }
    assert!(err.contains("incomplete"), "{err}");
    // An unknown role in the account.
    let ghost_arn = format!("acs:ram::{}:role/no-such-role", three.account_id);
    let out = e.run(
        &[
            "profile",
            "add",
            &e.name("ghost2"),
            "--cloud",
            "alibaba",
            "--role-arn",
            &ghost_arn,
            "--source-profile",
            &e.name("src"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, err) = e.inventory(5, &["--profile", &e.name("ghost2")], &["--service", "pca"]);
    assert!(err.contains("EntityNotExist.Role"), "{err}");

    // The source profile cannot go while role profiles use it; the message names them.
    let (_, err) = e.expect(2, &["profile", "remove", &e.name("src")], None);
    assert!(
        err.contains(&e.name("admin3")) && err.contains(&e.name("private3")),
        "{err}"
    );
    // A role profile needs an existing source with a key of its own.
    let out = e.add_role("orphan", 3, "certdesk-admin", "missing", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist"));
    e.cleanup();
}

#[test]
fn inventory_and_find_cover_two_accounts_in_two_regions_as_seeded() {
    if !keyring_ready("inventory_and_find_cover_two_accounts_in_two_regions_as_seeded") {
        return;
    }
    let e = Estate::new(Sim::in_process());
    let regions = ["cn-hangzhou", "ap-southeast-1"];
    e.add_alibaba("a1", 1, &regions.join(","), &[]);
    e.add_alibaba("a2", 2, &regions.join(","), &[]);
    e.add_huawei("h1", 1, &["cn-north-4", "cn-east-3"]);
    e.add_huawei("h2", 2, &["cn-north-4", "cn-east-3"]);
    // KMS has no list call: certdesk walks the ids it knows, kept in the window's database.
    let sim = &e.sim.in_process.as_ref().unwrap().1;
    let mut known_kms = BTreeMap::new();
    {
        std::fs::create_dir_all(e.data_dir()).unwrap();
        let mut store =
            certdesk::store::Store::open(&e.data_dir().join("certdesk.sqlite3")).unwrap();
        for (n, short, region, take) in [
            (1, "a1", "cn-hangzhou", 5),
            (1, "a1", "ap-southeast-1", 2),
            (2, "a2", "ap-southeast-1", 3),
        ] {
            let ids: Vec<String> = sim
                .kms_certificate_ids_in(n - 1, region)
                .into_iter()
                .take(take)
                .collect();
            assert_eq!(ids.len(), take);
            let account = format!("{}@{region}", e.name(short));
            store.add_kms_ids(&account, &ids, 0).unwrap();
            known_kms.insert((e.name(short), region.to_string()), ids);
        }
    }

    let (rows, err) = e.inventory(0, &["--all-profiles"], &[]);
    assert!(!err.contains("error"), "{err}");
    // What the simulator seeds per account and region at its default size (docs/simulator.md):
    // private CA 30 and VOD 6 per account (the window reads them in the profile's first
    // region), ESA 3 sites × 8 and IoTDA 40 in every region, KMS the known ids.
    let mut expected = BTreeMap::new();
    for short in ["a1", "a2"] {
        let name = e.name(short);
        expected.insert((name.clone(), "cn-hangzhou".into(), "pca".into()), 30);
        expected.insert((name.clone(), "cn-hangzhou".into(), "vod".into()), 6);
        for region in regions {
            expected.insert((name.clone(), region.into(), "esa".into()), 24);
        }
    }
    for short in ["h1", "h2"] {
        for region in ["cn-north-4", "cn-east-3"] {
            expected.insert((e.name(short), region.into(), "iotda".into()), 40);
        }
    }
    for ((name, region), ids) in &known_kms {
        expected.insert((name.clone(), region.clone(), "kms".into()), ids.len());
    }
    assert_eq!(counts(&rows), expected);
    for ((name, region), ids) in &known_kms {
        let got = ids_of(&rows, name, region, "kms");
        assert_eq!(
            got,
            ids.iter().map(String::as_str).collect(),
            "{name}@{region}"
        );
    }
    // Each region is its own inventory (other ids, names tagged with the region).
    let (a2, h2) = (e.name("a2"), e.name("h2"));
    let home = ids_of(&rows, &a2, "cn-hangzhou", "esa");
    let singapore = ids_of(&rows, &a2, "ap-southeast-1", "esa");
    assert!(home.is_disjoint(&singapore));
    assert!(
        rows.iter()
            .filter(|r| s(r, "profile") == a2 && s(r, "region") == "ap-southeast-1")
            .all(|r| s(r, "name").contains("ap-southeast-1.a2.")),
        "regional names"
    );
    // The IoTDA rows of account 2 in cn-east-3 are what its own key lists there (the
    // single-account command, another code path).
    let two = e.sim.account(2);
    let direct = Command::new(BIN)
        .args([
            "--endpoint",
            &e.sim.endpoint,
            "--region",
            "cn-east-3",
            "--project-id",
            &two.projects["cn-east-3"],
            "iot",
            "list",
            "--json",
        ])
        .env("CERTDESK_CONFIG_DIR", e.dir.path().join("empty"))
        .env("HUAWEICLOUD_SDK_AK", &two.huawei_ak)
        .env("HUAWEICLOUD_SDK_SK", &two.huawei_sk)
        .output()
        .unwrap();
    assert!(direct.status.success(), "{}", text(&direct.stderr));
    let direct: Vec<Value> = serde_json::from_slice(&direct.stdout).unwrap();
    let direct_ids: BTreeSet<&str> = direct.iter().map(|c| s(c, "certificate_id")).collect();
    assert_eq!(ids_of(&rows, &h2, "cn-east-3", "iotda"), direct_ids);
    // Every row has the documented shape.
    for r in &rows {
        for field in ["profile", "region", "service", "id", "name", "status"] {
            assert!(r[field].is_string(), "{field}: {r}");
        }
        if let Some(t) = r["not_after"].as_str() {
            assert!(
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .is_ok(),
                "{t}"
            );
        }
        if let Some(h) = r["sha256"].as_str() {
            assert!(
                h.len() == 64 && h.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
                "{h}"
            );
        }
    }

    // --service keeps one service; the table has one line per row and a header.
    let (rows_iot, _) = e.inventory(0, &["--all-profiles"], &["--service", "iot"]);
    assert_eq!(rows_iot.len(), 160);
    let (table, _) = e.expect(
        0,
        &["--all-profiles", "inventory", "--service", "vod"],
        None,
    );
    assert_eq!(table.lines().count(), 1 + 12, "{table}");
    assert!(table.starts_with("PROFILE"), "{table}");

    // find: a fingerprint in upper case with colons finds exactly its row, in its account and
    // region; its serial finds it too.
    let target = rows
        .iter()
        .find(|r| {
            s(r, "profile") == a2
                && s(r, "region") == "ap-southeast-1"
                && s(r, "service") == "esa"
                && r["serial"].is_string()
                && r["sha256"].is_string()
        })
        .expect("an ESA row with a fingerprint and serial");
    let colons = |hex: &str| {
        hex.to_ascii_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":")
    };
    let fingerprint = colons(s(target, "sha256"));
    let (found, err) = e.expect(0, &["--all-profiles", "find", &fingerprint, "--json"], None);
    let found: Vec<Value> = serde_json::from_str(&found).unwrap();
    assert_eq!(found, vec![target.clone()], "{err}");
    assert!(err.contains("SHA-256 fingerprint"), "{err}");
    let serial = colons(&s(target, "serial").replace(':', ""));
    let (found, _) = e.expect(0, &["--all-profiles", "find", &serial, "--json"], None);
    let found: Vec<Value> = serde_json::from_str(&found).unwrap();
    // The whole row, so in its account and region (a serial may repeat across CAs).
    assert!(found.contains(target), "{found:?}");
    assert!(found.len() < 5, "{found:?}");
    // A KMS certificate is found by its id, in its account and region.
    let kms_id = &known_kms[&(a2.clone(), "ap-southeast-1".to_string())][0];
    let (found, _) = e.expect(0, &["--all-profiles", "find", kms_id, "--json"], None);
    let found: Vec<Value> = serde_json::from_str(&found).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            s(&found[0], "profile"),
            s(&found[0], "region"),
            s(&found[0], "service")
        ),
        (a2.as_str(), "ap-southeast-1", "kms")
    );
    // --profile narrows the search.
    let (found, _) = e.expect(
        0,
        &["--profile", &e.name("a1"), "find", &fingerprint, "--json"],
        None,
    );
    assert_eq!(found.trim(), "[]");
    e.cleanup();
}

#[test]
fn bad_profiles_and_regions_fail_alone_and_single_account_commands_refuse_several() {
    if !keyring_ready(
        "bad_profiles_and_regions_fail_alone_and_single_account_commands_refuse_several",
    ) {
        return;
    }
    let e = Estate::new(Sim::binary());
    let (a1, dup, rejected) = (e.name("a1"), e.name("dup"), e.name("rejected"));
    // ESA has no endpoint in cn-shanghai.
    e.add_alibaba("a1", 1, "cn-hangzhou,cn-shanghai", &[]);
    e.add_alibaba("dup", 1, "cn-hangzhou", &[]);
    // Account 2's key id with a wrong secret: the simulator rejects its signatures.
    let out = e.run(
        &[
            "--endpoint",
            &e.sim.endpoint,
            "profile",
            "add",
            &rejected,
            "--cloud",
            "alibaba",
            "--access-key-id",
            &e.sim.account(2).alibaba_id,
        ],
        Some("wrong-secret"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // An unknown name: a usage error naming the known profiles; nothing is read.
    let (_, err) = e.expect(2, &["--profile", &format!("{a1},nope"), "inventory"], None);
    assert!(
        err.contains("unknown profile \"nope\"") && err.contains(&a1) && err.contains(&dup),
        "{err}"
    );

    // The region ESA lacks is named; everything else of the profile loads.
    let (rows, err) = e.inventory(5, &["--profile", &a1], &[]);
    let line = err
        .lines()
        .find(|l| l.contains("InvalidRegionId"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains(&a1) && line.contains("region cn-shanghai") && line.contains("ESA"),
        "{line}"
    );
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("error: profile"))
            .count(),
        1,
        "{err}"
    );
    let c = counts(&rows);
    assert_eq!(c[&(a1.clone(), "cn-hangzhou".into(), "esa".into())], 24);
    assert_eq!(c[&(a1.clone(), "cn-hangzhou".into(), "pca".into())], 30);
    assert!(!c.contains_key(&(a1.clone(), "cn-shanghai".into(), "esa".into())));

    // A rejected key among good ones: the others load, the rejected one says why, once per
    // service; the same account twice is warned about and read once.
    let all = format!("{a1},{dup},{rejected}");
    let (rows, err) = e.inventory(5, &["--profile", &all, "--region", "cn-hangzhou"], &[]);
    assert!(
        err.contains(&format!(
            "warning: profile \"{dup}\" reaches the same account as profile \"{a1}\""
        )),
        "{err}"
    );
    let rejected_lines: Vec<&str> = err.lines().filter(|l| l.contains(&rejected)).collect();
    assert_eq!(rejected_lines.len(), 3, "PCA, ESA and VOD:\n{err}");
    assert!(
        rejected_lines
            .iter()
            .all(|l| l.contains("SignatureDoesNotMatch") && l.contains("region cn-hangzhou")),
        "{err}"
    );
    assert!(
        rows.iter().all(|r| s(r, "profile") == a1),
        "read once, under the first"
    );
    assert_eq!(
        counts(&rows).values().sum::<usize>(),
        30 + 24 + 6,
        "a1 in cn-hangzhou only (--region)"
    );

    // Commands that change or read one account refuse several, saying so.
    let (_, err) = e.expect(
        2,
        &[
            "--profile",
            &format!("{a1},{rejected}"),
            "pca",
            "revoke",
            "x",
        ],
        None,
    );
    assert!(err.contains("exactly one account"), "{err}");
    let (_, err) = e.expect(2, &["--all-profiles", "kms", "describe", "x"], None);
    assert!(err.contains("exactly one account"), "{err}");
    let (_, err) = e.expect(2, &["--all-profiles", "--profile", &a1, "inventory"], None);
    assert!(err.contains("cannot be used with"), "{err}");
    e.cleanup();
}

#[test]
fn expiring_within_keeps_what_expires_and_fail_if_any_exits_1() {
    if !keyring_ready("expiring_within_keeps_what_expires_and_fail_if_any_exits_1") {
        return;
    }
    let e = Estate::new(Sim::binary());
    e.add_alibaba("a1", 1, "cn-hangzhou", &[]);
    e.add_alibaba("a3", 3, "cn-hangzhou", &[]);
    let selection = format!("{},{}", e.name("a1"), e.name("a3"));
    let pre = ["--profile", selection.as_str()];
    let (all, _) = e.inventory(0, &pre, &["--service", "pca"]);
    assert_eq!(all.len(), 60);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expiring = |days: i64| -> BTreeSet<String> {
        all.iter()
            .filter(|r| s(r, "status") != "revoked")
            .filter(|r| {
                r["not_after"].as_str().is_some_and(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .unwrap()
                        .unix_timestamp()
                        <= now + days * 86_400
                })
            })
            .map(|r| s(r, "id").to_string())
            .collect()
    };
    let soon = expiring(365);
    assert!(
        !soon.is_empty() && soon.len() < 60,
        "the seed has some: {}",
        soon.len()
    );
    let (rows, _) = e.inventory(0, &pre, &["--service", "pca", "--expiring-within", "365"]);
    let got: BTreeSet<String> = rows.iter().map(|r| s(r, "id").to_string()).collect();
    assert_eq!(got, soon);
    assert!(rows.iter().all(|r| s(r, "status") != "revoked"));
    // The expired ones are among them.
    let expired = expiring(0);
    assert!(!expired.is_empty() && expired.is_subset(&got));

    // --fail-if-any: exit 1 with something to act on, the rows still printed.
    let (rows, err) = e.inventory(
        1,
        &pre,
        &[
            "--service",
            "pca",
            "--expiring-within",
            "365",
            "--fail-if-any",
        ],
    );
    assert_eq!(rows.len(), soon.len());
    assert!(
        err.contains(&format!("{} certificate(s) expire", soon.len())),
        "{err}"
    );
    // Nothing to act on (VOD in the simulator: no certificate expires within a day, or none
    // is known): exit 0.
    let vod_soon = e
        .inventory(0, &pre, &["--service", "vod", "--expiring-within", "1"])
        .0;
    let code = if vod_soon.is_empty() { 0 } else { 1 };
    e.inventory(
        code,
        &pre,
        &[
            "--service",
            "vod",
            "--expiring-within",
            "1",
            "--fail-if-any",
        ],
    );
    let (rows, _) = e.inventory(
        0,
        &pre,
        &[
            "--service",
            "kms",
            "--expiring-within",
            "1",
            "--fail-if-any",
        ],
    );
    assert!(rows.is_empty(), "no KMS id is known");
    // --fail-if-any needs --expiring-within.
    e.expect(2, &["inventory", "--fail-if-any"], None);
    e.cleanup();
}

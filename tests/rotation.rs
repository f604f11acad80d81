//! Certificate rotation end to end against the in-process simulator, through the built `certdesk`
//! binary (and, for the verification step, the engine directly): the CDN and SSL-repository
//! commands, a bulk rotation with its dry run, every bad input of issue 15 (a certificate that
//! does not cover a domain, a key that does not match, an expired certificate without the
//! override, a repository id that does not exist, a domain offline or being configured, a job
//! killed mid-rotation and resumed), retry-failed, undo, the verification catching a mismatch, and
//! the audit log's words. The private key never appears in any output or in the journal.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod sim_support;

use certdesk::app::workspace::demo_configs;
use certdesk::cloud::{Transport, TransportOptions};
use certdesk::jobs::backends::CloudBackend;
use certdesk::jobs::rotation::{CertificateSource, DomainChecks, NewCertificate, VERIFY_MISMATCH};
use certdesk::jobs::{
    Applied, Backend, BulkItem, BulkJob, ChangeRequest, EngineConfig, ItemChecks, JobExtras,
    Principal, RetryPolicy, ServedCertificate, start_job_with,
};
use certdesk::model::{CertStatus, Error, Outcome, Service};
use certdesk::sim::{RunningSimulator, SimOptions, SimSize, SimTuning};
use certdesk::store::journal::{ItemState, Journal};
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ZONE: &str = "certdesk-demo.net";
const REGION: &str = "cn-hangzhou";
/// Seeded repository certificate 0: `*.certdesk-demo.net` and the apex, valid ~300 days.
const WILDCARD: &str = "12000000";
/// Seeded repository certificate 2: `www.certdesk-demo.net`, expired.
const EXPIRED: &str = "12000002";

fn domain(word: &str) -> String {
    format!("{word}.{ZONE}")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

struct World {
    rt: tokio::runtime::Runtime,
    sim: RunningSimulator,
    dir: tempfile::TempDir,
    /// Jobs already handed out by [`World::last_job`].
    seen_jobs: std::cell::RefCell<std::collections::HashSet<String>>,
}

impl World {
    fn new(options: SimOptions, tuning: SimTuning) -> World {
        let rt = runtime();
        let sim = rt.block_on(sim_support::start_with(options, tuning));
        World {
            rt,
            sim,
            dir: tempfile::tempdir().unwrap(),
            seen_jobs: Default::default(),
        }
    }

    fn small() -> World {
        World::new(SimOptions::default(), SimTuning::default())
    }

    fn data(&self) -> &Path {
        self.dir.path()
    }

    fn cli(&self, args: &[&str]) -> Output {
        sim_support::certdesk_cli(&self.sim.endpoint(), self.data())
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "certdesk {args:?} failed ({:?}): {}{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs and expects exit code `code`; returns stderr.
    fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.cli(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "certdesk {args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn ids_file(&self, name: &str, ids: &[String]) -> String {
        let path = self.data().join(name);
        std::fs::write(&path, ids.join("\n")).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn serving(&self, domain: &str) -> (String, Option<String>, Option<i64>) {
        let s = self.sim.cdn_ssl(0, REGION, domain).unwrap();
        (s.ssl_protocol, s.sha256, s.cert_id)
    }

    fn journal(&self) -> Journal {
        Journal::open(&self.data().join("certdesk.sqlite3")).unwrap()
    }

    /// The one job started since the last call (jobs created within one second have no order).
    fn last_job(&self) -> String {
        let (id, _) = self.unseen_job().expect("no new job");
        self.seen_jobs.borrow_mut().insert(id.clone());
        id
    }

    /// The job not handed out yet, with its counts, when there is exactly one.
    fn unseen_job(&self) -> Option<(String, certdesk::store::journal::JobCounts)> {
        let jobs = self.journal().jobs().ok()?;
        let seen = self.seen_jobs.borrow();
        let mut new = jobs.into_iter().filter(|(j, _)| !seen.contains(&j.id));
        let found = new.next()?;
        assert!(new.next().is_none(), "more than one new job");
        Some((found.0.id, found.1))
    }

    fn sets(&self, domain: &str) -> u64 {
        self.sim
            .mutation_requests("SetCdnDomainSSLCertificate", domain)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Files of a fresh self-signed certificate for `names` (valid now unless `expired`) and its key.
struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    key_pem: String,
    sha256: String,
}

fn cert_files(dir: &Path, tag: &str, names: &[&str], expired: bool) -> CertFiles {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0]);
    let now = time::OffsetDateTime::now_utc();
    if expired {
        params.not_before = now - time::Duration::days(100);
        params.not_after = now - time::Duration::days(10);
    } else {
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(200);
    }
    let cert = params.self_signed(&key).unwrap();
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(cert.der()))
    };
    let (c, k) = (
        dir.join(format!("{tag}.crt")),
        dir.join(format!("{tag}.key")),
    );
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    CertFiles {
        cert: c,
        key: k,
        key_pem: key.serialize_pem(),
        sha256,
    }
}

/// The base64 body of a PEM key: what must never show up anywhere.
fn key_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn audit_words(world: &World) -> Vec<(String, String, String)> {
    world
        .journal()
        .audit(None)
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.operation.as_str().to_string(),
                e.target,
                e.result.as_str().to_string(),
            )
        })
        .collect()
}

#[test]
fn read_commands_print_tables_and_typed_json_with_sha256() {
    let w = World::small();
    let domains = w.json(&["cdn", "domains"]);
    let names: Vec<&str> = domains
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["DomainName"].as_str().unwrap())
        .collect();
    // Domains under review are listed too (CheckDomainShow).
    assert!(names.contains(&domain("m").as_str()), "{names:?}");
    assert!(w.ok(&["cdn", "domains"]).contains("configuring"));

    let www = domain("www");
    let info = w.json(&["cdn", "cert-info", &www]);
    let (_, sim_sha, cert_id) = w.serving(&www);
    assert_eq!(info["sha256"].as_str(), sim_sha.as_deref());
    let sha = info["sha256"].as_str().unwrap();
    assert!(
        sha.len() == 64
            && sha
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(info["CertInfos"]["CertInfo"][0]["CertId"], WILDCARD);
    assert_eq!(cert_id.unwrap().to_string(), WILDCARD);
    let table = w.ok(&["cdn", "cert-info", &www]);
    assert!(table.contains(&format!("SHA-256 {sha}")), "{table}");
    assert!(table.contains("repository certificate 12000000"), "{table}");
    // A domain that never had a certificate.
    let none = w.json(&["cdn", "cert-info", &domain("img")]);
    assert!(none["sha256"].is_null(), "{none}");

    // VOD carries the served certificate's fingerprint too.
    let vod_domains = w.json(&["vod", "domains"]);
    let vod0 = vod_domains[0]["DomainName"].as_str().unwrap().to_string();
    let vod_info = w.json(&["vod", "cert-info", &vod0]);
    let pem = vod_info["CertInfos"]["CertInfo"][0]["ServerCertificate"]
        .as_str()
        .unwrap();
    let der = pem::parse(pem).unwrap();
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(der.contents()))
    };
    assert_eq!(vod_info["sha256"].as_str(), Some(expected.as_str()));

    // The repository: list, show (never a key), where.
    let list = w.json(&["cas", "list"]);
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["CertificateId"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&12_000_000) && ids.contains(&12_000_002),
        "expired ones listed too"
    );
    let shown = w.json(&["cas", "show", WILDCARD]);
    assert_eq!(shown["Id"], 12_000_000);
    assert!(shown.get("Key").is_none() && shown["Cert"] == "", "{shown}");
    assert!(
        w.ok(&["cas", "show", WILDCARD])
            .contains(&format!("*.{ZONE}"))
    );
    let deployed = w.json(&["cas", "where", WILDCARD]);
    let mut where_: Vec<&str> = deployed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Domain"].as_str().unwrap())
        .collect();
    where_.sort();
    assert_eq!(where_, [domain("assets"), domain("www")]);
    assert!(
        w.ok(&["cas", "where", "12000003"])
            .contains("deployed nowhere")
    );
    let err = w.fails(1, &["cas", "show", "99999999"]);
    assert!(err.contains("Certificate.NotFound"), "{err}");
}

#[test]
fn cas_upload_runs_the_importer_checks_and_upload_delete_are_audited() {
    let w = World::small();
    let good = cert_files(w.data(), "good", &["shop.example.org"], false);
    let other = cert_files(w.data(), "other", &["shop.example.org"], false);
    let expired = cert_files(w.data(), "old", &["old.example.org"], true);

    // A key that does not match: refused locally, nothing sent.
    let err = w.fails(
        2,
        &[
            "cas",
            "upload",
            "--name",
            "mismatch",
            "--cert",
            p(&good.cert),
            "--key",
            p(&other.key),
        ],
    );
    assert!(
        err.contains("key matches certificate") && err.contains("nothing was sent"),
        "{err}"
    );
    assert_eq!(
        w.sim.mutation_requests("UploadUserCertificate", "mismatch"),
        0
    );
    // Expired without the override: refused; with it: uploaded.
    let err = w.fails(
        2,
        &[
            "cas",
            "upload",
            "--name",
            "old",
            "--cert",
            p(&expired.cert),
            "--key",
            p(&expired.key),
        ],
    );
    assert!(err.contains("validity") && err.contains("expired"), "{err}");
    assert_eq!(w.sim.mutation_requests("UploadUserCertificate", "old"), 0);
    let long = "n".repeat(64);
    let err = w.fails(
        2,
        &[
            "cas",
            "upload",
            "--name",
            &long,
            "--cert",
            p(&good.cert),
            "--key",
            p(&good.key),
        ],
    );
    assert!(err.contains("at most 63"), "{err}");
    w.ok(&[
        "cas",
        "upload",
        "--name",
        "old",
        "--cert",
        p(&expired.cert),
        "--key",
        p(&expired.key),
        "--allow-expired",
    ]);

    let out = w.json(&[
        "cas",
        "upload",
        "--name",
        "shop",
        "--cert",
        p(&good.cert),
        "--key",
        p(&good.key),
    ]);
    assert_eq!(out["change"], "upload-certificate");
    let id = out["created"].as_str().unwrap().to_string();
    let shown = w.json(&["cas", "show", &id]);
    assert_eq!(shown["Name"], "shop");
    assert_eq!(
        shown["Sha2"].as_str().unwrap().to_ascii_lowercase(),
        good.sha256
    );
    let deleted = w.ok(&["cas", "delete", &id]);
    assert!(deleted.contains("certificate deleted"), "{deleted}");
    assert!(
        w.fails(1, &["cas", "show", &id])
            .contains("Certificate.NotFound")
    );
    // A certificate in use is refused by the service, and the refusal is audited.
    let err = w.fails(1, &["cas", "delete", WILDCARD]);
    assert!(err.contains("Certificate.InUse"), "{err}");

    let words = audit_words(&w);
    assert!(words.contains(&("upload-certificate".into(), "shop".into(), "applied".into())));
    assert!(words.contains(&("delete-certificate".into(), id.clone(), "applied".into())));
    assert!(words.contains(&(
        "delete-certificate".into(),
        WILDCARD.into(),
        "failed".into()
    )));
    let entry = w
        .journal()
        .audit(Some("shop"))
        .unwrap()
        .into_iter()
        .find(|e| e.operation.as_str() == "upload-certificate")
        .unwrap();
    let message = entry.message.unwrap();
    assert!(
        message.contains(&good.sha256) && message.contains(&format!("created {id}")),
        "{message}"
    );
    // The key is in no output and not in the journal.
    assert_no_key_anywhere(&w, &[&good.key_pem, &expired.key_pem]);
}

/// No byte of a private key in the journal database (its WAL included).
fn assert_no_key_anywhere(w: &World, keys: &[&str]) {
    for entry in std::fs::read_dir(w.data()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("certdesk.sqlite3"))
        {
            let bytes = std::fs::read(&path).unwrap();
            let stored = String::from_utf8_lossy(&bytes);
            for key in keys {
                let body = key_body(key);
                assert!(
                    !stored.contains(&body[..40]),
                    "{} holds a private key",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn cdn_set_cert_single_changes_are_checked_audited_and_verified() {
    let w = World::small();
    let www = domain("www");
    let m = domain("download");
    let img = domain("img");

    w.ok(&["cdn", "set-cert", &www, "--ssl", "off"]);
    assert_eq!(w.serving(&www).0, "off");
    w.ok(&["cdn", "set-cert", &www, "--ssl", "on"]);
    assert_eq!(w.serving(&www).0, "on");
    // HTTPS on for a domain that never had a certificate: the service refuses.
    let err = w.fails(1, &["cdn", "set-cert", &img, "--ssl", "on"]);
    assert!(err.contains("SSLPub.MissingParameter"), "{err}");

    // A repository certificate, verified by describing the domain again.
    let (_, wildcard_sha, _) = w.serving(&www);
    let out = w.cli(&[
        "cdn",
        "set-cert",
        &m,
        "--ssl",
        "on",
        "--cas-cert-id",
        WILDCARD,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("verified: serving the new certificate"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(w.serving(&m).1, wildcard_sha);
    assert_eq!(w.serving(&m).2, Some(12_000_000));

    // Files for the apex only: they do not cover img, so nothing is sent.
    let apex = cert_files(w.data(), "apex", &[ZONE], false);
    let err = w.fails(
        2,
        &[
            "cdn",
            "set-cert",
            &img,
            "--ssl",
            "on",
            "--cert",
            p(&apex.cert),
            "--key",
            p(&apex.key),
        ],
    );
    assert!(err.contains(&format!("does not cover {img}")), "{err}");
    let covering = cert_files(w.data(), "img", &[&img], false);
    w.ok(&[
        "cdn",
        "set-cert",
        &img,
        "--ssl",
        "on",
        "--cert",
        p(&covering.cert),
        "--key",
        p(&covering.key),
        "--cert-name",
        "img-2026",
    ]);
    assert_eq!(w.serving(&img).1.as_deref(), Some(covering.sha256.as_str()));
    assert_eq!(w.sets(&img), 2, "the refused upload was never sent");

    // A repository id that does not exist; an expired one without the override.
    let err = w.fails(
        1,
        &[
            "cdn",
            "set-cert",
            &m,
            "--ssl",
            "on",
            "--cas-cert-id",
            "99999999",
        ],
    );
    assert!(
        err.contains("does not exist") && err.contains("nothing was sent"),
        "{err}"
    );
    let err = w.fails(
        2,
        &[
            "cdn",
            "set-cert",
            &www,
            "--ssl",
            "on",
            "--cas-cert-id",
            EXPIRED,
        ],
    );
    assert!(
        err.contains("expired") && err.contains("--allow-expired"),
        "{err}"
    );
    // An offline domain: the service refuses with its code.
    let err = w.fails(
        1,
        &[
            "cdn",
            "set-cert",
            &domain("api"),
            "--ssl",
            "on",
            "--cas-cert-id",
            WILDCARD,
        ],
    );
    assert!(err.contains("InvalidDomain.Offline"), "{err}");

    let words = audit_words(&w);
    for (word, target) in [
        ("https-off", &www),
        ("https-on", &www),
        ("set-certificate", &m),
        ("set-certificate", &img),
    ] {
        assert!(
            words.contains(&(word.to_string(), target.clone(), "applied".to_string())),
            "{word} {target}: {words:?}"
        );
    }
    assert_no_key_anywhere(&w, &[&covering.key_pem]);
}

#[test]
fn bulk_rotation_previews_refuses_verifies_and_undoes() {
    let w = World::small();
    let words = [
        "www", "img", "static", "assets", "api", "m", "download", "cdn",
    ];
    let mut ids: Vec<String> = words.iter().map(|w| domain(w)).collect();
    ids.push(format!("deep.www.{ZONE}"));
    let ids_file = w.ids_file("domains.txt", &ids);
    let (_, wildcard_sha, _) = w.serving(&domain("www"));
    let wildcard_sha = wildcard_sha.unwrap();
    let (_, soon_sha, _) = w.serving(&domain("download"));

    // The dry run: current → new, covered or not, what would be sent; nothing changes.
    let preview = w.json(&[
        "bulk",
        "set-cert",
        "--target",
        "cdn",
        "--ids-from",
        &ids_file,
        "--cas-cert-id",
        WILDCARD,
        "--dry-run",
    ]);
    let by_domain: HashMap<String, &Value> = preview
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["domain"].as_str().unwrap().to_string(), p))
        .collect();
    let verdict = |d: &str| by_domain[d]["verdict"].as_str().unwrap().to_string();
    assert_eq!(
        verdict(&domain("www")),
        "already serving the new certificate"
    );
    assert_eq!(verdict(&domain("download")), "would send");
    assert_eq!(by_domain[&domain("download")]["reversible"], true);
    assert_eq!(
        by_domain[&domain("download")]["current"]["sha256"].as_str(),
        soon_sha.as_deref()
    );
    assert_eq!(
        by_domain[&domain("static")]["reversible"],
        false,
        "uploaded: no way back"
    );
    assert!(verdict(&domain("assets")).contains("being configured"));
    assert!(verdict(&domain("api")).contains("not online (status offline)"));
    assert!(verdict(&domain("m")).contains("check_failed"));
    let deep = format!("deep.www.{ZONE}");
    assert_eq!(by_domain[&deep]["covered"], false);
    assert!(verdict(&deep).contains("does not cover"));
    assert_eq!(
        by_domain[&domain("img")]["new_sha256"],
        wildcard_sha.as_str()
    );
    let table = w.ok(&[
        "bulk",
        "set-cert",
        "--target",
        "cdn",
        "--ids-from",
        &ids_file,
        "--cas-cert-id",
        WILDCARD,
        "--dry-run",
    ]);
    assert!(table.contains("dry run: 4 of 9 would be sent"), "{table}");
    assert!(
        ids.iter().all(|d| w.sets(d) == 0),
        "a dry run sends nothing"
    );

    // Without --yes and without a terminal: not confirmed, nothing sent.
    let err = w.fails(
        2,
        &[
            "bulk",
            "set-cert",
            "--target",
            "cdn",
            "--ids-from",
            &ids_file,
            "--cas-cert-id",
            WILDCARD,
        ],
    );
    assert!(
        err.contains("not confirmed") && err.contains("irreversible"),
        "{err}"
    );

    // The job: refused domains are reported (exit 1) and never sent.
    let out = w.cli(&[
        "--json",
        "bulk",
        "set-cert",
        "--target",
        "cdn",
        "--ids-from",
        &ids_file,
        "--cas-cert-id",
        WILDCARD,
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let results: Vec<Value> = serde_json::from_str(&text(&out.stdout)).unwrap();
    let outcome: HashMap<String, (String, String)> = results
        .iter()
        .map(|r| {
            (
                r["item"]["id"].as_str().unwrap().to_string(),
                (
                    r["outcome"].as_str().unwrap().to_string(),
                    r["message"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect();
    for d in ["img", "static", "download", "cdn"] {
        let (o, note) = &outcome[&domain(d)];
        assert_eq!(o, "applied", "{d}");
        assert!(
            note.starts_with("verified: serving the new certificate"),
            "{d}: {note}"
        );
        assert_eq!(
            w.serving(&domain(d)).1.as_deref(),
            Some(wildcard_sha.as_str())
        );
        assert_eq!(w.sets(&domain(d)), 1);
    }
    assert_eq!(outcome[&domain("www")].0, "already");
    for d in [domain("assets"), domain("api"), domain("m"), deep.clone()] {
        assert_eq!(outcome[&d].0, "not-allowed", "{d}");
        assert_eq!(w.sets(&d), 0, "{d} was sent");
    }
    let job = w.last_job();
    let words = audit_words(&w);
    assert_eq!(
        words
            .iter()
            .filter(|(op, _, result)| op == "set-certificate" && result == "applied")
            .count(),
        4
    );

    // Nothing failed for retry-failed to run (refused items are left out).
    let err = text(&w.cli(&["jobs", "retry-failed", &job, "--yes"]).stderr);
    assert!(err.contains("no failed items"), "{err}");

    // Undo: m gets its repository certificate back, img (no certificate before) HTTPS off;
    // static and cdn had uploaded certificates: listed as irreversible before anything starts.
    let out = w.cli(&["jobs", "undo", &job, "--yes"]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("reversible    {}", domain("download")))
            && err.contains("put back repository certificate 12000001"),
        "{err}"
    );
    assert!(
        err.contains(&format!("irreversible  {}", domain("static"))),
        "{err}"
    );
    assert!(err.contains("uploaded with its key"), "{err}");
    assert!(err.contains("5 item(s) were not changed"), "{err}");
    assert_eq!(w.serving(&domain("download")).1, soon_sha);
    assert_eq!(w.serving(&domain("download")).2, Some(12_000_001));
    assert_eq!(w.serving(&domain("img")).0, "off");
    assert_eq!(
        w.serving(&domain("static")).1.as_deref(),
        Some(wildcard_sha.as_str())
    );
    assert_eq!(w.sets(&domain("www")), 0, "untouched by the undo");
    let words = audit_words(&w);
    assert!(words.contains(&("https-off".into(), domain("img"), "applied".into())));
    assert_eq!(
        words
            .iter()
            .filter(|(op, t, _)| op == "set-certificate" && *t == domain("download"))
            .count(),
        2
    );
    // The undo jobs remember where they came from.
    let journal = w.journal();
    let undo_jobs: Vec<_> = journal
        .jobs()
        .unwrap()
        .into_iter()
        .filter(|(j, _)| {
            journal
                .job_params(&j.id)
                .unwrap()
                .is_some_and(|p| p.contains("\"undo\"") && p.contains(&job))
        })
        .collect();
    assert_eq!(
        undo_jobs.len(),
        2,
        "one per change: put back 12000001, https-off"
    );
}

#[test]
fn bulk_https_and_retry_failed_run_exactly_the_failed_items() {
    let w = World::small();
    let missing = format!("missing.{ZONE}");
    let ids = vec![
        domain("www"),
        domain("download"),
        domain("assets"),
        missing.clone(),
    ];
    let ids_file = w.ids_file("https.txt", &ids);
    let dry = w.json(&[
        "bulk",
        "https-off",
        "--target",
        "cdn",
        "--ids-from",
        &ids_file,
        "--dry-run",
    ]);
    let verdicts: Vec<&str> = dry
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts[0], "would apply");
    assert!(verdicts[2].contains("being configured"), "{verdicts:?}");
    assert!(verdicts[3].starts_with("not found"), "{verdicts:?}");
    let err = w.fails(
        1,
        &[
            "bulk",
            "https-off",
            "--target",
            "cdn",
            "--ids-from",
            &ids_file,
            "--yes",
        ],
    );
    assert!(err.contains("jobs retry-failed"), "{err}");
    let first = w.last_job();
    assert_eq!(w.serving(&domain("www")).0, "off");
    assert_eq!(w.serving(&domain("download")).0, "off");
    let items = w.journal().items(&first).unwrap();
    assert_eq!(items[3].outcome, Some(Outcome::Failed));
    assert_eq!(items[2].outcome, Some(Outcome::NotAllowed));

    // Retry: a new job with exactly the failed item.
    let err = w.fails(1, &["jobs", "retry-failed", &first, "--yes"]);
    assert!(err.contains("1 of 1 items failed"), "{err}");
    let retry = w.last_job();
    assert_ne!(retry, first);
    let retried = w.journal().items(&retry).unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].item_id, missing);
    assert_eq!(w.sets(&domain("www")), 1, "done items are not sent again");
    let params = w.journal().job_params(&retry).unwrap().unwrap();
    assert!(
        params.contains("retry-failed") && params.contains(&first),
        "{params}"
    );
    let audited: Vec<_> = w
        .journal()
        .audit(Some(&missing))
        .unwrap()
        .into_iter()
        .filter(|e| e.job_id.as_deref() == Some(retry.as_str()))
        .collect();
    assert_eq!(audited.len(), 1, "the retry is audited under its own job");

    // https-on undoes https-off; VOD has no plain https-on.
    w.ok(&[
        "bulk",
        "https-on",
        "--target",
        "cdn",
        "--ids-from",
        &w.ids_file("on.txt", &[domain("www")]),
        "--yes",
    ]);
    assert_eq!(w.serving(&domain("www")).0, "on");
    w.ok(&["jobs", "undo", &first, "--yes"]);
    assert_eq!(w.serving(&domain("download")).0, "on");
    let err = w.fails(
        2,
        &[
            "bulk",
            "https-on",
            "--target",
            "vod",
            "--ids-from",
            &ids_file,
        ],
    );
    assert!(err.contains("only together with a certificate"), "{err}");
    let err = w.fails(
        2,
        &[
            "bulk",
            "set-cert",
            "--target",
            "kms",
            "--ids-from",
            &ids_file,
            "--cas-cert-id",
            WILDCARD,
        ],
    );
    assert!(err.contains("not domains"), "{err}");
    let words = audit_words(&w);
    assert!(words.iter().any(|(op, _, _)| op == "https-off"));
    assert!(words.iter().any(|(op, _, _)| op == "https-on"));
}

#[test]
fn bad_certificates_and_ids_are_refused_before_any_job() {
    let w = World::small();
    let ids_file = w.ids_file("d.txt", &[domain("img"), domain("download")]);
    let good = cert_files(w.data(), "wild", &[&format!("*.{ZONE}")], false);
    let other = cert_files(w.data(), "other", &[&format!("*.{ZONE}")], false);
    let old = cert_files(w.data(), "old", &[&format!("*.{ZONE}")], true);
    let rotate = |cert: &Path, key: &Path, extra: &[&str]| {
        let mut args = vec![
            "bulk",
            "set-cert",
            "--target",
            "cdn",
            "--ids-from",
            &ids_file,
            "--cert",
            p(cert),
            "--key",
            p(key),
            "--yes",
        ];
        args.extend_from_slice(extra);
        w.cli(&args)
    };
    let out = rotate(&good.cert, &other.key, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("key matches certificate"),
        "{}",
        text(&out.stderr)
    );
    let out = rotate(&old.cert, &old.key, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("expired"),
        "{}",
        text(&out.stderr)
    );
    let err = w.fails(
        1,
        &[
            "bulk",
            "set-cert",
            "--target",
            "cdn",
            "--ids-from",
            &ids_file,
            "--cas-cert-id",
            "424242",
            "--yes",
        ],
    );
    assert!(err.contains("does not exist"), "{err}");
    let err = w.fails(
        2,
        &[
            "bulk",
            "set-cert",
            "--target",
            "cdn",
            "--ids-from",
            &ids_file,
            "--cas-cert-id",
            EXPIRED,
            "--yes",
        ],
    );
    assert!(err.contains("--allow-expired"), "{err}");
    assert!(w.journal().jobs().unwrap().is_empty(), "no job was started");
    assert_eq!(w.sets(&domain("img")) + w.sets(&domain("download")), 0);

    // With the explicit override, the expired certificate goes out (and is verified).
    let out = rotate(&old.cert, &old.key, &["--allow-expired"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        w.serving(&domain("img")).1.as_deref(),
        Some(old.sha256.as_str())
    );
    assert_no_key_anywhere(&w, &[&old.key_pem, &good.key_pem]);
    assert!(!text(&out.stdout).contains(&key_body(&old.key_pem)[..40]));
    assert!(!text(&out.stderr).contains(&key_body(&old.key_pem)[..40]));
}

#[test]
fn vod_domains_rotate_to_a_repository_certificate() {
    let w = World::small();
    let vod = w.json(&["vod", "domains"]);
    let first = vod[0]["DomainName"].as_str().unwrap().to_string();
    let files = cert_files(w.data(), "vod", &[&first], false);
    let uploaded = w.json(&[
        "cas",
        "upload",
        "--name",
        "vod-rotation",
        "--cert",
        p(&files.cert),
        "--key",
        p(&files.key),
    ]);
    let id = uploaded["created"].as_str().unwrap().to_string();
    let ids_file = w.ids_file("vod.txt", std::slice::from_ref(&first));
    let out = w.cli(&[
        "bulk",
        "set-cert",
        "--target",
        "vod",
        "--ids-from",
        &ids_file,
        "--cas-cert-id",
        &id,
        "--yes",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("verified: serving the new certificate"),
        "{}",
        text(&out.stdout)
    );
    let info = w.json(&["vod", "cert-info", &first]);
    assert_eq!(info["sha256"].as_str(), Some(files.sha256.as_str()));
    assert_eq!(info["CertInfos"]["CertInfo"][0]["CertType"], "cas");
    assert_eq!(w.sim.vod_ssl(&first).unwrap().cert_type, "cas");
    // The repository knows where it is deployed.
    let deployed = w.json(&["cas", "where", &id]);
    assert_eq!(deployed[0]["Domain"], first.as_str());
    assert_eq!(deployed[0]["CloudProduct"], "VOD");
    // A certificate for another name does not go on the other VOD domains.
    let second = vod[1]["DomainName"].as_str().unwrap().to_string();
    let out = w.cli(&[
        "--json",
        "bulk",
        "set-cert",
        "--target",
        "vod",
        "--ids-from",
        &w.ids_file("vod2.txt", std::slice::from_ref(&second)),
        "--cas-cert-id",
        &id,
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("does not cover"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        w.sim
            .mutation_requests("SetVodDomainSSLCertificate", &second),
        0
    );
}

/// A backend that puts a different repository certificate on one domain than it was asked to (a
/// cloud that accepted the change but serves something else).
struct Swapping {
    inner: CloudBackend,
    liar: String,
}

impl Backend for Swapping {
    fn read_status<'a>(&'a self, item: &'a BulkItem) -> BoxFuture<'a, Result<CertStatus, Error>> {
        self.inner.read_status(item)
    }
    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        request: &'a ChangeRequest,
    ) -> BoxFuture<'a, Result<Applied, Error>> {
        Box::pin(async move {
            if item.id == self.liar {
                let other = ChangeRequest::SetRepositoryCertificate {
                    cert_id: 12_000_001,
                    region: REGION.into(),
                };
                return self.inner.apply(item, &other).await;
            }
            self.inner.apply(item, request).await
        })
    }
    fn serving<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<Option<ServedCertificate>, Error>> {
        self.inner.serving(item)
    }
}

#[test]
fn the_verify_step_catches_a_domain_serving_something_else() {
    let w = World::small();
    let transport = Transport::with_options(TransportOptions {
        retry: RetryPolicy::none(),
        ..TransportOptions::default()
    })
    .unwrap();
    let inner = CloudBackend::new(&transport, Some(&demo_configs(&w.sim).0), None);
    let wildcard_sha = w.serving(&domain("www")).1.unwrap();
    let backend: Arc<dyn Backend> = Arc::new(Swapping {
        inner,
        liar: domain("img"),
    });
    let new = NewCertificate {
        sha256: wildcard_sha.clone(),
        names: vec![format!("*.{ZONE}"), ZONE.to_string()],
        not_after: None,
        label: "wildcard".into(),
        source: CertificateSource::Repository {
            cert_id: 12_000_000,
            region: REGION.into(),
        },
    };
    let checks: Arc<dyn ItemChecks> = Arc::new(
        DomainChecks::new(backend.clone(), Some(new.clone()))
            .with_verify_waits(vec![Duration::from_millis(10)]),
    );
    let journal = Arc::new(Mutex::new(Journal::in_memory().unwrap()));
    let items: Vec<BulkItem> = ["img", "download"]
        .iter()
        .map(|d| BulkItem {
            service: Service::Cdn,
            id: domain(d),
            site_id: None,
            name: String::new(),
        })
        .collect();
    let job = BulkJob {
        principal: Principal::profile("t"),
        service: Service::Cdn,
        request: new.repository_request().unwrap(),
        items,
    };
    let extras = JobExtras {
        checks: Some(checks),
        params: None,
        ..JobExtras::default()
    };
    let done = w.rt.block_on(async {
        let mut handle = start_job_with(
            journal.clone(),
            backend,
            job,
            EngineConfig::for_service(Service::Cdn),
            extras,
        )
        .unwrap();
        let mut results = Vec::new();
        while let Some(r) = handle.results.recv().await {
            results.push(r);
        }
        handle.wait().await.unwrap();
        results
    });
    let img = done.iter().find(|r| r.item.id == domain("img")).unwrap();
    assert_eq!(img.outcome, Outcome::Failed);
    assert_eq!(img.code.as_deref(), Some(VERIFY_MISMATCH));
    let message = img.message.as_deref().unwrap();
    assert!(
        message.contains("repository certificate 12000001")
            && message.contains("not the new certificate"),
        "{message}"
    );
    let m = done
        .iter()
        .find(|r| r.item.id == domain("download"))
        .unwrap();
    assert_eq!(m.outcome, Outcome::Applied);
    let audit = journal.lock().unwrap().audit(Some(&domain("img"))).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].result.as_str(), "failed");
    assert_eq!(audit[0].code.as_deref(), Some(VERIFY_MISMATCH));
}

#[test]
fn a_killed_rotation_resumes_by_describing_uncertain_domains_first() {
    // A round trip long enough that a kill lands between sends and answers.
    let w = World::new(
        SimOptions {
            size: SimSize::Medium,
            seed: 3,
            ..SimOptions::default()
        },
        SimTuning {
            latency: Duration::from_millis(120),
            ..SimTuning::default()
        },
    );
    let all = w.json(&["cdn", "domains"]);
    let online: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["DomainStatus"] == "online")
        .map(|d| d["DomainName"].as_str().unwrap().to_string())
        .filter(|d| {
            // Not already serving the wildcard: every domain is sent.
            w.sim.cdn_ssl(0, REGION, d).unwrap().cert_id != Some(12_000_000)
        })
        .take(40)
        .collect();
    assert!(online.len() >= 30, "{}", online.len());
    let ids_file = w.ids_file("kill.txt", &online);
    let wildcard_sha = w.json(&["cas", "show", WILDCARD])["Sha2"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();

    let mut uncertain_seen = 0;
    let mut job = String::new();
    for _ in 0..3 {
        let mut child = sim_support::certdesk_cli(&w.sim.endpoint(), w.data())
            .args([
                "bulk",
                "set-cert",
                "--target",
                "cdn",
                "--ids-from",
                &ids_file,
                "--cas-cert-id",
                WILDCARD,
                "--yes",
                "--qps",
                "10",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the job never got going"
            );
            std::thread::sleep(Duration::from_millis(20));
            if w.unseen_job()
                .is_some_and(|(_, c)| c.succeeded >= 4 && c.sent >= 1)
            {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        job = w.last_job();
        let at_kill = w.journal().items(&job).unwrap();
        // Uncertain items whose change already reached the simulator: the case to confirm.
        uncertain_seen = at_kill
            .iter()
            .filter(|i| i.state == ItemState::Sent && w.sets(&i.item_id) == 1)
            .count();
        if uncertain_seen > 0 {
            break;
        }
        // Finish this one before trying again.
        w.ok(&["jobs", "resume", &job]);
    }
    assert!(
        uncertain_seen > 0,
        "no kill landed between an applied send and its recorded answer"
    );
    let at_kill = w.journal().items(&job).unwrap();
    let sent_at_kill: HashMap<String, u64> = at_kill
        .iter()
        .filter(|i| i.state == ItemState::Sent)
        .map(|i| (i.item_id.clone(), w.sets(&i.item_id)))
        .collect();

    eprintln!(
        "at the kill: {} uncertain, {} of them already applied",
        sent_at_kill.len(),
        sent_at_kill.values().filter(|n| **n == 1).count()
    );
    let out = w.cli(&["jobs", "resume", &job]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("described again first"));
    let items = w.journal().items(&job).unwrap();
    for item in &items {
        assert_eq!(item.state, ItemState::Succeeded, "{item:?}");
        assert_eq!(
            w.serving(&item.item_id).1.as_deref(),
            Some(wildcard_sha.as_str()),
            "{}",
            item.item_id
        );
        // Never sent twice: an uncertain domain that got the change was confirmed, not re-sent.
        assert_eq!(w.sets(&item.item_id), 1, "{} sent again", item.item_id);
        if sent_at_kill.get(&item.item_id) == Some(&1) {
            assert_eq!(item.outcome, Some(Outcome::Applied));
            assert!(
                item.message
                    .as_deref()
                    .unwrap_or("")
                    .contains("described again after the resume"),
                "{item:?}"
            );
        }
    }
    // Every domain's previous certificate was journaled before its send.
    assert_eq!(w.journal().previous(&job).unwrap().len(), items.len());
}

#[test]
fn a_rotation_from_files_resumes_only_with_the_same_files() {
    let w = World::new(
        SimOptions::default(),
        SimTuning {
            latency: Duration::from_millis(150),
            ..SimTuning::default()
        },
    );
    let ids = vec![
        domain("img"),
        domain("download"),
        domain("static"),
        domain("cdn"),
    ];
    let ids_file = w.ids_file("pem.txt", &ids);
    let files = cert_files(w.data(), "rot", &[&format!("*.{ZONE}")], false);
    let other = cert_files(w.data(), "oth", &[&format!("*.{ZONE}")], false);
    let mut child = sim_support::certdesk_cli(&w.sim.endpoint(), w.data())
        .args([
            "bulk",
            "set-cert",
            "--target",
            "cdn",
            "--ids-from",
            &ids_file,
            "--cert",
            p(&files.cert),
            "--key",
            p(&files.key),
            "--yes",
            "--qps",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the job never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
        if w.unseen_job().is_some_and(|(_, c)| c.succeeded >= 1) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let job = w.last_job();
    assert!(w.journal().counts(&job).unwrap().pending + w.journal().counts(&job).unwrap().sent > 0);

    let err = w.fails(2, &["jobs", "resume", &job]);
    assert!(
        err.contains("never journals keys") && err.contains("--cert FILE --key FILE"),
        "{err}"
    );
    let err = w.fails(
        2,
        &[
            "jobs",
            "resume",
            &job,
            "--cert",
            p(&other.cert),
            "--key",
            p(&other.key),
        ],
    );
    assert!(err.contains("is not the certificate of job"), "{err}");
    w.ok(&[
        "jobs",
        "resume",
        &job,
        "--cert",
        p(&files.cert),
        "--key",
        p(&files.key),
    ]);
    for d in &ids {
        assert_eq!(
            w.serving(d).1.as_deref(),
            Some(files.sha256.as_str()),
            "{d}"
        );
        assert_eq!(w.sets(d), 1, "{d}");
    }
    assert_no_key_anywhere(&w, &[&files.key_pem]);
}

//! The built `certdesk` binary against the verifying loopback fixture (tests/common): output in
//! table and `--json` form, the one-line error and the exit codes of the stable CLI contract.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Fixture, RecordingProxy, Reply, Seen};
use std::process::Output;

/// Runs the binary with only the given credentials in the environment and an empty config dir,
/// so no real profile or keyring entry can leak in.
async fn certdesk(env: &[(&str, &str)], args: &[&str]) -> Output {
    let config = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_certdesk"));
    cmd.args(args)
        .env("CERTDESK_CONFIG_DIR", config.path())
        .env("HOME", config.path())
        .env("XDG_CONFIG_HOME", config.path())
        .env("XDG_DATA_HOME", config.path())
        .env_remove("RUST_LOG");
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
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    drop(config);
    output
}

const ALIBABA_ENV: [(&str, &str); 2] = [
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", common::ALIBABA_ID),
    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", common::ALIBABA_SECRET),
];

const HUAWEI_ENV: [(&str, &str); 3] = [
    ("HUAWEICLOUD_SDK_AK", common::HUAWEI_AK),
    ("HUAWEICLOUD_SDK_SK", common::HUAWEI_SK),
    (
        "HUAWEICLOUD_SDK_PROJECT_ID",
        "5d2f0a1b3c4e5f60718293a4b5c6d7e8",
    ),
];

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn alibaba_fixture() -> Fixture {
    Fixture::start(|seen: &Seen| match (seen.action.as_str(), seen.param("CertificateId")) {
        ("DescribeCertificate", Some("missing")) => Reply::status(
            404,
            r#"{"RequestId":"ABC","HostId":"kms.cn-hangzhou.aliyuncs.com","Code":"Certificate.NotFound","Message":"The specified certificate is not found."}"#,
        ),
        ("DescribeCertificate", id) => Reply::json(
            serde_json::json!({"RequestId": "R-1", "CertificateId": id, "Status": "ACTIVE",
                "Subject": "C=CN,O=Example,CN=device-01", "NotAfter": "2032-09-17T11:07:25Z", "Serial": "0a1b"})
            .to_string(),
        ),
        ("UpdateCertificateStatus", _) => Reply::json(r#"{"RequestId":"R-2"}"#),
        ("DescribeClientCertificateStatus", _) => {
            let statuses: Vec<_> = seen
                .param("Identifier")
                .unwrap()
                .split(',')
                .map(|id| serde_json::json!({"SerialNumber": format!("serial-{id}"), "Status": "good"}))
                .collect();
            Reply::json(serde_json::json!({"RequestId": "R-3", "CertificateStatus": statuses}).to_string())
        }
        ("SetVodDomainCertificate", _) => Reply::json(r#"{"RequestId":"R-4"}"#),
        (other, _) => Reply::status(400, format!(r#"{{"Code":"UnexpectedAction","Message":"{other}","RequestId":"X"}}"#)),
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_describe_json_and_table() {
    let fixture = alibaba_fixture().await;
    let id = "id with space*~/é";
    let out = certdesk(
        &ALIBABA_ENV,
        &["--endpoint", &fixture.base, "--json", "kms", "describe", id],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["CertificateId"], id);
    assert_eq!(json["Status"], "ACTIVE");
    assert_eq!(json["RequestId"], "R-1");

    let out = certdesk(
        &ALIBABA_ENV,
        &[
            "--endpoint",
            &fixture.base,
            "--alibaba-signature",
            "v1",
            "kms",
            "describe",
            "c1",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("device-01") && text.contains("2032-09-17 11:07") && text.contains("ACTIVE"),
        "{text}"
    );
    fixture.assert_all_verified();
    let seen = fixture.seen();
    assert_eq!(seen[0].param("CertificateId"), Some(id));
    assert_eq!(
        seen[1].verified.as_deref(),
        Ok("HMAC-SHA1"),
        "--alibaba-signature v1 reached the wire"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cloud_errors_are_one_line_with_exit_code_1() {
    let fixture = alibaba_fixture().await;
    let out = certdesk(
        &ALIBABA_ENV,
        &["--endpoint", &fixture.base, "kms", "describe", "missing"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err.trim_end(),
        "error (KMS): Certificate.NotFound: The specified certificate is not found. (RequestId: ABC, HTTP 404)"
    );
    assert!(stdout(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_and_configuration_errors_have_their_own_exit_codes() {
    let fixture = alibaba_fixture().await;
    // Invalid status value: clap usage error.
    let out = certdesk(
        &ALIBABA_ENV,
        &[
            "--endpoint",
            &fixture.base,
            "kms",
            "set-status",
            "c1",
            "--status",
            "DISABLED",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    // Plain http to a non-loopback host is refused before sending.
    let out = certdesk(
        &ALIBABA_ENV,
        &["--endpoint", "http://example.com", "kms", "describe", "c1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("https://"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1);
    // No credentials at all.
    let out = certdesk(&[], &["--endpoint", &fixture.base, "kms", "describe", "c1"]).await;
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{}",
        stderr(&out)
    );
    // Huawei without a project id.
    let out = certdesk(
        &HUAWEI_ENV[..2],
        &["--endpoint", &fixture.base, "iot", "list"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("--project-id"), "{}", stderr(&out));
    assert!(fixture.seen().is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_set_status_and_pca_status() {
    let fixture = alibaba_fixture().await;
    let out = certdesk(
        &ALIBABA_ENV,
        &[
            "--endpoint",
            &fixture.base,
            "kms",
            "set-status",
            "c1",
            "--status",
            "INACTIVE",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("R-2"));
    let out = certdesk(
        &ALIBABA_ENV,
        &[
            "--endpoint",
            &fixture.base,
            "--json",
            "pca",
            "status",
            "id1",
            "id2",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["SerialNumber"], "serial-id2");
    fixture.assert_all_verified();
    let seen = fixture.seen();
    assert_eq!(seen[0].param("Status"), Some("INACTIVE"));
    assert_eq!(seen[1].param("Identifier"), Some("id1,id2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn vod_set_cert_reads_files_and_sends_them_intact() {
    let fixture = alibaba_fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nMIIB+/=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nMIIE+/=\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let (cert_s, key_s) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let args = [
        "--endpoint",
        &fixture.base,
        "vod",
        "set-cert",
        "video.example.com",
        "--ssl",
        "on",
        "--cert-name",
        "my cert",
        "--cert",
        cert_s,
        "--key",
        key_s,
    ];
    let out = certdesk(&ALIBABA_ENV, &args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("HTTPS on"));
    fixture.assert_all_verified();
    let seen = &fixture.seen()[0];
    assert_eq!(
        seen.param("SSLPri"),
        Some("-----BEGIN PRIVATE KEY-----\nMIIE+/=\n-----END PRIVATE KEY-----\n")
    );
    assert_eq!(seen.param("CertName"), Some("my cert"));
    assert_eq!(seen.param("SSLProtocol"), Some("on"));

    // A missing key file is a clear usage error and nothing is sent.
    let missing = dir.path().join("nope.pem");
    let args = [
        "--endpoint",
        &fixture.base,
        "vod",
        "set-cert",
        "d",
        "--ssl",
        "on",
        "--cert",
        cert_s,
        "--key",
        missing.to_str().unwrap(),
    ];
    let out = certdesk(&ALIBABA_ENV, &args).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read --key file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fixture.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn iot_list_json_and_set_status_over_huawei_signing() {
    let fixture = Fixture::start(|seen: &Seen| match seen.method.as_str() {
        "GET" => Reply::json(
            r#"{"device_certificates":[{"certificate_id":"c1","common_name":"dev-1","expiry_date":"20230810T070547Z","status":"ACTIVE","fingerprint":"AB"}],"page":{"count":1,"marker":"m1"}}"#,
        ),
        "PUT" => Reply::json(r#"{"certificate_id":"c1","status":"INACTIVE"}"#),
        _ => Reply::status(404, "{}"),
    })
    .await;
    for signing in ["basic", "derived"] {
        let out = certdesk(
            &HUAWEI_ENV,
            &[
                "--endpoint",
                &fixture.base,
                "--huawei-signing",
                signing,
                "--json",
                "iot",
                "list",
            ],
        )
        .await;
        assert!(out.status.success(), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json[0]["certificate_id"], "c1");
    }
    let out = certdesk(
        &HUAWEI_ENV,
        &[
            "--endpoint",
            &fixture.base,
            "--instance-id",
            "inst-1",
            "iot",
            "set-status",
            "c1",
            "--status",
            "inactive",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("INACTIVE"));
    fixture.assert_all_verified();
    let seen = fixture.seen();
    assert_eq!(seen[0].verified.as_deref(), Ok("SDK-HMAC-SHA256"));
    assert_eq!(seen[1].verified.as_deref(), Ok("V11-HMAC-SHA256"));
    assert_eq!(seen[2].body, br#"{"status":"INACTIVE"}"#);
    assert_eq!(seen[2].header("instance-id"), Some("inst-1"));
}

// ---------------------------------------------------------------------------------------------
// Hostile environments (issue 13): escape sequences from the cloud, spreadsheet formulas in CSV
// exports, the data directory's permissions, proxies.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn cloud_strings_are_printed_with_control_characters_escaped() {
    let fixture = Fixture::start(|seen: &Seen| match seen.param("CertificateId") {
        Some("c1") => Reply::json(
            serde_json::json!({"RequestId": "R-\u{1b}[2J", "CertificateId": "c1",
                "Status": "ACTIVE\u{1b}[31m",
                "Subject": "CN=evil\u{1b}]0;pwned\u{7}\nOK: everything fine",
                "NotAfter": "2032-09-17T11:07:25Z"})
            .to_string(),
        ),
        _ => Reply::status(
            400,
            r#"{"Code":"Bad\u001b[5m","Message":"no\u001b]0;x\u0007pe","RequestId":"X"}"#,
        ),
    })
    .await;
    let out = certdesk(
        &ALIBABA_ENV,
        &["--endpoint", &fixture.base, "kms", "describe", "c1"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(
        text.contains("CN=evil\\u{1b}]0;pwned\\u{7}\\nOK: everything fine"),
        "{text}"
    );
    assert!(text.contains("ACTIVE\\u{1b}[31m"), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("OK:")),
        "a cloud string forged a line: {text}"
    );
    // An error message from the cloud, on stderr.
    let out = certdesk(
        &ALIBABA_ENV,
        &["--endpoint", &fixture.base, "kms", "describe", "bad"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("Bad\\u{1b}[5m"), "{err}");
    // JSON output escapes control characters itself.
    let out = certdesk(
        &ALIBABA_ENV,
        &[
            "--endpoint",
            &fixture.base,
            "--json",
            "kms",
            "describe",
            "c1",
        ],
    )
    .await;
    assert!(!stdout(&out).contains('\u{1b}'));
}

/// Every cell of a CSV file as Python's csv module reads it (what a spreadsheet import sees).
fn python_csv_cells(path: &std::path::Path) -> Vec<Vec<String>> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv, json, sys\n\
             with open(sys.argv[1], newline='', encoding='utf-8') as f:\n\
             \x20   print(json.dumps(list(csv.reader(f))))",
        ])
        .arg(path)
        .output()
        .expect("this test needs python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Names that become formulas in a spreadsheet, as a cloud could return them.
const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://x\",\"y\")",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=cmd|' /C calc'!A0",
    "\r=1",
];

fn assert_no_formula_cells(rows: &[Vec<String>], what: &str) {
    for row in rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{what}: cell {cell:?} would run as a formula"
            );
        }
    }
}

#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn csv_exports_neutralise_formulas_and_the_data_files_are_private() {
    use certdesk::store::journal::{AuditEntry, Journal};
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let data_str = data.to_str().unwrap().to_string();
    // A real run first: the CLI creates the data directory and the database.
    let out = certdesk(&[("CERTDESK_DATA_DIR", &data_str)], &["audit", "--csv"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    // Then the journal stays open here (its -wal and -shm exist) while the CLI reads it again.
    let db = data.join("certdesk.sqlite3");
    let mut journal = Journal::open(&db).unwrap();
    for (i, formula) in FORMULAS.iter().enumerate() {
        journal
            .record_audit(&AuditEntry {
                at: 1_800_000_000 + i as i64,
                profile: formula.to_string(),
                provider: certdesk::model::Provider::Alibaba,
                service: certdesk::model::Service::Kms,
                operation: certdesk::model::Change::Disable,
                target: format!("{formula}-target"),
                site_id: None,
                result: certdesk::store::journal::AuditResult::Done(
                    certdesk::model::Outcome::Failed,
                ),
                code: Some(formula.to_string()),
                message: Some(format!("{formula} message")),
                request_id: Some("plain-id".into()),
                job_id: None,
                os_user: Some(formula.to_string()),
                host: None,
                access_key_id: Some(formula.to_string()),
                region: None,
                endpoint: None,
                id: 0,
                answer_id: None,
            })
            .unwrap();
    }
    let out = certdesk(&[("CERTDESK_DATA_DIR", &data_str)], &["audit", "--csv"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let csv_path = home.path().join("audit.csv");
    std::fs::write(&csv_path, &out.stdout).unwrap();
    let rows = python_csv_cells(&csv_path);
    assert_eq!(rows.len(), 1 + FORMULAS.len(), "{rows:?}");
    assert_eq!(rows[0][0], "at", "the header row: {:?}", rows[0]);
    assert_no_formula_cells(&rows, "audit CSV");
    let profile = rows[0].iter().position(|h| h == "profile").unwrap();
    let target = rows[0].iter().position(|h| h == "target").unwrap();
    let mut profiles: Vec<&str> = rows[1..].iter().map(|r| r[profile].as_str()).collect();
    profiles.sort();
    let mut expected: Vec<String> = FORMULAS.iter().map(|f| format!("'{f}")).collect();
    expected.sort();
    assert_eq!(profiles, expected, "each value kept, with one leading '");
    assert!(rows[1..].iter().all(|r| r[target].ends_with("-target")));

    // Bulk results, as the Bulk tab saves them.
    use certdesk::jobs::{BulkItem, ItemResult};
    let results: Vec<ItemResult> = FORMULAS
        .iter()
        .enumerate()
        .map(|(i, formula)| ItemResult {
            idx: i as u32,
            item: BulkItem {
                service: certdesk::model::Service::Iotda,
                id: formula.to_string(),
                site_id: None,
                name: format!("{formula} device"),
            },
            outcome: certdesk::model::Outcome::Failed,
            code: Some(formula.to_string()),
            message: Some(formula.to_string()),
            request_id: None,
            attempts: 1,
            account: "prod".to_string(),
            region: "cn-hangzhou".to_string(),
        })
        .collect();
    let mut bytes = Vec::new();
    certdesk::app::bulk::write_results_csv(&results, &mut bytes).unwrap();
    let bulk_path = home.path().join("bulk.csv");
    std::fs::write(&bulk_path, bytes).unwrap();
    let rows = python_csv_cells(&bulk_path);
    assert_eq!(rows.len(), 1 + FORMULAS.len());
    assert_no_formula_cells(&rows, "bulk results CSV");
    for (row, formula) in rows[1..].iter().zip(FORMULAS) {
        assert_eq!(row[2], format!("'{formula}"), "id");
        assert_eq!(row[4], format!("'{formula} device"), "name");
    }

    // The data directory and every file certdesk made in it are the user's only.
    assert_eq!(mode_of(&data), 0o700, "data directory");
    let mut files: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for suffix in ["", "-shm", "-wal"] {
        assert!(
            files.contains(&format!("certdesk.sqlite3{suffix}")),
            "certdesk.sqlite3{suffix} missing: {files:?}"
        );
    }
    for name in &files {
        assert_eq!(mode_of(&data.join(name)), 0o600, "{name}");
    }
    drop(journal);

    // A data directory others may write in is refused, with the fix in the message.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = certdesk(&[("CERTDESK_DATA_DIR", &data_str)], &["audit"]).await;
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("other users may write") && err.contains("chmod 700"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_endpoints_never_go_through_a_proxy() {
    let proxy = RecordingProxy::start().await;
    let fixture = alibaba_fixture().await;
    let mut env: Vec<(&str, &str)> = ALIBABA_ENV.to_vec();
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ] {
        env.push((var, &proxy.url));
    }
    let out = certdesk(
        &env,
        &["--endpoint", &fixture.base, "kms", "describe", "c1"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    fixture.assert_all_verified();
    assert_eq!(
        fixture.seen().len(),
        1,
        "the request went straight to the endpoint"
    );
    assert_eq!(proxy.connections(), 0, "the proxy was contacted");
    assert!(
        proxy.text().is_empty(),
        "the proxy received {:?}",
        proxy.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn https_endpoints_go_through_https_proxy_as_a_connect_tunnel() {
    let proxy = RecordingProxy::start().await;
    let mut env: Vec<(&str, &str)> = ALIBABA_ENV.to_vec();
    env.push(("HTTPS_PROXY", &proxy.url));
    // The regional default endpoint; the proxy refuses the tunnel, so nothing leaves this machine.
    let out = certdesk(&env, &["--region", "cn-hangzhou", "kms", "describe", "c1"]).await;
    assert!(!out.status.success(), "the proxy refused the tunnel");
    let seen = proxy.text();
    assert!(proxy.connections() >= 1);
    assert!(
        seen.starts_with("CONNECT kms.cn-hangzhou.aliyuncs.com:443 HTTP/1.1\r\n"),
        "{seen:?}"
    );
    for secret_or_signature in [
        common::ALIBABA_SECRET,
        common::ALIBABA_ID,
        "Authorization",
        "Signature",
        "x-acs-",
        "DescribeCertificate",
    ] {
        assert!(
            !seen.contains(secret_or_signature),
            "{secret_or_signature} reached the proxy: {seen:?}"
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn input_files_are_bounded_and_devices_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("ids.txt");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(64 * 1024 * 1024)
        .unwrap();
    let huge = huge.to_str().unwrap();
    let started = std::time::Instant::now();
    for (ids, expected) in [("/dev/zero", "character device"), (huge, "more than")] {
        let out = certdesk(
            &ALIBABA_ENV,
            &[
                "bulk",
                "disable",
                "--target",
                "kms",
                "--ids-from",
                ids,
                "--dry-run",
            ],
        )
        .await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
    let out = certdesk(
        &ALIBABA_ENV,
        &[
            "--endpoint",
            "http://127.0.0.1:9",
            "vod",
            "set-cert",
            "www.example.com",
            "--ssl",
            "on",
            "--cert",
            "/dev/zero",
            "--key",
            "/dev/zero",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--cert"), "{}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn pem_inspect_opens_legacy_encrypted_keys_with_certdesk_passphrase() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");
    let key = format!("{fixtures}/legacy-aes128.key");
    let leaf = format!("{fixtures}/leaf.pem");
    let out = certdesk(&[], &["pem", "inspect", &leaf, &key]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CERTDESK_PASSPHRASE"),
        "{}",
        stderr(&out)
    );
    let out = certdesk(
        &[("CERTDESK_PASSPHRASE", "correct-horse")],
        &["pem", "inspect", &leaf, &key],
    )
    .await;
    let text = stdout(&out);
    assert!(
        text.contains("legacy encrypted PEM") && text.contains("[PASS] key matches certificate"),
        "{text}{}",
        stderr(&out)
    );
}

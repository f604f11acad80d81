//! The built `certdesk` binary against the verifying loopback fixture (tests/common): output in
//! table and `--json` form, the one-line error and the exit codes of the stable CLI contract.

mod common;

use common::{Fixture, Reply, Seen};
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
        "error: KMS Certificate.NotFound: The specified certificate is not found. (RequestId: ABC, HTTP 404)"
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

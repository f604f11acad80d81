//! The simulator's IoTDA device-certificate API over real HTTP, signed with `certdesk::signing`.
#![allow(clippy::unwrap_used)]

mod sim_support;

use certdesk::sim::{self, SimOptions, SimSize, SimTuning};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sim_support::*;
use std::collections::HashSet;

const CERTS: &str = "device-certificates";

async fn list(sim: &sim::RunningSimulator, params: &[(&str, &str)]) -> Answer {
    let mut req = Hw::new("GET", CERTS);
    for (k, v) in params {
        req = req.query(k, v);
    }
    req.send(sim).await
}

#[tokio::test]
async fn list_pages_with_markers_in_descending_order() {
    let sim = start_small().await;
    let first = list(&sim, &[]).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert!(
        first.request_id_header.is_some(),
        "X-Request-Id on every response"
    );
    assert_eq!(first.body["page"]["count"], 40);
    assert_eq!(
        first.body["device_certificates"].as_array().unwrap().len(),
        10,
        "default limit"
    );

    // Walk everything with limit 7 and the returned markers.
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("limit", "7".to_string())];
        if let Some(m) = &marker {
            params.push(("marker", m.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = list(&sim, &p).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let items = page.body["device_certificates"].as_array().unwrap().clone();
        for item in &items {
            assert!(
                item.get("certificate_pem").is_none(),
                "list rows carry no PEM"
            );
            assert_eq!(item["fingerprint"].as_str().unwrap().len(), 64);
            seen.push(item["certificate_id"].as_str().unwrap().to_string());
        }
        if items.len() < 7 {
            break;
        }
        marker = Some(page.body["page"]["marker"].as_str().unwrap().to_string());
        assert_eq!(marker.as_ref().unwrap().len(), 24);
    }
    assert_eq!(seen.len(), 40);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        40,
        "no duplicates"
    );
    // Descending record order: the last certificate id encodes index 0.
    assert!(
        seen.last().unwrap().ends_with("000000000000"),
        "{}",
        seen.last().unwrap()
    );

    let skipped = list(&sim, &[("limit", "5"), ("offset", "3")]).await;
    assert_eq!(
        skipped.body["device_certificates"][0]["certificate_id"],
        first.body["device_certificates"][3]["certificate_id"]
    );
    for bad in ["0", "51", "x"] {
        let a = list(&sim, &[("limit", bad)]).await;
        assert_eq!((a.status, a.code()), (400, "IOTDA.000017"), "limit {bad}");
    }
    let a = list(&sim, &[("offset", "501")]).await;
    assert_eq!(a.status, 400);

    let by_name = list(&sim, &[("common_name", "sensor-"), ("limit", "50")]).await;
    let names = by_name.body["device_certificates"].as_array().unwrap();
    assert_eq!(
        by_name.body["page"]["count"].as_u64().unwrap() as usize,
        names.len()
    );
    assert!(
        names
            .iter()
            .all(|n| n["common_name"].as_str().unwrap().starts_with("sensor-"))
    );

    let fp = first.body["device_certificates"][2]["fingerprint"]
        .as_str()
        .unwrap();
    let by_fp = list(&sim, &[("fingerprint", fp)]).await;
    assert_eq!(by_fp.body["page"]["count"], 1);
    assert_eq!(
        by_fp.body["device_certificates"][0]["certificate_id"],
        first.body["device_certificates"][2]["certificate_id"]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn show_update_delete() {
    let sim = start_small().await;
    let first = list(&sim, &[("limit", "50")]).await;
    let rows = first.body["device_certificates"].as_array().unwrap();
    let id = rows[0]["certificate_id"].as_str().unwrap().to_string();

    let shown = Hw::new("GET", &format!("{CERTS}/{id}")).send(&sim).await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    let pem_text = shown.body["certificate_pem"].as_str().unwrap();
    let der = pem::parse(pem_text).unwrap().into_contents();
    assert_eq!(
        shown.body["fingerprint"].as_str().unwrap(),
        hex::encode_upper(Sha256::digest(&der)),
        "the fingerprint is the certificate's"
    );
    assert_eq!(shown.body["fingerprint"], rows[0]["fingerprint"]);
    // A 40-hex (SHA-1) fingerprint finds it too, in any case.
    let sha1 = hex::encode(sha1::Sha1::digest(&der));
    let by_sha1 = list(&sim, &[("fingerprint", &sha1)]).await;
    assert_eq!(by_sha1.body["page"]["count"], 1, "{:?}", by_sha1.body);
    let expiry = shown.body["expiry_date"].as_str().unwrap();
    assert_eq!(expiry.len(), 16, "{expiry}");

    let mut put = Hw::new("PUT", &format!("{CERTS}/{id}"));
    put.body = serde_json::to_vec(&json!({"status": "INACTIVE"})).unwrap();
    let updated = put.send(&sim).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["status"], "INACTIVE");
    assert_eq!(sim.iotda_status(&id).as_deref(), Some("INACTIVE"));

    put.body = br#"{"status": "REVOKED"}"#.to_vec();
    let bad = put.send(&sim).await;
    assert_eq!((bad.status, bad.code()), (400, "IOTDA.000006"));
    assert_eq!(sim.iotda_status(&id).as_deref(), Some("INACTIVE"));

    let deleted = Hw::new("DELETE", &format!("{CERTS}/{id}")).send(&sim).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    assert!(deleted.request_id_header.is_some());
    assert_eq!(sim.iotda_count(), 39);
    let gone = Hw::new("GET", &format!("{CERTS}/{id}")).send(&sim).await;
    assert_eq!(gone.status, 404);
    assert!(gone.body["error_code"].is_string() && gone.body["error_msg"].is_string());
    assert_eq!(list(&sim, &[]).await.body["page"]["count"], 39);
    let unknown = Hw::new(
        "GET",
        &format!("{CERTS}/00000000-0000-4000-8000-000000000000"),
    )
    .send(&sim)
    .await;
    assert_eq!(unknown.status, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn huawei_authentication() {
    let sim = start_small().await;
    let mut derived = Hw::new("GET", CERTS);
    derived.derived = true;
    assert_eq!(derived.send(&sim).await.status, 200, "V11-HMAC-SHA256");

    let mut wrong = Hw::new("GET", CERTS);
    wrong.sk = "wrong".into();
    let a = wrong.send(&sim).await;
    assert_eq!((a.status, a.code()), (401, "APIG.0301"));
    assert!(
        a.body["error_msg"]
            .as_str()
            .unwrap()
            .contains("verify aksk signature fail")
    );
    assert!(a.body["request_id"].is_string());

    let mut unknown = Hw::new("GET", CERTS);
    unknown.ak = "NOBODY".into();
    let a = unknown.send(&sim).await;
    assert_eq!((a.status, a.code()), (401, "APIG.0301"));
    assert_eq!(
        a.body["error_msg"],
        "Incorrect IAM authentication information: Get secretKey failed,ak:NOBODY,err:ak not exist"
    );

    let mut skewed = Hw::new("GET", CERTS);
    skewed.date += time::Duration::minutes(20);
    assert_eq!(skewed.send(&sim).await.code(), "APIG.0301");

    let raw = http()
        .get(format!(
            "{}/v5/iot/{}/{CERTS}",
            sim.endpoint(),
            sim::DEMO_HUAWEI_PROJECT_ID
        ))
        .send()
        .await
        .unwrap();
    let a = answer(raw).await;
    assert_eq!((a.status, a.code()), (401, "APIG.0301"));

    let mut other_project = Hw::new("GET", CERTS);
    other_project.project_id = "ffffffffffffffffffffffffffffffff".into();
    assert_eq!(other_project.send(&sim).await.status, 403);
    sim.shutdown().await;
}

#[tokio::test]
async fn iotda_rate_limit_is_429() {
    let sim = start_with(
        SimOptions::default(),
        SimTuning {
            iotda_qps: 3,
            ..SimTuning::default()
        },
    )
    .await;
    let mut codes = Vec::new();
    for _ in 0..6 {
        let a = list(&sim, &[("limit", "1")]).await;
        codes.push((a.status, a.code().to_string()));
    }
    assert!(codes.contains(&(429, "APIG.0308".to_string())), "{codes:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_million_device_certificates() {
    let started = std::time::Instant::now();
    let sim = sim::start(SimOptions {
        size: SimSize::Count(1_000_000),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let startup = started.elapsed();
    assert!(startup.as_secs() < 20, "start took {startup:?}");
    let first = list(&sim, &[("limit", "50")]).await;
    assert_eq!(first.body["page"]["count"], 1_000_000);
    let newest = first.body["device_certificates"][0]["certificate_id"]
        .as_str()
        .unwrap();
    assert!(newest.ends_with(&format!("{:012x}", 999_999)), "{newest}");
    let deep = list(
        &sim,
        &[
            ("limit", "10"),
            ("offset", "500"),
            ("marker", first.body["page"]["marker"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(deep.status, 200);
    assert_eq!(
        deep.body["device_certificates"].as_array().unwrap().len(),
        10
    );
    sim.shutdown().await;
}

/// Accounts and regions through the typed IoTDA client: each account has one project per region,
/// the project id selects the region's inventory, derived (V11) signatures must be scoped to the
/// project's region, and another account's project is refused.
#[tokio::test]
async fn projects_select_accounts_and_regions() {
    use certdesk::cloud::{
        ErrorKind, HuaweiClientConfig, HuaweiSigning, IotdaClient, Transport, TransportOptions,
    };
    use certdesk::credentials::HuaweiCredentials;

    let sim = sim::start(SimOptions {
        accounts: 2,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let transport = Transport::with_options(TransportOptions {
        retry: certdesk::cloud::RetryPolicy::none(),
        ..TransportOptions::default()
    })
    .unwrap();
    let accounts = sim.accounts();
    assert_eq!(
        accounts[0].huawei_projects[0].project_id,
        sim::DEMO_HUAWEI_PROJECT_ID
    );
    let client = |a: usize, project: &sim::SimProject, region: &str, signing: HuaweiSigning| {
        let acc = &accounts[a];
        IotdaClient::new(
            &transport,
            &HuaweiClientConfig {
                credentials: HuaweiCredentials {
                    access_key: acc.huawei_ak.clone(),
                    secret_key: acc.huawei_sk.clone(),
                    security_token: None,
                },
                region: region.into(),
                endpoint: Some(sim.endpoint()),
                signing,
                project_id: project.project_id.clone(),
                instance_id: Some(project.instance_id.clone()),
                proxy: Default::default(),
            },
        )
        .unwrap()
    };
    let mut seen: Vec<HashSet<String>> = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        for project in &account.huawei_projects {
            for signing in [HuaweiSigning::Basic, HuaweiSigning::Derived] {
                let page = client(a, project, &project.region, signing)
                    .list_device_certificates_page(None, 50)
                    .await
                    .unwrap_or_else(|e| panic!("{a} {} {signing:?}: {e}", project.region));
                assert_eq!(page.page.count, Some(40));
                let ids: HashSet<String> = page
                    .device_certificates
                    .iter()
                    .map(|c| c.certificate_id.clone())
                    .collect();
                if signing == HuaweiSigning::Basic {
                    seen.push(ids);
                } else {
                    assert_eq!(seen.last(), Some(&ids));
                }
            }
        }
    }
    // Six inventories (2 accounts × 3 regions), no certificate in two of them.
    assert_eq!(seen.len(), 6);
    let total: usize = seen.iter().map(HashSet::len).sum();
    let union: HashSet<&String> = seen.iter().flatten().collect();
    assert_eq!(union.len(), total);

    // A derived signature scoped to another region than the project's is refused.
    let east = &accounts[0].huawei_projects[1];
    let err = client(0, east, "cn-north-4", HuaweiSigning::Derived)
        .list_device_certificates_page(None, 1)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.kind),
        ("APIG.0301", ErrorKind::Auth)
    );
    // Account 2's key on account 1's project, or account 1's instance id on its other project.
    let err = client(
        1,
        &accounts[0].huawei_projects[0],
        "cn-north-4",
        HuaweiSigning::Basic,
    )
    .list_device_certificates_page(None, 1)
    .await
    .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.http_status),
        ("IOTDA.000022", Some(403))
    );
    let mut mixed = east.clone();
    mixed.instance_id = accounts[0].huawei_projects[0].instance_id.clone();
    let err = client(0, &mixed, &east.region, HuaweiSigning::Basic)
        .list_device_certificates_page(None, 1)
        .await
        .unwrap_err();
    assert_eq!(err.code, "IOTDA.000022");
    sim.shutdown().await;
}

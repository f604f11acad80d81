//! The simulator's Alibaba services over real HTTP, signed with `certdesk::signing` only.
#![allow(clippy::unwrap_used)]

mod sim_support;

use certdesk::sim::{self, SimOptions, SimService, SimTuning};
use rcgen::{CertificateParams, KeyPair};
use serde_json::Value;
use sim_support::*;
use std::time::Duration;

fn is_upper_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s == s.to_ascii_uppercase()
}

#[tokio::test]
async fn kms_describe_get_and_status_rules() {
    let sim = start_small().await;
    let ids = sim.kms_certificate_ids();
    assert_eq!(ids.len(), 12);
    let (active, revoked) = (&ids[0], &ids[2]);

    let a = v3(
        &sim,
        KMS,
        "DescribeCertificate",
        &[("CertificateId", active)],
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(is_upper_uuid(a.body["RequestId"].as_str().unwrap()));
    assert_eq!(a.request_id_header.as_deref(), a.body["RequestId"].as_str());
    assert_eq!(a.body["Status"], "ACTIVE");
    assert_eq!(a.body["KeySpec"], "EC_P256");
    assert!(a.body["Subject"].as_str().unwrap().contains("kms-app-000"));

    let g = v3(&sim, KMS, "GetCertificate", &[("CertificateId", active)]).await;
    assert_eq!(g.status, 200);
    let pem_text = g.body["Certificate"].as_str().unwrap();
    let block = pem::parse(pem_text).unwrap();
    assert_eq!(block.tag(), "CERTIFICATE");
    assert!(
        g.body["Csr"]
            .as_str()
            .unwrap()
            .contains("CERTIFICATE REQUEST")
    );
    // Deterministic: the same certificate every time.
    let g2 = v3(&sim, KMS, "GetCertificate", &[("CertificateId", active)]).await;
    assert_eq!(g2.body["Certificate"], g.body["Certificate"]);

    for (status, expect) in [
        ("INACTIVE", "INACTIVE"),
        ("ACTIVE", "ACTIVE"),
        ("REVOKED", "REVOKED"),
    ] {
        let u = v3(
            &sim,
            KMS,
            "UpdateCertificateStatus",
            &[("CertificateId", active), ("Status", status)],
        )
        .await;
        assert_eq!(u.status, 200, "{:?}", u.body);
        assert_eq!(sim.kms_status(active).as_deref(), Some(expect));
    }
    // REVOKED is final.
    let again = v3(
        &sim,
        KMS,
        "UpdateCertificateStatus",
        &[("CertificateId", revoked), ("Status", "ACTIVE")],
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (400, "Certificate.StatusError")
    );
    assert_eq!(sim.kms_status(revoked).as_deref(), Some("REVOKED"));

    let bad = v3(
        &sim,
        KMS,
        "UpdateCertificateStatus",
        &[("CertificateId", &ids[1]), ("Status", "DISABLED")],
    )
    .await;
    assert_eq!((bad.status, bad.code()), (400, "InvalidParameter"));
    let unknown = v3(
        &sim,
        KMS,
        "UpdateCertificateStatus",
        &[("CertificateId", "no-such-id"), ("Status", "ACTIVE")],
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "Certificate.NotFound")
    );
    // Error envelope.
    for key in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(
            unknown.body[key].is_string(),
            "{key} missing: {:?}",
            unknown.body
        );
    }
    let missing = v3(
        &sim,
        KMS,
        "UpdateCertificateStatus",
        &[("CertificateId", &ids[1])],
    )
    .await;
    assert_eq!((missing.status, missing.code()), (400, "MissingParameter"));

    let del = v3(
        &sim,
        KMS,
        "DeleteCertificate",
        &[("CertificateId", &ids[1])],
    )
    .await;
    assert_eq!(del.status, 200);
    let gone = v3(
        &sim,
        KMS,
        "DescribeCertificate",
        &[("CertificateId", &ids[1])],
    )
    .await;
    assert_eq!((gone.status, gone.code()), (404, "Certificate.NotFound"));
    sim.shutdown().await;
}

/// Issues a certificate for the public key inside `csr_pem`.
fn sign_csr(csr_pem: &str) -> String {
    use x509_parser::prelude::FromDer;
    let block = pem::parse(csr_pem).unwrap();
    let (_, csr) =
        x509_parser::certification_request::X509CertificationRequest::from_der(block.contents())
            .unwrap();
    struct CsrKey(Vec<u8>);
    impl rcgen::PublicKeyData for CsrKey {
        fn der_bytes(&self) -> &[u8] {
            &self.0
        }
        fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
            &rcgen::PKCS_ECDSA_P256_SHA256
        }
    }
    let spki = CsrKey(
        csr.certification_request_info
            .subject_pki
            .subject_public_key
            .data
            .to_vec(),
    );
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf = CertificateParams::new(vec!["created.example.com".to_string()]).unwrap();
    leaf.signed_by(&spki, &ca, &ca_key).unwrap().pem()
}

#[tokio::test]
async fn kms_create_then_upload() {
    let sim = start_small().await;
    let created = v3(
        &sim,
        KMS,
        "CreateCertificate",
        &[
            ("Subject", "C=CN,O=Acme Ltd,OU=IT,CN=created.example.com"),
            ("KeySpec", "EC_P256"),
            ("SubjectAlternativeNames", r#"["created.example.com"]"#),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["CertificateId"].as_str().unwrap().to_string();
    assert!(created.body["Arn"].as_str().unwrap().ends_with(&id));
    let csr = created.body["Csr"].as_str().unwrap().to_string();
    assert_eq!(sim.kms_status(&id).as_deref(), Some("PENDING"));

    // A certificate for another key does not fit.
    let other_key = KeyPair::generate().unwrap();
    let other = CertificateParams::new(vec!["x.example.com".to_string()])
        .unwrap()
        .self_signed(&other_key)
        .unwrap()
        .pem();
    let mismatch = v3(
        &sim,
        KMS,
        "UploadCertificate",
        &[("CertificateId", &id), ("Certificate", &other)],
    )
    .await;
    assert_eq!(
        (mismatch.status, mismatch.code()),
        (400, "Certificate.MissMatch")
    );
    assert_eq!(sim.kms_status(&id).as_deref(), Some("PENDING"));

    let good = sign_csr(&csr);
    let uploaded = v3(
        &sim,
        KMS,
        "UploadCertificate",
        &[("CertificateId", &id), ("Certificate", &good)],
    )
    .await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.body);
    assert_eq!(sim.kms_status(&id).as_deref(), Some("ACTIVE"));
    let got = v3(&sim, KMS, "GetCertificate", &[("CertificateId", &id)]).await;
    assert_eq!(
        got.body["Certificate"].as_str().unwrap().trim(),
        good.trim()
    );

    let bad_spec = v3(
        &sim,
        KMS,
        "CreateCertificate",
        &[("Subject", "C=CN,O=A,OU=B,CN=c"), ("KeySpec", "EC_P999")],
    )
    .await;
    assert_eq!(
        (bad_spec.status, bad_spec.code()),
        (400, "InvalidParameter")
    );
    sim.shutdown().await;
}

async fn pca_rows(sim: &certdesk::sim::RunningSimulator, page: usize, size: usize) -> Value {
    let a = v3(
        sim,
        CAS,
        "ListClientCertificate",
        &[
            ("CurrentPage", &page.to_string()),
            ("ShowSize", &size.to_string()),
        ],
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    a.body
}

#[tokio::test]
async fn pca_list_status_revoke_delete() {
    let sim = start_with(
        SimOptions::default(),
        SimTuning {
            cas_client_certificate_qps: 1000,
            ..SimTuning::default()
        },
    )
    .await;
    let first = pca_rows(&sim, 1, 7).await;
    assert_eq!(first["TotalCount"], 30);
    assert_eq!(first["PageCount"], 5);
    assert_eq!(first["ShowSize"], 7);
    let mut seen = std::collections::HashSet::new();
    for page in 1..=5 {
        let body = pca_rows(&sim, page, 7).await;
        for item in body["CertificateList"].as_array().unwrap() {
            assert!(item["BeforeDate"].is_i64() && item["AfterDate"].is_i64());
            assert!(
                item["X509Certificate"]
                    .as_str()
                    .unwrap()
                    .contains("BEGIN CERTIFICATE")
            );
            seen.insert(item["Identifier"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen.len(), 30);
    let default_page = pca_rows(&sim, 1, 20).await;
    assert_eq!(
        default_page["CertificateList"].as_array().unwrap().len(),
        20
    );

    let all = pca_rows(&sim, 1, 100).await;
    let items = all["CertificateList"].as_array().unwrap();
    let issued = items.iter().find(|i| i["Status"] == "ISSUE").unwrap();
    let revoked = items.iter().find(|i| i["Status"] == "REVOKE").unwrap();
    let issued_id = issued["Identifier"].as_str().unwrap();
    let revoked_id = revoked["Identifier"].as_str().unwrap();

    let ids = format!("{issued_id},{revoked_id},nope");
    let st = v3(
        &sim,
        CAS,
        "DescribeClientCertificateStatus",
        &[("Identifier", &ids)],
    )
    .await;
    assert_eq!(st.status, 200, "{:?}", st.body);
    let list = st.body["CertificateStatus"].as_array().unwrap();
    assert_eq!(list[0]["Status"], "good");
    assert_eq!(list[0]["SerialNumber"], issued["SerialNumber"]);
    assert_eq!(list[1]["Status"], "revoked");
    assert!(
        list[1]["RevokeTime"].as_i64().unwrap() > 1_000_000_000_000,
        "ms"
    );
    assert_eq!(list[2]["Status"], "unknown");

    let d = v3(
        &sim,
        CAS,
        "DescribeClientCertificate",
        &[("Identifier", issued_id)],
    )
    .await;
    assert_eq!(d.status, 200);
    assert!(
        d.body["Certificate"]["CertChain"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );

    let del_issued = v3(
        &sim,
        CAS,
        "DeleteClientCertificate",
        &[("Identifier", issued_id)],
    )
    .await;
    assert_eq!(
        (del_issued.status, del_issued.code()),
        (400, "Certificate.StatusError")
    );

    let revoked_before = v3(&sim, CAS, "ListRevokeCertificate", &[]).await;
    let count_before = revoked_before.body["TotalCount"].as_u64().unwrap();
    let r = v3(
        &sim,
        CAS,
        "CreateRevokeClientCertificate",
        &[("Identifier", issued_id)],
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(sim.pca_status(issued_id).as_deref(), Some("REVOKE"));
    let r2 = v3(
        &sim,
        CAS,
        "CreateRevokeClientCertificate",
        &[("Identifier", issued_id)],
    )
    .await;
    assert_eq!((r2.status, r2.code()), (400, "Certificate.StatusError"));
    let revoked_after = v3(&sim, CAS, "ListRevokeCertificate", &[]).await;
    assert_eq!(
        revoked_after.body["TotalCount"].as_u64().unwrap(),
        count_before + 1
    );
    let rd = revoked_after.body["CertificateList"][0]["RevokeDate"]
        .as_str()
        .unwrap();
    assert!(rd.ends_with("T00:00Z"), "{rd}");

    let del = v3(
        &sim,
        CAS,
        "DeleteClientCertificate",
        &[("Identifier", issued_id)],
    )
    .await;
    assert_eq!(del.status, 200);
    assert_eq!(sim.pca_status(issued_id), None);
    assert_eq!(pca_rows(&sim, 1, 20).await["TotalCount"], 29);
    sim.shutdown().await;
}

#[tokio::test]
async fn cas_rate_limit_answers_throttling_user() {
    let sim = start_small().await;
    let mut throttled = 0;
    for _ in 0..15 {
        let a = v3(&sim, CAS, "ListRevokeCertificate", &[]).await;
        if a.status != 200 {
            assert_eq!((a.status, a.code()), (400, "Throttling.User"));
            assert_eq!(
                a.body["Message"],
                "Request was denied due to user flow control."
            );
            assert!(a.retry_after.as_deref().unwrap().parse::<u64>().unwrap() > 0);
            throttled += 1;
        }
    }
    assert!(
        throttled >= 1,
        "15 quick calls against 10 QPS must be throttled"
    );
    assert_eq!(sim.throttled_requests(), throttled);
    sim.shutdown().await;

    let unlimited = sim::start(SimOptions {
        rate_limit: false,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    for _ in 0..15 {
        assert_eq!(
            v3(&unlimited, CAS, "ListRevokeCertificate", &[])
                .await
                .status,
            200
        );
    }
    unlimited.shutdown().await;
}

#[tokio::test]
async fn esa_sites_and_client_certificates() {
    let sim = start_small().await;
    let sites = v3_get(&sim, ESA, "ListSites", &[("PageSize", "2")]).await;
    assert_eq!(sites.status, 200, "{:?}", sites.body);
    assert_eq!(sites.body["TotalCount"], 3);
    assert_eq!(sites.body["Sites"].as_array().unwrap().len(), 2);
    let site_id = sites.body["Sites"][0]["SiteId"]
        .as_i64()
        .expect("SiteId is a JSON number");
    let sid = site_id.to_string();

    let site = v3_get(&sim, ESA, "GetSite", &[("SiteId", &sid)]).await;
    assert_eq!(site.body["SiteModel"]["SiteId"], site_id);

    let list = v3_get(
        &sim,
        ESA,
        "ListClientCertificates",
        &[("SiteId", &sid), ("PageSize", "5")],
    )
    .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(list.body["TotalCount"], 8);
    assert_eq!(list.body["SiteId"], site_id);
    let certs = list.body["Result"].as_array().unwrap();
    assert_eq!(certs.len(), 5);
    let active = certs.iter().find(|c| c["Status"] == "active").unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();

    let got = v3_get(
        &sim,
        ESA,
        "GetClientCertificate",
        &[("SiteId", &sid), ("Id", &active)],
    )
    .await;
    assert_eq!(got.status, 200);
    assert!(
        got.body["Certificate"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert_eq!(got.body["Result"]["Id"], active.as_str());

    let revoke = v3_get(
        &sim,
        ESA,
        "RevokeClientCertificate",
        &[("SiteId", &sid), ("Id", &active)],
    )
    .await;
    assert_eq!(revoke.status, 200, "{:?}", revoke.body);
    assert_eq!(revoke.body["SiteId"], site_id);
    assert_eq!(sim.esa_status(site_id, &active).as_deref(), Some("revoked"));
    let again = v3_get(
        &sim,
        ESA,
        "RevokeClientCertificate",
        &[("SiteId", &sid), ("Id", &active)],
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (400, "Certificate.StatusError")
    );

    let no_site = v3_get(&sim, ESA, "RevokeClientCertificate", &[("Id", &active)]).await;
    assert_eq!((no_site.status, no_site.code()), (400, "MissingSiteId"));
    let no_id = v3_get(&sim, ESA, "RevokeClientCertificate", &[("SiteId", &sid)]).await;
    assert_eq!((no_id.status, no_id.code()), (400, "Id.MissingParameter"));
    let unknown = v3_get(
        &sim,
        ESA,
        "RevokeClientCertificate",
        &[("SiteId", &sid), ("Id", "ffff")],
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "Certificate.NotFound")
    );

    let act = v3_get(
        &sim,
        ESA,
        "ActivateClientCertificate",
        &[("SiteId", &sid), ("Id", &active)],
    )
    .await;
    assert_eq!(act.status, 200);
    assert_eq!(sim.esa_status(site_id, &active).as_deref(), Some("active"));
    let del_active = v3_get(
        &sim,
        ESA,
        "DeleteClientCertificate",
        &[("SiteId", &sid), ("Id", &active)],
    )
    .await;
    assert_eq!(
        (del_active.status, del_active.code()),
        (400, "Certificate.StatusError")
    );
    v3_get(
        &sim,
        ESA,
        "RevokeClientCertificate",
        &[("SiteId", &sid), ("Id", &active)],
    )
    .await;
    let del = v3_get(
        &sim,
        ESA,
        "DeleteClientCertificate",
        &[("SiteId", &sid), ("Id", &active)],
    )
    .await;
    assert_eq!(del.status, 200);
    assert_eq!(sim.esa_status(site_id, &active), None);
    let after = v3_get(&sim, ESA, "ListClientCertificates", &[("SiteId", &sid)]).await;
    assert_eq!(after.body["TotalCount"], 7);
    sim.shutdown().await;
}

fn self_signed(cn: &str) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![cn.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn vod_domains_and_set_certificate() {
    let sim = start_small().await;
    let list = v3(&sim, VOD, "DescribeVodUserDomains", &[("PageSize", "4")]).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(list.body["TotalCount"], 6);
    let page = list.body["Domains"]["PageData"].as_array().unwrap();
    assert_eq!(page.len(), 4);
    assert!(page[0]["Sources"]["Source"].is_array());
    let too_big = v3(&sim, VOD, "DescribeVodUserDomains", &[("PageSize", "51")]).await;
    assert_eq!(too_big.status, 400);

    let domain = page[0]["DomainName"].as_str().unwrap().to_string();
    let info = v3(
        &sim,
        VOD,
        "DescribeVodDomainCertificateInfo",
        &[("DomainName", &domain)],
    )
    .await;
    let ci = &info.body["CertInfos"]["CertInfo"][0];
    assert_eq!(ci["CertDomainName"], domain.as_str());
    assert!(
        ci["ServerCertificate"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    let detail = v3(
        &sim,
        VOD,
        "DescribeVodDomainDetail",
        &[("DomainName", &domain)],
    )
    .await;
    assert_eq!(detail.body["DomainDetail"]["DomainName"], domain.as_str());

    let (cert, key) = self_signed("new.example.com");
    let (_, other_key) = self_signed("other.example.com");
    let set = |params: Vec<(&'static str, String)>| {
        let sim = &sim;
        async move {
            let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            v3(sim, VOD, "SetVodDomainCertificate", &p).await
        }
    };
    let d = domain.clone();
    type Case = (Vec<(&'static str, String)>, u16, &'static str);
    let cases: Vec<Case> = vec![
        (
            vec![
                ("DomainName", d.clone()),
                ("SSLProtocol", "on".into()),
                ("SSLPri", key.clone()),
            ],
            400,
            "SSLPub.MissingParameter",
        ),
        (
            vec![
                ("DomainName", d.clone()),
                ("SSLProtocol", "on".into()),
                ("SSLPub", cert.clone()),
            ],
            400,
            "SSLPri.MissingParameter",
        ),
        (
            vec![
                ("DomainName", d.clone()),
                ("SSLProtocol", "on".into()),
                ("SSLPub", "not a cert".into()),
                ("SSLPri", key.clone()),
            ],
            400,
            "InvalidCertificate",
        ),
        (
            vec![
                ("DomainName", d.clone()),
                ("SSLProtocol", "on".into()),
                ("SSLPub", cert.clone()),
                (
                    "SSLPri",
                    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into(),
                ),
            ],
            400,
            "SSLPri.Malformed",
        ),
        (
            vec![
                ("DomainName", d.clone()),
                ("SSLProtocol", "on".into()),
                ("SSLPub", cert.clone()),
                ("SSLPri", other_key.clone()),
            ],
            400,
            "Certificate.MissMatch",
        ),
        (
            vec![
                ("DomainName", d.clone()),
                ("SSLProtocol", "on".into()),
                ("CertName", "x".repeat(129)),
                ("SSLPub", cert.clone()),
                ("SSLPri", key.clone()),
            ],
            400,
            "InvalidCertName.TooLong",
        ),
        (
            vec![
                ("DomainName", "nope.example.com".into()),
                ("SSLProtocol", "on".into()),
                ("SSLPub", cert.clone()),
                ("SSLPri", key.clone()),
            ],
            404,
            "InvalidDomain.NotFound",
        ),
    ];
    let before = sim.vod_ssl(&domain).unwrap();
    for (params, status, code) in cases {
        let a = set(params).await;
        assert_eq!((a.status, a.code()), (status, code), "{:?}", a.body);
        assert_eq!(
            sim.vod_ssl(&domain).unwrap(),
            before,
            "a failed call changed nothing"
        );
    }
    let ok = set(vec![
        ("DomainName", d.clone()),
        ("SSLProtocol", "on".into()),
        ("CertName", "my cert name".into()),
        ("SSLPub", cert.clone()),
        ("SSLPri", key.clone()),
    ])
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let after = sim.vod_ssl(&domain).unwrap();
    assert_eq!(after.ssl_protocol, "on");
    assert_eq!(after.cert_name, "my cert name");
    assert_eq!(after.cert_type, "upload");
    let info = v3(
        &sim,
        VOD,
        "DescribeVodDomainCertificateInfo",
        &[("DomainName", &domain)],
    )
    .await;
    assert_eq!(
        info.body["CertInfos"]["CertInfo"][0]["ServerCertificate"]
            .as_str()
            .unwrap()
            .trim(),
        cert.trim()
    );
    let off = set(vec![
        ("DomainName", d.clone()),
        ("SSLProtocol", "off".into()),
    ])
    .await;
    assert_eq!(off.status, 200);
    assert_eq!(sim.vod_ssl(&domain).unwrap().ssl_protocol, "off");
    sim.shutdown().await;
}

#[tokio::test]
async fn signature_errors_and_tolerance() {
    let sim = start_small().await;
    let id = sim.kms_certificate_ids()[0].clone();
    let params = [("CertificateId", id.as_str())];

    let mut wrong = V3::new(KMS, "DescribeCertificate", &params);
    wrong.secret = "not-the-secret".into();
    let a = wrong.send(&sim).await;
    assert_eq!((a.status, a.code()), (403, "SignatureDoesNotMatch"));
    assert!(
        a.body["Message"]
            .as_str()
            .unwrap()
            .contains("string to sign")
    );

    let mut unknown = V3::new(KMS, "DescribeCertificate", &params);
    unknown.key_id = "LTAInobody".into();
    let a = unknown.send(&sim).await;
    assert_eq!((a.status, a.code()), (404, "InvalidAccessKeyId.NotFound"));

    let mut skewed = V3::new(KMS, "DescribeCertificate", &params);
    skewed.date -= time::Duration::minutes(16);
    let a = skewed.send(&sim).await;
    assert_eq!((a.status, a.code()), (400, "IllegalTimestamp"));
    let mut near = V3::new(KMS, "DescribeCertificate", &params);
    near.date -= time::Duration::minutes(14);
    assert_eq!(near.send(&sim).await.status, 200);

    let once = V3::new(KMS, "DescribeCertificate", &params);
    assert_eq!(once.send(&sim).await.status, 200);
    let replay = once.send(&sim).await;
    assert_eq!((replay.status, replay.code()), (400, "SignatureNonceUsed"));

    let mut lying = V3::new(KMS, "DescribeCertificate", &params);
    lying.form = vec![("Extra".into(), "1".into())];
    lying.wrong_body_hash = true;
    assert_eq!(lying.send(&sim).await.status, 403);

    // What the Python SDK sends: `+` for spaces on the wire, accept/user-agent signed too.
    let mut sdk = V3::new(
        KMS,
        "CreateCertificate",
        &[
            (
                "Subject",
                "C=CN,O=Acme Space Ltd,OU=IT Dept,CN=a.example.com",
            ),
            ("KeySpec", "EC_P256"),
        ],
    );
    sdk.plus_for_space = true;
    sdk.extra_headers = vec![
        ("accept".into(), "application/json".into()),
        (
            "user-agent".into(),
            "AlibabaCloud (TestOS; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2".into(),
        ),
    ];
    let a = sdk.send(&sim).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let created = a.body["CertificateId"].as_str().unwrap();
    let d = v3(
        &sim,
        KMS,
        "DescribeCertificate",
        &[("CertificateId", created)],
    )
    .await;
    assert!(
        d.body["Subject"]
            .as_str()
            .unwrap()
            .contains("O=Acme Space Ltd"),
        "{:?}",
        d.body
    );

    // Form-body parameters (V3 POST form) work too.
    let mut form = V3::new(KMS, "DescribeCertificate", &[]);
    form.form = vec![("CertificateId".into(), id.clone())];
    assert_eq!(form.send(&sim).await.status, 200);

    // STS key: works with its token, refused without.
    let mut sts = V3::new(KMS, "DescribeCertificate", &params);
    sts.key_id = sim::DEMO_ALIBABA_STS_ACCESS_KEY_ID.into();
    sts.secret = sim::DEMO_ALIBABA_STS_ACCESS_KEY_SECRET.into();
    sts.token = Some(sim::DEMO_ALIBABA_STS_TOKEN.into());
    assert_eq!(sts.send(&sim).await.status, 200);
    sts.token = None;
    sts.nonce = "fresh".into();
    assert_eq!(sts.send(&sim).await.status, 400);

    // Routing errors.
    let a = v3(&sim, KMS, "ListCertificates", &[]).await;
    assert_eq!((a.status, a.code()), (404, "InvalidAction.NotFound"));
    let a = v3(&sim, "2099-01-01", "DescribeCertificate", &params).await;
    assert_eq!((a.status, a.code()), (400, "NoSuchVersion"));

    // Missing auth pieces.
    let url = format!("{}/?CertificateId={id}", sim.endpoint());
    let r = http()
        .post(&url)
        .header("x-acs-action", "DescribeCertificate")
        .header("x-acs-version", KMS)
        .send()
        .await
        .unwrap();
    let a = answer(r).await;
    assert_eq!((a.status, a.code()), (400, "IncompleteSignature"));
    let r = http()
        .post(&url)
        .header("authorization", "ACS3-HMAC-SHA256 garbage")
        .header("x-acs-action", "DescribeCertificate")
        .header("x-acs-version", KMS)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(r).await.code(), "IncompleteSignature");
    assert!(sim.auth_failures() >= 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn v1_signatures_as_the_sdks_send_them() {
    let sim = start_small().await;
    let id = sim.kms_certificate_ids()[0].clone();
    let ok = V1::new(KMS, "DescribeCertificate", &[("CertificateId", &id)])
        .send(&sim)
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["CertificateId"], id.as_str());
    // Legacy aliyunsdkcore: RegionId, Format=JSON and an empty SignatureType.
    let legacy = V1::new(KMS, "DescribeCertificate", &[("CertificateId", &id)])
        .set("Format", "JSON")
        .set("RegionId", "cn-hangzhou")
        .set("SignatureType", "");
    assert_eq!(legacy.send(&sim).await.status, 200);

    let mut wrong = V1::new(KMS, "DescribeCertificate", &[("CertificateId", &id)]);
    wrong.secret = "bad".into();
    let a = wrong.send(&sim).await;
    assert_eq!((a.status, a.code()), (403, "SignatureDoesNotMatch"));

    let old = V1::new(KMS, "DescribeCertificate", &[("CertificateId", &id)])
        .set("Timestamp", "2020-01-01T00:00:00Z");
    let a = old.send(&sim).await;
    assert_eq!((a.status, a.code()), (400, "IllegalTimestamp"));

    let replay = V1::new(KMS, "DescribeCertificate", &[("CertificateId", &id)]);
    assert_eq!(replay.send(&sim).await.status, 200);
    assert_eq!(replay.send(&sim).await.code(), "SignatureNonceUsed");

    let mut no_nonce = V1::new(KMS, "DescribeCertificate", &[("CertificateId", &id)]);
    no_nonce.params.retain(|(k, _)| k != "SignatureNonce");
    let a = no_nonce.send(&sim).await;
    assert_eq!((a.status, a.code()), (400, "MissingParameter"));

    let unknown = V1::new(KMS, "DescribeCertificate", &[("CertificateId", &id)])
        .set("AccessKeyId", "LTAInobody");
    assert_eq!(
        unknown.send(&sim).await.code(),
        "InvalidAccessKeyId.NotFound"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_at_rate_one_change_nothing() {
    let sim = start_with(
        SimOptions {
            fault_rate: 1.0,
            ..SimOptions::default()
        },
        SimTuning {
            fault_delay: Duration::from_secs(30),
            ..SimTuning::default()
        },
    )
    .await;
    let id = sim.kms_certificate_ids()[0].clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let (mut server_errors, mut resets, mut timeouts) = (0, 0, 0);
    for _ in 0..24 {
        // Same request shape as V3::send, through a short-timeout client.
        let req = V3::new(
            KMS,
            "UpdateCertificateStatus",
            &[("CertificateId", &id), ("Status", "INACTIVE")],
        );
        let url = format!("{}/", sim.endpoint());
        let result = client
            .post(url)
            .header("x-acs-action", &req.action)
            .header("x-acs-version", &req.version)
            .send()
            .await;
        match result {
            Ok(resp) => {
                let a = answer(resp).await;
                assert!(
                    matches!(
                        (a.status, a.code()),
                        (500, "InternalError") | (503, "ServiceUnavailable")
                    ),
                    "{a:?}"
                );
                server_errors += 1;
            }
            Err(e) if e.is_timeout() => timeouts += 1,
            Err(_) => resets += 1,
        }
    }
    assert!(
        server_errors > 0 && resets > 0 && timeouts > 0,
        "{server_errors} {resets} {timeouts}"
    );
    assert_eq!(sim.faults_injected(), 24);
    assert_eq!(
        sim.request_count(SimService::Kms),
        0,
        "no request reached KMS"
    );
    assert_eq!(
        sim.kms_status(&id).as_deref(),
        Some("ACTIVE"),
        "nothing changed"
    );
    sim.shutdown().await;
}

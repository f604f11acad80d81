//! The simulator's Alibaba services over real HTTP. The older services are signed with
//! `certdesk::signing` only; CDN, the SSL certificate repository, STS, accounts and regions are
//! called through the typed clients (`certdesk::cloud`) the app will use, with both signatures.
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

// ---------------------------------------------------------------------------------------------
// CDN, the SSL certificate repository, STS, accounts and regions, through the typed clients.
// ---------------------------------------------------------------------------------------------

use certdesk::cloud::cdn::{DomainQuery, DomainSearchType};
use certdesk::cloud::ssl::{CertificateQuery, CloudResourceQuery, OrderType};
use certdesk::cloud::{
    AlibabaClientConfig, AlibabaSignatureVersion, AssumeRoleRequest, CdnClient, CdnSslChange,
    Error, ErrorKind, KmsClient, PcaClient, SslClient, StsClient, Transport, TransportOptions,
};
use certdesk::credentials::{AlibabaCredentials, Secret};

const SIGNATURES: [AlibabaSignatureVersion; 2] =
    [AlibabaSignatureVersion::V3, AlibabaSignatureVersion::V1];

/// A transport that never retries, so an error test sees the first answer.
fn no_retry() -> Transport {
    Transport::with_options(TransportOptions {
        retry: certdesk::cloud::RetryPolicy::none(),
        ..TransportOptions::default()
    })
    .unwrap()
}

fn config(
    sim: &sim::RunningSimulator,
    credentials: AlibabaCredentials,
    region: &str,
    signature: AlibabaSignatureVersion,
) -> AlibabaClientConfig {
    AlibabaClientConfig {
        credentials,
        region: region.into(),
        endpoint: Some(sim.endpoint()),
        signature,
        role: None,
        proxy: Default::default(),
    }
}

/// Account `n` (0-based) of the simulator, permanent keys.
fn account(sim: &sim::RunningSimulator, n: usize) -> AlibabaCredentials {
    let a = &sim.accounts()[n];
    AlibabaCredentials {
        access_key_id: a.alibaba_access_key_id.clone(),
        access_key_secret: a.alibaba_access_key_secret.clone(),
        security_token: None,
    }
}

fn code_class(err: &Error) -> (&str, ErrorKind, Option<u16>) {
    (err.code.as_str(), err.kind, err.http_status)
}

/// The demo CDN domain `word` (index in the simulator's word list) of the first account's home.
fn cdn_domain(word: &str) -> String {
    format!("{word}.certdesk-demo.net")
}

#[tokio::test]
async fn cdn_lists_describes_and_sets_certificates_with_both_signatures() {
    let sim = start_small().await;
    let transport = no_retry();
    for (round, signature) in SIGNATURES.into_iter().enumerate() {
        let cdn = CdnClient::new(
            &transport,
            &config(&sim, account(&sim, 0), "cn-hangzhou", signature),
        )
        .unwrap();
        assert_eq!(cdn.endpoint().authority(), sim.addr().to_string());

        // Paging: the walk and 3-row pages see the same 7 domains (the one that failed review
        // only with CheckDomainShow).
        let all = cdn
            .describe_user_domains(&DomainQuery::default(), |_, _| {})
            .await
            .unwrap();
        assert_eq!(all.len(), 7, "{signature:?}");
        let mut paged = Vec::new();
        for page in 1..=3 {
            let r = cdn
                .describe_user_domains_page(&DomainQuery::default(), page, 3)
                .await
                .unwrap();
            assert_eq!(r.total_count, Some(7));
            assert_eq!(r.page_size, Some(3));
            paged.extend(r.domains.page_data);
        }
        assert_eq!(paged, all);
        let with_review = DomainQuery {
            check_domain_show: true,
            ..DomainQuery::default()
        };
        let shown = cdn
            .describe_user_domains(&with_review, |_, _| {})
            .await
            .unwrap();
        assert_eq!(shown.len(), 8);
        assert!(shown.iter().any(|d| d.domain_status == "check_failed"));
        let fuzzy = DomainQuery {
            domain_name: Some("static".into()),
            search_type: DomainSearchType::FuzzyMatch,
            ..DomainQuery::default()
        };
        let found = cdn.describe_user_domains(&fuzzy, |_, _| {}).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].domain_name, cdn_domain("static"));
        assert!(found[0].domain_id.is_some());
        assert_eq!(found[0].to_row().service, certdesk::model::Service::Cdn);

        // Domain 0 serves the repository's wildcard (cas), domain 2 an uploaded certificate.
        let www = cdn
            .describe_domain_certificate_info(&cdn_domain("www"))
            .await
            .unwrap();
        let info = &www.cert_infos.cert_info[0];
        assert_eq!(info.cert_type, "cas");
        assert_eq!(info.cas_cert_id(), Some(12_000_000));
        assert_eq!(info.cert_region, "cn-hangzhou");
        assert_eq!(info.server_certificate_status, "on");
        assert_eq!(
            info.sha256(),
            sim.cdn_ssl(0, "cn-hangzhou", &cdn_domain("www"))
                .unwrap()
                .sha256
        );
        let row = info.to_row();
        assert!(row.not_after.is_some() && row.pem.is_some());
        let statics = cdn
            .describe_domain_certificate_info(&cdn_domain("static"))
            .await
            .unwrap();
        assert_eq!(statics.cert_infos.cert_info[0].cert_type, "upload");
        assert_eq!(statics.cert_infos.cert_info[0].cert_id, "");

        // A domain that never had a certificate: on without one is refused, then an upload.
        let target = if round == 0 {
            cdn_domain("img")
        } else {
            cdn_domain("cdn")
        };
        if round == 0 {
            let none = cdn.describe_domain_certificate_info(&target).await.unwrap();
            assert_eq!(
                none.cert_infos.cert_info[0].server_certificate_status,
                "off"
            );
            assert_eq!(none.cert_infos.cert_info[0].to_row().pem, None);
            let err = cdn
                .set_cdn_domain_ssl_certificate(&target, &CdnSslChange::OnKeepCertificate)
                .await
                .unwrap_err();
            assert_eq!(
                code_class(&err),
                (
                    "SSLPub.MissingParameter",
                    ErrorKind::InvalidInput,
                    Some(400)
                )
            );
        }
        let (cert_pem, key_pem) = self_signed(&target);
        let upload = CdnSslChange::Upload {
            cert_name: Some(format!("rotation-{round}")),
            certificate_pem: cert_pem.clone(),
            private_key: Secret::new(key_pem.clone()),
        };
        cdn.set_cdn_domain_ssl_certificate(&target, &upload)
            .await
            .unwrap();
        let on = cdn.describe_domain_certificate_info(&target).await.unwrap();
        let on = &on.cert_infos.cert_info[0];
        assert_eq!(
            (on.cert_type.as_str(), on.server_certificate_status.as_str()),
            ("upload", "on")
        );
        assert_eq!(on.cert_name, format!("rotation-{round}"));
        assert_eq!(
            pem::parse(&on.server_certificate).unwrap(),
            pem::parse(&cert_pem).unwrap()
        );

        // Off keeps the certificate; on without one brings it back (undo of off).
        cdn.set_cdn_domain_ssl_certificate(&target, &CdnSslChange::Off)
            .await
            .unwrap();
        let state = sim.cdn_ssl(0, "cn-hangzhou", &target).unwrap();
        assert_eq!(
            (state.ssl_protocol.as_str(), state.cert_type.as_str()),
            ("off", "upload")
        );
        cdn.set_cdn_domain_ssl_certificate(&target, &CdnSslChange::OnKeepCertificate)
            .await
            .unwrap();
        assert_eq!(
            sim.cdn_ssl(0, "cn-hangzhou", &target).unwrap().ssl_protocol,
            "on"
        );

        // A repository certificate by id: the domain then serves exactly that certificate.
        let cas = CdnSslChange::Cas {
            cert_id: 12_000_003,
            cert_region: "cn-hangzhou".into(),
            cert_name: None,
        };
        cdn.set_cdn_domain_ssl_certificate(&target, &cas)
            .await
            .unwrap();
        let after = cdn.describe_domain_certificate_info(&target).await.unwrap();
        let after = &after.cert_infos.cert_info[0];
        assert_eq!(
            (after.cert_type.as_str(), after.cas_cert_id()),
            ("cas", Some(12_000_003))
        );
        assert_eq!(after.cert_name, "demo-003-shop");
        let ssl = SslClient::new(
            &transport,
            &config(&sim, account(&sim, 0), "cn-hangzhou", signature),
        )
        .unwrap();
        let repo = ssl
            .get_user_certificate_detail(12_000_003, true)
            .await
            .unwrap();
        assert_eq!(after.server_certificate.trim(), repo.cert.trim());
    }
    assert!(sim.request_count(SimService::Cdn) > 20);
    sim.shutdown().await;
}

#[tokio::test]
async fn cdn_documented_errors() {
    let sim = start_small().await;
    let transport = no_retry();
    let cdn = CdnClient::new(
        &transport,
        &config(
            &sim,
            account(&sim, 0),
            "cn-hangzhou",
            AlibabaSignatureVersion::V3,
        ),
    )
    .unwrap();
    let (cert_pem, key_pem) = self_signed(&cdn_domain("img"));
    let (_, other_key) = self_signed(&cdn_domain("img"));
    let upload = |key: &str| CdnSslChange::Upload {
        cert_name: None,
        certificate_pem: cert_pem.clone(),
        private_key: Secret::new(key),
    };
    type Expected = (&'static str, ErrorKind, Option<u16>);
    let cases: Vec<(String, CdnSslChange, Expected)> = vec![
        (
            "nope.example.com".into(),
            CdnSslChange::Off,
            ("InvalidDomain.NotFound", ErrorKind::NotFound, Some(404)),
        ),
        // Domain 3 is being configured, domain 4 is offline, domain 6 failed review.
        (
            cdn_domain("assets"),
            CdnSslChange::Off,
            ("ServiceBusy", ErrorKind::Transient, Some(403)),
        ),
        (
            cdn_domain("api"),
            upload(&key_pem),
            ("InvalidDomain.Offline", ErrorKind::InvalidInput, Some(400)),
        ),
        (
            cdn_domain("m"),
            CdnSslChange::OnKeepCertificate,
            ("InvalidDomain.Offline", ErrorKind::InvalidInput, Some(400)),
        ),
        (
            cdn_domain("img"),
            upload(&other_key),
            ("Certificate.MissMatch", ErrorKind::InvalidInput, Some(400)),
        ),
        (
            cdn_domain("img"),
            upload("not a key"),
            ("SSLPri.Malformed", ErrorKind::InvalidInput, Some(400)),
        ),
        (
            cdn_domain("img"),
            CdnSslChange::Cas {
                cert_id: 99,
                cert_region: "cn-hangzhou".into(),
                cert_name: None,
            },
            ("Certificate.NotFound", ErrorKind::NotFound, Some(404)),
        ),
        (
            cdn_domain("img"),
            // The China repository's ids are not in the international one.
            CdnSslChange::Cas {
                cert_id: 12_000_000,
                cert_region: "ap-southeast-1".into(),
                cert_name: None,
            },
            ("Certificate.NotFound", ErrorKind::NotFound, Some(404)),
        ),
        (
            cdn_domain("img"),
            CdnSslChange::Cas {
                cert_id: 12_000_000,
                cert_region: "eu-central-1".into(),
                cert_name: None,
            },
            ("InvalidParameter", ErrorKind::InvalidInput, Some(400)),
        ),
    ];
    for (domain, change, expected) in cases {
        let err = cdn
            .set_cdn_domain_ssl_certificate(&domain, &change)
            .await
            .unwrap_err();
        assert_eq!(code_class(&err), expected, "{domain} {change:?}: {err}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    }
    // Nothing changed.
    assert_eq!(
        sim.cdn_ssl(0, "cn-hangzhou", &cdn_domain("img"))
            .unwrap()
            .ssl_protocol,
        "off"
    );
    let err = cdn
        .describe_domain_certificate_info("nope.example.com")
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidDomain.NotFound");
    sim.shutdown().await;

    // The rate limit of SetCdnDomainSSLCertificate (VOD's documented 30/s; 2/s here).
    let sim = start_with(
        SimOptions::default(),
        SimTuning {
            cdn_ssl_qps: 2,
            ..SimTuning::default()
        },
    )
    .await;
    let cdn = CdnClient::new(
        &transport,
        &config(
            &sim,
            account(&sim, 0),
            "cn-hangzhou",
            AlibabaSignatureVersion::V1,
        ),
    )
    .unwrap();
    let mut throttled = None;
    for _ in 0..4 {
        if let Err(e) = cdn
            .set_cdn_domain_ssl_certificate(&cdn_domain("www"), &CdnSslChange::OnKeepCertificate)
            .await
        {
            throttled = Some(e);
            break;
        }
    }
    let err = throttled.expect("4 quick sets against 2 per second");
    assert_eq!(
        code_class(&err),
        ("Throttling.User", ErrorKind::Throttled, Some(400))
    );
    assert!(err.retry_after.is_some());
    // Reads have their own (default) limit.
    cdn.describe_user_domains(&DomainQuery::default(), |_, _| {})
        .await
        .unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn ssl_repository_list_detail_upload_delete_and_deployments() {
    let sim = start_small().await;
    let transport = no_retry();
    let repo_size = sim.ssl_certificates(0, "cn-hangzhou").len();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (round, signature) in SIGNATURES.into_iter().enumerate() {
        let ssl = SslClient::new(
            &transport,
            &config(&sim, account(&sim, 0), "cn-hangzhou", signature),
        )
        .unwrap();
        assert_eq!(ssl.endpoint().authority(), sim.addr().to_string());

        // CERT (sent by default) hides the expired ones; the full walk adds them.
        let valid = ssl
            .list_user_certificate_order(&CertificateQuery::default(), |_, _| {})
            .await
            .unwrap();
        assert!(
            valid.iter().all(|c| c.expired == Some(false)),
            "{signature:?}"
        );
        let all = ssl.list_all_certificates(|_, _| {}).await.unwrap();
        let expected = repo_size + round; // round 0 uploads one that round 1 sees
        assert_eq!(all.len(), expected);
        assert!(
            all.len() > valid.len(),
            "expired ones are listed only when asked for"
        );
        assert!(
            all.iter()
                .any(|c| c.certificate_id == Some(12_000_002) && c.expired == Some(true))
        );
        let ids: std::collections::HashSet<i64> =
            all.iter().filter_map(|c| c.certificate_id).collect();
        assert_eq!(ids.len(), all.len(), "no duplicates across the two walks");
        // The CPACK default lists quota orders, not certificates.
        let cpack = ssl
            .list_user_certificate_order_page(
                &CertificateQuery {
                    order_type: OrderType::Cpack,
                    ..CertificateQuery::default()
                },
                1,
                50,
            )
            .await
            .unwrap();
        assert!(
            cpack
                .certificate_order_list
                .iter()
                .all(|c| c.certificate_id.is_none() && c.order_id.is_some())
        );
        // Paging.
        let mut paged = Vec::new();
        for page in 1.. {
            let r = ssl
                .list_user_certificate_order_page(&CertificateQuery::default(), page, 2)
                .await
                .unwrap();
            assert_eq!(r.total_count, Some(valid.len() as i64));
            if r.certificate_order_list.is_empty() {
                break;
            }
            paged.extend(r.certificate_order_list);
        }
        assert_eq!(paged, valid);
        let wildcard = all
            .iter()
            .find(|c| c.certificate_id == Some(12_000_000))
            .unwrap();
        assert!(wildcard.common_name.starts_with("*."));
        let row = wildcard.to_row();
        assert!(row.not_after.unwrap() > now);
        assert_eq!(row.fingerprint_sha256.as_ref().map(String::len), Some(64));

        // Detail: with the PEM the private key comes too (a Secret), without neither.
        let detail = ssl
            .get_user_certificate_detail(12_000_000, true)
            .await
            .unwrap();
        assert_eq!(detail.cert_identifier, "12000000-cn-hangzhou");
        assert!(detail.key.expose().contains("PRIVATE KEY"));
        assert!(!format!("{detail:?}").contains(detail.key.expose()));
        assert_eq!(detail.to_row().fingerprint_sha256, row.fingerprint_sha256);
        assert!(detail.to_row().not_after.unwrap() >= row.not_after.unwrap());
        let bare = ssl
            .get_user_certificate_detail(12_000_000, false)
            .await
            .unwrap();
        assert!(bare.cert.is_empty() && bare.key.is_empty());
        let err = ssl.get_user_certificate_detail(1, false).await.unwrap_err();
        assert_eq!(
            code_class(&err),
            ("Certificate.NotFound", ErrorKind::NotFound, Some(404))
        );

        // Upload: checked, named uniquely, idempotent with a ClientToken.
        let name = format!("uploaded-{round}");
        let (cert_pem, key_pem) = self_signed(&format!("up{round}.certdesk-demo.net"));
        let key = Secret::new(key_pem.clone());
        let token = format!("token-{round}");
        let first = ssl
            .upload_user_certificate(&name, &cert_pem, &key, Some(&token))
            .await
            .unwrap();
        let again = ssl
            .upload_user_certificate(&name, &cert_pem, &key, Some(&token))
            .await
            .unwrap();
        assert_eq!(
            first.cert_id, again.cert_id,
            "the same token is the same upload"
        );
        let id = first.cert_id.unwrap();
        let err = ssl
            .upload_user_certificate(&name, &cert_pem, &key, None)
            .await
            .unwrap_err();
        assert_eq!(
            code_class(&err),
            ("InvalidParameter", ErrorKind::InvalidInput, Some(400))
        );
        let (_, other_key) = self_signed("x.example.com");
        let err = ssl
            .upload_user_certificate("mismatch", &cert_pem, &Secret::new(other_key), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, "Certificate.MissMatch");
        let err = ssl
            .upload_user_certificate("bad", "not a certificate", &key, None)
            .await
            .unwrap_err();
        assert_eq!(err.code, "InvalidCertificate");
        let uploaded = ssl.get_user_certificate_detail(id, true).await.unwrap();
        assert_eq!(uploaded.key.expose(), key_pem);
        assert_eq!(uploaded.buy_in_aliyun, Some(false));
        let listed = ssl
            .list_user_certificate_order(
                &CertificateQuery {
                    order_type: OrderType::Upload,
                    keyword: Some(format!("up{round}.")),
                    ..CertificateQuery::default()
                },
                |_, _| {},
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].certificate_id, Some(id));

        // Where certificates are deployed: the wildcard serves CDN domains 0 and 3.
        let wild = CloudResourceQuery {
            cert_ids: vec![12_000_000],
            ..CloudResourceQuery::default()
        };
        let deployed = ssl.list_cloud_resources(&wild, |_, _| {}).await.unwrap();
        let mut domains: Vec<&str> = deployed.iter().map(|d| d.domain.as_str()).collect();
        domains.sort();
        assert_eq!(domains, [cdn_domain("assets"), cdn_domain("www")]);
        assert!(
            deployed
                .iter()
                .all(|d| d.cloud_product == "CDN" && d.cert_id == Some(12_000_000))
        );
        assert!(
            deployed
                .iter()
                .all(|d| d.cert_end_seconds().is_some_and(|t| t > now))
        );
        assert!(
            deployed
                .iter()
                .all(|d| d.user_id == Some(1_234_567_890_123_456))
        );
        // VOD's seeded cas domains serve certificates of this repository.
        let vod = ssl
            .list_cloud_resources(
                &CloudResourceQuery {
                    cloud_product: Some("VOD".into()),
                    ..CloudResourceQuery::default()
                },
                |_, _| {},
            )
            .await
            .unwrap();
        assert!(
            !vod.is_empty(),
            "seed 42 has VOD domains serving repository certificates"
        );
        for d in &vod {
            assert!(ids.contains(&d.cert_id.unwrap()), "{d:?}");
            assert_eq!(sim.vod_ssl(&d.domain).unwrap().cert_type, "cas");
        }

        // A deployed certificate cannot be deleted; the upload can, once.
        let err = ssl
            .delete_user_certificate(12_000_000, None)
            .await
            .unwrap_err();
        assert_eq!(
            code_class(&err),
            ("Certificate.InUse", ErrorKind::InvalidInput, Some(400))
        );
        if round == 0 {
            ssl.delete_user_certificate(id, Some("delete-token"))
                .await
                .unwrap();
            ssl.delete_user_certificate(id, Some("delete-token"))
                .await
                .unwrap();
            let err = ssl.delete_user_certificate(id, None).await.unwrap_err();
            assert_eq!(err.code, "Certificate.NotFound");
            // Re-upload so round 1 sees one more certificate.
            ssl.upload_user_certificate(&name, &cert_pem, &key, None)
                .await
                .unwrap();
        }
    }
    // A CDN domain moved to the repository certificate makes it deployed there too.
    let cdn = CdnClient::new(
        &transport,
        &config(
            &sim,
            account(&sim, 0),
            "cn-hangzhou",
            AlibabaSignatureVersion::V3,
        ),
    )
    .unwrap();
    cdn.set_cdn_domain_ssl_certificate(
        &cdn_domain("img"),
        &CdnSslChange::Cas {
            cert_id: 12_000_003,
            cert_region: "cn-hangzhou".into(),
            cert_name: None,
        },
    )
    .await
    .unwrap();
    let ssl = SslClient::new(
        &transport,
        &config(
            &sim,
            account(&sim, 0),
            "cn-hangzhou",
            AlibabaSignatureVersion::V3,
        ),
    )
    .unwrap();
    let shop = ssl
        .list_cloud_resources(
            &CloudResourceQuery {
                cert_ids: vec![12_000_003],
                ..CloudResourceQuery::default()
            },
            |_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(shop.len(), 1);
    assert_eq!(shop[0].domain, cdn_domain("img"));
    assert!(shop[0].https_enabled());
    assert_eq!(
        ssl.delete_user_certificate(12_000_003, None)
            .await
            .unwrap_err()
            .code,
        "Certificate.InUse"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn sts_assume_role_gives_working_credentials_until_they_expire() {
    let sim = start_with(
        SimOptions {
            accounts: 2,
            ..SimOptions::default()
        },
        SimTuning {
            sts_min_duration: Duration::from_secs(1),
            ..SimTuning::default()
        },
    )
    .await;
    let transport = no_retry();
    let accounts = sim.accounts();
    let target = &accounts[1];
    let admin = target
        .roles
        .iter()
        .find(|r| r.arn.ends_with("/certdesk-admin"))
        .unwrap();
    let auditor = target
        .roles
        .iter()
        .find(|r| r.external_id.is_some())
        .unwrap();
    let private = target.roles.iter().find(|r| r.own_account_only).unwrap();
    for signature in SIGNATURES {
        let sts = StsClient::new(
            &transport,
            &config(&sim, account(&sim, 0), "cn-hangzhou", signature),
        )
        .unwrap();
        let me = sts.get_caller_identity().await.unwrap();
        assert_eq!(
            (me.account_id.as_str(), me.identity_type.as_str()),
            ("1234567890123456", "Account")
        );

        // Account 1 assumes account 2's admin role and works in account 2.
        let assumed = sts
            .assume_role(&AssumeRoleRequest {
                role_arn: admin.arn.clone(),
                role_session_name: "certdesk-test".into(),
                duration_seconds: Some(900),
                ..AssumeRoleRequest::default()
            })
            .await
            .unwrap();
        let creds = &assumed.credentials;
        assert!(creds.access_key_id.starts_with("STS."));
        let left = creds.expiration - time::OffsetDateTime::now_utc();
        assert!(
            left > time::Duration::seconds(880) && left <= time::Duration::seconds(900),
            "{left}"
        );
        assert!(
            assumed
                .assumed_role_user
                .arn
                .ends_with(":assumed-role/certdesk-admin/certdesk-test")
        );
        let as_role = config(
            &sim,
            creds.to_alibaba_credentials(),
            "cn-hangzhou",
            signature,
        );
        let who = StsClient::new(&transport, &as_role)
            .unwrap()
            .get_caller_identity()
            .await
            .unwrap();
        assert_eq!(who.account_id, target.account_id);
        assert_eq!(who.identity_type, "AssumedRoleUser");
        let domains = CdnClient::new(&transport, &as_role)
            .unwrap()
            .describe_user_domains(&DomainQuery::default(), |_, _| {})
            .await
            .unwrap();
        assert!(
            domains
                .iter()
                .all(|d| d.domain_name.ends_with(".a2.certdesk-demo.net")),
            "{domains:?}"
        );
        // Refused once expired (here: forced), with the gateway's code.
        sim.expire_temporary_credentials();
        let err = CdnClient::new(&transport, &as_role)
            .unwrap()
            .describe_user_domains_page(&DomainQuery::default(), 1, 1)
            .await
            .unwrap_err();
        assert_eq!(
            code_class(&err),
            ("InvalidSecurityToken.Expired", ErrorKind::Auth, Some(400))
        );
        // The same id without the token, or with another token, is refused too.
        let mut no_token = creds.to_alibaba_credentials();
        no_token.security_token = None;
        let err = KmsClient::new(
            &transport,
            &config(&sim, no_token, "cn-hangzhou", signature),
        )
        .unwrap()
        .describe_certificate("x")
        .await
        .unwrap_err();
        assert_eq!(err.code, "MissingSecurityToken");

        // A role's ExternalId condition, and a role only its own account may assume.
        let request = |arn: &str, external: Option<&str>| AssumeRoleRequest {
            role_arn: arn.into(),
            role_session_name: "s1".into(),
            external_id: external.map(str::to_string),
            ..AssumeRoleRequest::default()
        };
        let err = sts
            .assume_role(&request(&auditor.arn, None))
            .await
            .unwrap_err();
        assert_eq!(
            code_class(&err),
            ("NoPermission", ErrorKind::Auth, Some(403))
        );
        let err = sts
            .assume_role(&request(&auditor.arn, Some("certdesk-wrong")))
            .await
            .unwrap_err();
        assert_eq!(err.code, "NoPermission");
        let ok = sts
            .assume_role(&request(&auditor.arn, auditor.external_id.as_deref()))
            .await
            .unwrap();
        assert!(
            ok.credentials.expiration
                > time::OffsetDateTime::now_utc() + time::Duration::minutes(59)
        );
        let err = sts
            .assume_role(&request(&private.arn, None))
            .await
            .unwrap_err();
        assert_eq!(err.code, "NoPermission");
        let own_private = accounts[0]
            .roles
            .iter()
            .find(|r| r.own_account_only)
            .unwrap();
        sts.assume_role(&request(&own_private.arn, None))
            .await
            .unwrap();

        // Unknown roles and accounts, and bad parameters.
        for (arn, code, class, status) in [
            (
                format!("acs:ram::{}:role/nobody", target.account_id),
                "EntityNotExist.Role",
                ErrorKind::NotFound,
                404,
            ),
            (
                "acs:ram::9999999999999999:role/certdesk-admin".to_string(),
                "EntityNotExist.Role",
                ErrorKind::NotFound,
                404,
            ),
            (
                "arn:aws:iam::1:role/x".to_string(),
                "InvalidParameter.RoleArn",
                ErrorKind::InvalidInput,
                400,
            ),
        ] {
            let err = sts.assume_role(&request(&arn, None)).await.unwrap_err();
            assert_eq!(code_class(&err), (code, class, Some(status)), "{arn}");
        }
        for duration in [0, 7200] {
            let err = sts
                .assume_role(&AssumeRoleRequest {
                    duration_seconds: Some(duration),
                    ..request(&admin.arn, None)
                })
                .await
                .unwrap_err();
            assert_eq!(err.code, "InvalidParameter.DurationSeconds", "{duration}");
        }
        let err = sts
            .assume_role(&AssumeRoleRequest {
                role_session_name: "x".into(),
                ..request(&admin.arn, None)
            })
            .await
            .unwrap_err();
        assert_eq!(err.code, "InvalidParameter.RoleSessionName");
    }

    // Real expiry: a one-second session stops working after a second.
    let sts = StsClient::new(
        &transport,
        &config(
            &sim,
            account(&sim, 0),
            "cn-hangzhou",
            AlibabaSignatureVersion::V3,
        ),
    )
    .unwrap();
    let short = sts
        .assume_role(&AssumeRoleRequest {
            role_arn: admin.arn.clone(),
            role_session_name: "short".into(),
            duration_seconds: Some(1),
            ..AssumeRoleRequest::default()
        })
        .await
        .unwrap();
    let kms = KmsClient::new(
        &transport,
        &config(
            &sim,
            short.credentials.to_alibaba_credentials(),
            "cn-hangzhou",
            AlibabaSignatureVersion::V3,
        ),
    )
    .unwrap();
    let id = sim.kms_certificate_ids_in(1, "cn-hangzhou")[0].clone();
    assert_eq!(
        kms.describe_certificate(&id).await.unwrap().certificate_id,
        id
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        kms.describe_certificate(&id).await.unwrap_err().code,
        "InvalidSecurityToken.Expired"
    );
    sim.shutdown().await;

    // The documented minimum (900 s) holds by default.
    let sim = start_small().await;
    let sts = StsClient::new(
        &transport,
        &config(
            &sim,
            account(&sim, 0),
            "cn-hangzhou",
            AlibabaSignatureVersion::V3,
        ),
    )
    .unwrap();
    let err = sts
        .assume_role(&AssumeRoleRequest {
            role_arn: sim.accounts()[0].roles[0].arn.clone(),
            role_session_name: "s1".into(),
            duration_seconds: Some(899),
            ..AssumeRoleRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidParameter.DurationSeconds");
    sim.shutdown().await;
}

#[tokio::test]
async fn accounts_see_only_their_own_inventory_and_limits() {
    let sim = start_with(
        SimOptions {
            accounts: 3,
            ..SimOptions::default()
        },
        SimTuning {
            cas_client_certificate_qps: 2,
            ..SimTuning::default()
        },
    )
    .await;
    let transport = no_retry();
    let accounts = sim.accounts();
    assert_eq!(accounts.len(), 3);
    assert_eq!(
        accounts[0].alibaba_access_key_id,
        sim::DEMO_ALIBABA_ACCESS_KEY_ID
    );
    let ids: std::collections::HashSet<&str> =
        accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(ids.len(), 3);

    let kms = |n: usize| {
        KmsClient::new(
            &transport,
            &config(
                &sim,
                account(&sim, n),
                "cn-hangzhou",
                AlibabaSignatureVersion::V3,
            ),
        )
        .unwrap()
    };
    let first = sim.kms_certificate_ids_in(0, "cn-hangzhou");
    let second = sim.kms_certificate_ids_in(1, "cn-hangzhou");
    assert_eq!(
        first,
        sim.kms_certificate_ids(),
        "account 1 is the demo account"
    );
    assert!(first.iter().all(|id| !second.contains(id)));
    let mine = kms(1).describe_certificate(&second[0]).await.unwrap();
    assert!(mine.arn.contains(&accounts[1].account_id), "{}", mine.arn);
    let err = kms(1).describe_certificate(&first[0]).await.unwrap_err();
    assert_eq!(
        code_class(&err),
        ("Certificate.NotFound", ErrorKind::NotFound, Some(404))
    );
    let err = kms(0).describe_certificate(&second[0]).await.unwrap_err();
    assert_eq!(err.code, "Certificate.NotFound");

    // CDN domains and repository certificates are the account's own (names say which).
    for (n, tag) in [(0, ""), (1, "a2."), (2, "a3.")] {
        let cdn = CdnClient::new(
            &transport,
            &config(
                &sim,
                account(&sim, n),
                "cn-hangzhou",
                AlibabaSignatureVersion::V1,
            ),
        )
        .unwrap();
        let names: Vec<String> = cdn
            .describe_user_domains(&DomainQuery::default(), |_, _| {})
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.domain_name)
            .collect();
        assert!(
            names.contains(&format!("www.{tag}certdesk-demo.net")),
            "{n}: {names:?}"
        );
        assert_eq!(names.len(), 7);
        let ssl = SslClient::new(
            &transport,
            &config(
                &sim,
                account(&sim, n),
                "cn-hangzhou",
                AlibabaSignatureVersion::V1,
            ),
        )
        .unwrap();
        let certs = ssl.list_all_certificates(|_, _| {}).await.unwrap();
        assert_eq!(certs.len(), sim.ssl_certificates(n, "cn-hangzhou").len());
        assert!(
            certs
                .iter()
                .any(|c| c.common_name == format!("*.{tag}certdesk-demo.net"))
        );
    }
    // A change in one account leaves the others alone.
    let cdn2 = CdnClient::new(
        &transport,
        &config(
            &sim,
            account(&sim, 1),
            "cn-hangzhou",
            AlibabaSignatureVersion::V3,
        ),
    )
    .unwrap();
    cdn2.set_cdn_domain_ssl_certificate("www.a2.certdesk-demo.net", &CdnSslChange::Off)
        .await
        .unwrap();
    assert_eq!(
        sim.cdn_ssl(1, "cn-hangzhou", "www.a2.certdesk-demo.net")
            .unwrap()
            .ssl_protocol,
        "off"
    );
    assert_eq!(
        sim.cdn_ssl(0, "cn-hangzhou", &cdn_domain("www"))
            .unwrap()
            .ssl_protocol,
        "on"
    );
    let err = cdn2
        .set_cdn_domain_ssl_certificate(&cdn_domain("www"), &CdnSslChange::Off)
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidDomain.NotFound");

    // Rate limits count per account: account 1's exhausted cas limit does not slow account 2.
    let pca = |n: usize| {
        PcaClient::new(
            &transport,
            &config(
                &sim,
                account(&sim, n),
                "cn-hangzhou",
                AlibabaSignatureVersion::V3,
            ),
        )
        .unwrap()
    };
    let mut refused = 0;
    for _ in 0..4 {
        if let Err(e) = pca(0).list_client_certificate_page(1, 1).await {
            assert_eq!(e.kind, ErrorKind::Throttled);
            refused += 1;
        }
    }
    assert!(refused >= 1, "4 quick calls against 2 per second");
    pca(1).list_client_certificate_page(1, 1).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn regions_have_their_own_inventories_per_the_endpoint_rules() {
    let sim = start_small().await;
    let transport = no_retry();
    let client_in =
        |region: &str| config(&sim, account(&sim, 0), region, AlibabaSignatureVersion::V3);
    let home = sim.kms_certificate_ids_in(0, "cn-hangzhou");
    let shanghai = sim.kms_certificate_ids_in(0, "cn-shanghai");
    let singapore = sim.kms_certificate_ids_in(0, "ap-southeast-1");
    assert_eq!(home, sim.kms_certificate_ids());
    assert!(
        shanghai
            .iter()
            .all(|id| !home.contains(id) && !singapore.contains(id))
    );
    for signature in SIGNATURES {
        let kms_sh = KmsClient::new(
            &transport,
            &config(&sim, account(&sim, 0), "cn-shanghai", signature),
        )
        .unwrap();
        let d = kms_sh.describe_certificate(&shanghai[0]).await.unwrap();
        assert!(
            d.arn.starts_with("acs:kms:cn-shanghai:1234567890123456:"),
            "{}",
            d.arn
        );
        assert_eq!(
            kms_sh
                .describe_certificate(&home[0])
                .await
                .unwrap_err()
                .code,
            "Certificate.NotFound"
        );
    }
    let kms_home = KmsClient::new(&transport, &client_in("cn-hangzhou")).unwrap();
    assert_eq!(
        kms_home
            .describe_certificate(&shanghai[0])
            .await
            .unwrap_err()
            .code,
        "Certificate.NotFound"
    );

    // CDN is central: every China region is cdn.aliyuncs.com, overseas regions the Singapore one.
    let names = |region: &'static str| {
        let cdn = CdnClient::new(&transport, &client_in(region)).unwrap();
        async move {
            cdn.describe_user_domains(&DomainQuery::default(), |_, _| {})
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.domain_name)
                .collect::<Vec<_>>()
        }
    };
    let (hz, sh, sg, us) = (
        names("cn-hangzhou").await,
        names("cn-shanghai").await,
        names("ap-southeast-1").await,
        names("us-east-1").await,
    );
    assert_eq!(hz, sh);
    assert_eq!(sg, us);
    assert!(
        sg.iter()
            .all(|n| n.ends_with(".ap-southeast-1.certdesk-demo.net")),
        "{sg:?}"
    );
    // The SSL repository: the China site for cn-*, the international site for ap-southeast-1,
    // whose identifiers say so.
    let intl = SslClient::new(&transport, &client_in("ap-southeast-1")).unwrap();
    let intl_certs = intl.list_all_certificates(|_, _| {}).await.unwrap();
    let first = intl_certs
        .iter()
        .filter_map(|c| c.certificate_id)
        .min()
        .unwrap();
    assert_eq!(first, 52_000_000);
    let detail = intl
        .get_user_certificate_detail(first, false)
        .await
        .unwrap();
    assert_eq!(detail.cert_identifier, "52000000-ap-southeast-1");
    // The overseas CDN's seeded cas domains use the international repository.
    let sg_cdn = CdnClient::new(&transport, &client_in("ap-southeast-1")).unwrap();
    let info = sg_cdn
        .describe_domain_certificate_info(&sg[0])
        .await
        .unwrap();
    assert_eq!(info.cert_infos.cert_info[0].cert_region, "ap-southeast-1");
    assert_eq!(info.cert_infos.cert_info[0].cas_cert_id(), Some(52_000_000));
    let china = SslClient::new(&transport, &client_in("cn-shanghai")).unwrap();
    assert_eq!(
        china
            .get_user_certificate_detail(first, false)
            .await
            .unwrap_err()
            .code,
        "Certificate.NotFound"
    );

    // Regions a product does not have, and regions not simulated.
    for (region, what) in [("cn-shanghai", "ESA"), ("mars-1", "KMS")] {
        let err = if what == "ESA" {
            certdesk::cloud::EsaClient::new(&transport, &client_in(region))
                .unwrap()
                .list_sites()
                .await
                .unwrap_err()
        } else {
            KmsClient::new(&transport, &client_in(region))
                .unwrap()
                .describe_certificate("x")
                .await
                .unwrap_err()
        };
        assert_eq!(
            code_class(&err),
            ("InvalidRegionId", ErrorKind::InvalidInput, Some(400)),
            "{what} {region}"
        );
    }
    // VOD has one inventory whatever the region.
    let vod_sg = certdesk::cloud::VodClient::new(&transport, &client_in("ap-southeast-1")).unwrap();
    let vod = vod_sg.describe_vod_user_domains().await.unwrap();
    assert_eq!(vod[0].domain_name, "video.certdesk-demo.com");
    sim.shutdown().await;
}

//! The typed clients end to end against a loopback server that re-verifies every signature from the
//! wire (tests/common): both Alibaba signature versions, STS, Huawei basic and derived, with values
//! full of characters that break naive encoders.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use certdesk::cloud::error::local_code;
use certdesk::cloud::{
    AlibabaClientConfig, AlibabaSignatureVersion, Error, ErrorKind, EsaClient, HuaweiClientConfig,
    HuaweiSigning, IotdaClient, IotdaStatus, KmsCertificateStatus, KmsClient, PcaClient,
    ProxySetting, SiteId, Transport, VodClient,
};
use certdesk::credentials::{AlibabaCredentials, HuaweiCredentials, Secret};
use certdesk::model::{CertStatus, Service};
use common::{Fixture, Reply, Seen, TRICKY};

fn alibaba(base: &str, signature: AlibabaSignatureVersion, sts: bool) -> AlibabaClientConfig {
    AlibabaClientConfig {
        credentials: AlibabaCredentials {
            access_key_id: common::ALIBABA_ID.into(),
            access_key_secret: Secret::new(common::ALIBABA_SECRET),
            security_token: sts.then(|| Secret::new(common::STS_TOKEN)),
        },
        region: "cn-hangzhou".into(),
        endpoint: Some(base.into()),
        signature,
        role: None,
        proxy: Default::default(),
    }
}

fn huawei_config(base: &str, signing: HuaweiSigning, token: bool) -> HuaweiClientConfig {
    HuaweiClientConfig {
        credentials: HuaweiCredentials {
            access_key: common::HUAWEI_AK.into(),
            secret_key: Secret::new(common::HUAWEI_SK),
            security_token: token.then(|| Secret::new("testsecuritytoken")),
        },
        region: "cn-north-4".into(),
        endpoint: Some(base.into()),
        signing,
        project_id: "5d2f0a1b3c4e5f60718293a4b5c6d7e8".into(),
        instance_id: Some("3f9c2a1e-1b2c-4d5e-8f90-a1b2c3d4e5f6".into()),
        proxy: Default::default(),
    }
}

const ALL_ALIBABA_MODES: [(AlibabaSignatureVersion, bool); 4] = [
    (AlibabaSignatureVersion::V3, false),
    (AlibabaSignatureVersion::V3, true),
    (AlibabaSignatureVersion::V1, false),
    (AlibabaSignatureVersion::V1, true),
];

/// KMS: a CertificateId full of special characters reaches the server intact (and the server's
/// echo comes back intact) under every signature mode.
#[tokio::test]
async fn kms_special_characters_arrive_intact_under_every_signature_mode() {
    let fixture = Fixture::start(|seen: &Seen| match seen.action.as_str() {
        "DescribeCertificate" => Reply::json(
            serde_json::json!({
                "RequestId": "R-KMS", "CertificateId": seen.param("CertificateId"), "Status": "ACTIVE",
                "Subject": "C=CN,O=Example,CN=device-01", "NotAfter": "2032-09-17T11:07:25Z",
            })
            .to_string(),
        ),
        "UpdateCertificateStatus" => Reply::json(r#"{"RequestId":"R-UPD"}"#),
        other => Reply::status(400, format!(r#"{{"Code":"UnexpectedAction","Message":"{other}"}}"#)),
    })
    .await;
    let transport = Transport::new().unwrap();
    for (signature, sts) in ALL_ALIBABA_MODES {
        let kms = KmsClient::new(&transport, &alibaba(&fixture.base, signature, sts)).unwrap();
        let described = kms.describe_certificate(TRICKY).await.unwrap();
        assert_eq!(described.certificate_id, TRICKY, "{signature:?} sts={sts}");
        assert_eq!(described.to_row().name, "device-01");
        let updated = kms
            .update_certificate_status(TRICKY, KmsCertificateStatus::Revoked)
            .await
            .unwrap();
        assert_eq!(updated.request_id, "R-UPD");
    }
    fixture.assert_all_verified();
    let seen = fixture.seen();
    assert_eq!(seen.len(), 8);
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.param("CertificateId"), Some(TRICKY));
        assert!(s.body.is_empty());
    }
    // Versions and STS made it to the wire as chosen.
    assert_eq!(
        seen.iter()
            .filter(|s| s.verified.as_deref() == Ok("HMAC-SHA1"))
            .count(),
        4
    );
    assert_eq!(
        seen.iter()
            .filter(|s| s.header("x-acs-security-token").is_some())
            .count(),
        2
    );
    assert_eq!(
        seen.iter()
            .filter(|s| s.param("SecurityToken").is_some())
            .count(),
        2
    );
    assert_eq!(seen[1].param("Status"), Some("REVOKED"));
}

/// PCA: paging walks every page, status checks are batched by 50, and revocation sends the
/// identifier.
#[tokio::test]
async fn pca_paging_batching_and_revoke() {
    let fixture = Fixture::start(|seen: &Seen| match seen.action.as_str() {
        "ListClientCertificate" => {
            let page: usize = seen.param("CurrentPage").unwrap().parse().unwrap();
            let size: usize = seen.param("ShowSize").unwrap().parse().unwrap();
            let total = 120usize;
            let items: Vec<_> = (((page - 1) * size)..(page * size).min(total))
                .map(|i| {
                    serde_json::json!({"Identifier": format!("id-{i}"), "CommonName": format!("cn-{i}"),
                        "Status": if i % 2 == 0 { "ISSUE" } else { "REVOKE" },
                        "AfterDate": 1767225599000i64, "SerialNumber": format!("{i:x}")})
                })
                .collect();
            // TotalCount as a string, as some gateways answer.
            Reply::json(
                serde_json::json!({"RequestId": "R", "CurrentPage": page, "ShowSize": size, "TotalCount": total.to_string(),
                    "CertificateList": items})
                .to_string(),
            )
        }
        "DescribeClientCertificateStatus" => {
            let ids: Vec<&str> = seen.param("Identifier").unwrap().split(',').collect();
            let statuses: Vec<_> = ids
                .iter()
                .map(|id| serde_json::json!({"SerialNumber": id, "Status": "revoked", "RevokeTime": 1609459200000i64}))
                .collect();
            Reply::json(serde_json::json!({"RequestId": "R", "CertificateStatus": statuses}).to_string())
        }
        "CreateRevokeClientCertificate" => Reply::json(r#"{"RequestId":"R-REV"}"#),
        other => Reply::status(400, format!(r#"{{"Code":"UnexpectedAction","Message":"{other}"}}"#)),
    })
    .await;
    let transport = Transport::new().unwrap();
    let pca = PcaClient::new(
        &transport,
        &alibaba(&fixture.base, AlibabaSignatureVersion::V3, false),
    )
    .unwrap();
    let mut progress = Vec::new();
    let all = pca
        .list_all(|fetched, total| progress.push((fetched, total)))
        .await
        .unwrap();
    assert_eq!(all.len(), 120);
    assert_eq!(all[119].identifier, "id-119");
    assert_eq!(
        progress,
        vec![(50, Some(120)), (100, Some(120)), (120, Some(120))]
    );
    assert_eq!(all[1].to_row().status, CertStatus::Revoked);

    let ids: Vec<String> = (0..120).map(|i| format!("id-{i}")).collect();
    let statuses = pca.describe_client_certificate_status(&ids).await.unwrap();
    assert_eq!(statuses.len(), 120);
    assert_eq!(statuses[0].revoke_time, Some(1_609_459_200_000));

    let revoked = pca.create_revoke_client_certificate(TRICKY).await.unwrap();
    assert_eq!(revoked.request_id, "R-REV");

    fixture.assert_all_verified();
    let seen = fixture.seen();
    let batches: Vec<usize> = seen
        .iter()
        .filter(|s| s.action == "DescribeClientCertificateStatus")
        .map(|s| s.param("Identifier").unwrap().split(',').count())
        .collect();
    assert_eq!(batches, vec![50, 50, 20]);
    assert_eq!(seen.last().unwrap().param("Identifier"), Some(TRICKY));
}

/// ESA: GET requests, int64 SiteId, site id attached to every listed certificate.
#[tokio::test]
async fn esa_get_requests_with_site_ids() {
    let fixture = Fixture::start(|seen: &Seen| match seen.action.as_str() {
        "ListSites" => Reply::json(
            r#"{"RequestId":"R","PageNumber":1,"PageSize":100,"TotalCount":1,"Sites":[{"SiteId":1234567890123,"SiteName":"example.com","Status":"active"}]}"#,
        ),
        "ListClientCertificates" => {
            let page: i64 = seen.param("PageNumber").unwrap().parse().unwrap();
            let result: Vec<_> = if page == 1 {
                (0..20).map(|i| serde_json::json!({"Id": format!("c{i}"), "CommonName": "d", "Status": "active", "NotAfter": "2025-12-31 23:59:59"})).collect()
            } else {
                vec![serde_json::json!({"Id": "last", "Status": "revoked"})]
            };
            Reply::json(
                serde_json::json!({"RequestId":"R","SiteId": 1234567890123i64,"PageNumber":page,"PageSize":20,"TotalCount":21,"Result":result})
                    .to_string(),
            )
        }
        "RevokeClientCertificate" | "ActivateClientCertificate" => Reply::json(
            serde_json::json!({"SiteId": 1234567890123i64, "SiteName": "example.com", "Id": seen.param("Id"), "RequestId": "R-ESA"})
                .to_string(),
        ),
        other => Reply::status(400, format!(r#"{{"Code":"UnexpectedAction","Message":"{other}"}}"#)),
    })
    .await;
    let transport = Transport::new().unwrap();
    for (signature, sts) in [
        (AlibabaSignatureVersion::V3, true),
        (AlibabaSignatureVersion::V1, false),
    ] {
        let esa = EsaClient::new(&transport, &alibaba(&fixture.base, signature, sts)).unwrap();
        let sites = esa.list_sites().await.unwrap();
        let site = SiteId(sites[0].site_id.unwrap());
        assert_eq!(site, SiteId(1_234_567_890_123));
        let certs = esa.list_client_certificates(site, |_, _| {}).await.unwrap();
        assert_eq!(certs.len(), 21);
        assert!(certs.iter().all(|c| c.site_id == Some(site)));
        assert_eq!(certs[0].to_row().site_id, Some(1_234_567_890_123));
        let revoked = esa.revoke_client_certificate(site, TRICKY).await.unwrap();
        assert_eq!(revoked.id, TRICKY);
        assert_eq!(revoked.site_id, Some(1_234_567_890_123));
        esa.activate_client_certificate(site, "c1").await.unwrap();
    }
    fixture.assert_all_verified();
    for s in fixture.seen() {
        assert_eq!(s.method, "GET", "{}", s.action);
    }
}

/// VOD: the PEM certificate and the private key (a Secret) travel intact; an error that echoes the
/// key comes back redacted.
#[tokio::test]
async fn vod_set_certificate_sends_pems_intact_and_never_echoes_the_key() {
    const KEY: &str =
        "-----BEGIN PRIVATE KEY-----\nMIIE+/=secret material é\n-----END PRIVATE KEY-----\n";
    let fixture = Fixture::start(|seen: &Seen| match (seen.action.as_str(), seen.param("DomainName")) {
        ("SetVodDomainCertificate", Some("bad.example.com")) => Reply::status(
            400,
            serde_json::json!({"RequestId": "R-BAD", "Code": "SSLPri.Invalid", "Message": format!("cannot parse {}", seen.param("SSLPri").unwrap_or(""))})
                .to_string(),
        ),
        ("SetVodDomainCertificate", _) => Reply::json(r#"{"RequestId":"R-SET"}"#),
        ("DescribeVodUserDomains", _) => Reply::json(r#"{"RequestId":"R","PageNumber":1,"PageSize":50,"TotalCount":0}"#),
        (other, _) => Reply::status(400, format!(r#"{{"Code":"UnexpectedAction","Message":"{other}"}}"#)),
    })
    .await;
    let transport = Transport::new().unwrap();
    let key = Secret::new(KEY);
    for (signature, sts) in ALL_ALIBABA_MODES {
        let vod = VodClient::new(&transport, &alibaba(&fixture.base, signature, sts)).unwrap();
        let ok = vod
            .set_vod_domain_certificate(
                "video.example.com",
                true,
                Some("cert name*~"),
                Some(TRICKY),
                Some(&key),
            )
            .await
            .unwrap();
        assert_eq!(ok.request_id, "R-SET");
        let err = vod
            .set_vod_domain_certificate("bad.example.com", true, None, Some(TRICKY), Some(&key))
            .await
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("secret material"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert_eq!(err.code, "SSLPri.Invalid");
        assert!(
            vod.describe_vod_user_domains().await.unwrap().is_empty(),
            "absent Domains wrapper = no domains"
        );
    }
    fixture.assert_all_verified();
    let sets: Vec<Seen> = fixture
        .seen()
        .into_iter()
        .filter(|s| s.action == "SetVodDomainCertificate")
        .collect();
    assert_eq!(sets.len(), 8);
    for s in sets {
        assert_eq!(s.param("SSLPri"), Some(KEY));
        assert_eq!(s.param("SSLPub"), Some(TRICKY));
        assert_eq!(s.param("SSLProtocol"), Some("on"));
    }
}

/// IoTDA, basic and derived signing (and a security token): marker paging with a marker full of
/// special characters, show, update (JSON body), delete (204), and a one-line 404 error.
#[tokio::test]
async fn iotda_basic_and_derived_end_to_end() {
    let marker = TRICKY.to_string();
    let fixture = Fixture::start(move |seen: &Seen| {
        let base = "/v5/iot/5d2f0a1b3c4e5f60718293a4b5c6d7e8/device-certificates";
        let item = |i: usize| {
            serde_json::json!({"certificate_id": format!("cert-{i}"), "common_name": format!("dev-{i}"),
                "expiry_date": "20230810T070547Z", "status": "ACTIVE",
                "fingerprint": "4838A6CCBC582DC22647005FBDFB2B110632DDDA5FCFB55B3307C122EFC2D1BA"})
        };
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", p) if p == base => {
                let (items, next): (Vec<_>, &str) = match seen.param("marker") {
                    None => ((0..50).map(item).collect(), marker.as_str()),
                    Some(m) if m == marker => ((50..53).map(item).collect(), "end"),
                    Some(other) => return Reply::status(400, format!(r#"{{"error_code":"IOTDA.000006","error_msg":"bad marker {other:?}"}}"#)),
                };
                Reply::json(serde_json::json!({"device_certificates": items, "page": {"count": 53, "marker": next}}).to_string())
            }
            ("GET", p) if p == format!("{base}/missing") => Reply::status(
                404,
                r#"{"error_code":"IOTDA.014000","error_msg":"The device certificate does not exist."}"#,
            )
            .with_header("X-Request-Id", "req-404"),
            ("GET", p) if p.starts_with(base) => {
                let id = certdesk::signing::pct_decode(p.rsplit('/').next().unwrap(), false);
                Reply::json(serde_json::json!({"certificate_id": id, "status": "ACTIVE", "certificate_pem": "-----BEGIN CERTIFICATE-----"}).to_string())
            }
            ("PUT", p) if p.starts_with(base) => {
                let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
                Reply::json(serde_json::json!({"certificate_id": "cert-1", "status": body["status"]}).to_string())
            }
            ("DELETE", _) => Reply::status(204, ""),
            _ => Reply::status(404, "{}"),
        }
    })
    .await;
    let transport = Transport::new().unwrap();
    for (signing, token, expect_derived) in [
        (HuaweiSigning::Basic, false, false),
        (HuaweiSigning::Derived, true, true),
        (HuaweiSigning::Auto, false, true), // loopback → derived, like the SDK predicate
    ] {
        let iot =
            IotdaClient::new(&transport, &huawei_config(&fixture.base, signing, token)).unwrap();
        assert_eq!(iot.uses_derived_signing(), expect_derived);
        let mut pages = Vec::new();
        let all = iot
            .list_all(|n, total| pages.push((n, total)))
            .await
            .unwrap();
        assert_eq!(all.len(), 53);
        assert_eq!(pages, vec![(50, Some(53)), (53, Some(53))]);
        assert_eq!(all[0].to_row().not_after, Some(1_691_651_147));

        let shown = iot.show_device_certificate("a b*é~").await.unwrap();
        assert_eq!(
            shown.certificate_id, "a b*é~",
            "path segment encoded and decoded intact"
        );
        let updated = iot
            .update_device_certificate_status("cert-1", IotdaStatus::Inactive)
            .await
            .unwrap();
        assert_eq!(updated.to_row().status, CertStatus::Inactive);
        iot.delete_device_certificate("cert-1").await.unwrap();

        let err: Error = iot.show_device_certificate("missing").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "IOTDA.014000: The device certificate does not exist. (RequestId: req-404, HTTP 404)"
        );
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert_eq!(err.service, Some(Service::Iotda));
    }
    fixture.assert_all_verified();
    let seen = fixture.seen();
    let algorithms: std::collections::HashSet<String> =
        seen.iter().map(|s| s.verified.clone().unwrap()).collect();
    assert!(
        algorithms.contains("SDK-HMAC-SHA256") && algorithms.contains("V11-HMAC-SHA256"),
        "{algorithms:?}"
    );
    let put = seen.iter().find(|s| s.method == "PUT").unwrap();
    assert_eq!(put.body, br#"{"status":"INACTIVE"}"#);
    assert_eq!(put.header("content-type"), Some("application/json"));
    assert_eq!(
        put.header("instance-id"),
        Some("3f9c2a1e-1b2c-4d5e-8f90-a1b2c3d4e5f6")
    );
    assert!(
        seen.iter()
            .any(|s| s.header("x-security-token") == Some("testsecuritytoken"))
    );
    let second_page = seen.iter().find(|s| s.param("marker").is_some()).unwrap();
    assert_eq!(second_page.param("marker"), Some(TRICKY));
    assert_eq!(second_page.param("limit"), Some("50"));
}

/// A server that is not there: a one-line Transient error, no panic, no URL (which could carry a
/// key) in the text.
#[tokio::test]
async fn connection_refused_is_a_transient_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let transport = Transport::with_options(certdesk::cloud::TransportOptions {
        retry: certdesk::cloud::RetryPolicy::none(),
        ..Default::default()
    })
    .unwrap();
    let vod = VodClient::new(
        &transport,
        &alibaba(
            &format!("http://127.0.0.1:{port}"),
            AlibabaSignatureVersion::V3,
            false,
        ),
    )
    .unwrap();
    let key = Secret::new("-----BEGIN PRIVATE KEY-----\nsecretbits\n-----END PRIVATE KEY-----");
    let err = vod
        .set_vod_domain_certificate("example.com", true, None, None, Some(&key))
        .await
        .unwrap_err();
    assert_eq!(err.code, local_code::CONNECT_FAILED);
    assert_eq!(err.kind, ErrorKind::Transient);
    let text = err.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(
        !text.contains("secretbits") && !text.contains("SSLPri"),
        "{text}"
    );
}

/// CDN, the SSL repository and STS on the wire, under every Alibaba signature mode: the private
/// key travels intact and never comes back in an error, `CertIds` is a JSON array, `OrderType` is
/// always sent (never the CPACK default), `CertFilter` leaves the key out, the region is named on
/// a loopback endpoint, and STS credentials come back typed with their secrets hidden.
#[tokio::test]
async fn cdn_ssl_and_sts_wire_shapes_under_every_signature_mode() {
    use certdesk::cloud::cdn::DomainQuery;
    use certdesk::cloud::ssl::{CertificateQuery, CloudResourceQuery};
    use certdesk::cloud::{AssumeRoleRequest, CdnClient, CdnSslChange, SslClient, StsClient};

    const KEY: &str =
        "-----BEGIN PRIVATE KEY-----\nMIIE+/=cdn secret material é\n-----END PRIVATE KEY-----\n";
    let fixture = Fixture::start(|seen: &Seen| match seen.action.as_str() {
        "SetCdnDomainSSLCertificate" if seen.param("DomainName") == Some("bad.example.com") => {
            Reply::status(
                400,
                serde_json::json!({"RequestId": "R-BAD", "Code": "SSLPri.Malformed",
                    "Message": format!("cannot parse {}", seen.param("SSLPri").unwrap_or(""))})
                .to_string(),
            )
        }
        "SetCdnDomainSSLCertificate" => Reply::json(r#"{"RequestId":"R-SET"}"#),
        "DescribeUserDomains" => Reply::json(
            r#"{"RequestId":"R","PageNumber":1,"PageSize":500,"TotalCount":1,
                "Domains":{"PageData":[{"DomainName":"www.example.com","DomainId":1,"SslProtocol":"on"}]}}"#,
        ),
        "ListUserCertificateOrder" => Reply::json(
            r#"{"RequestId":"R","TotalCount":1,"CertificateOrderList":[{"CertificateId":7,"EndDate":"2030-01-01"}]}"#,
        ),
        "GetUserCertificateDetail" => Reply::json(r#"{"RequestId":"R","Id":7}"#),
        "UploadUserCertificate" => Reply::status(
            400,
            serde_json::json!({"RequestId": "R-UP", "Code": "InvalidParameter",
                "Message": format!("bad key {}", seen.param("Key").unwrap_or(""))})
            .to_string(),
        ),
        "ListCloudResources" => Reply::json(
            r#"{"RequestId":"R","Total":1,"Data":[{"Id":1,"CertId":7,"Domain":"www.example.com","EnableHttps":1}]}"#,
        ),
        "AssumeRole" => Reply::json(
            r#"{"RequestId":"R-STS","Credentials":{"AccessKeyId":"STS.abc","AccessKeySecret":"tmp-secret",
                "SecurityToken":"tmp-token","Expiration":"2030-01-02T03:04:05Z"},
                "AssumedRoleUser":{"Arn":"acs:ram::1:assumed-role/r/s","AssumedRoleId":"3:s"}}"#,
        ),
        other => Reply::status(400, format!(r#"{{"Code":"UnexpectedAction","Message":"{other}"}}"#)),
    })
    .await;
    let transport = Transport::new().unwrap();
    let key = Secret::new(KEY);
    for (signature, sts) in ALL_ALIBABA_MODES {
        let config = alibaba(&fixture.base, signature, sts);
        let cdn = CdnClient::new(&transport, &config).unwrap();
        let upload = CdnSslChange::Upload {
            cert_name: Some("name *~".into()),
            certificate_pem: TRICKY.into(),
            private_key: key.clone(),
        };
        assert_eq!(
            cdn.set_cdn_domain_ssl_certificate("www.example.com", &upload)
                .await
                .unwrap()
                .request_id,
            "R-SET"
        );
        let err = cdn
            .set_cdn_domain_ssl_certificate("bad.example.com", &upload)
            .await
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("secret material"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        cdn.set_cdn_domain_ssl_certificate(
            "www.example.com",
            &CdnSslChange::Cas {
                cert_id: 12_000_000,
                cert_region: "ap-southeast-1".into(),
                cert_name: None,
            },
        )
        .await
        .unwrap();
        cdn.set_cdn_domain_ssl_certificate("www.example.com", &CdnSslChange::Off)
            .await
            .unwrap();
        let domains = cdn
            .describe_user_domains(&DomainQuery::default(), |_, _| {})
            .await
            .unwrap();
        assert_eq!(domains.len(), 1);

        let ssl = SslClient::new(&transport, &config).unwrap();
        let certs = ssl
            .list_user_certificate_order(&CertificateQuery::default(), |_, _| {})
            .await
            .unwrap();
        assert_eq!(certs[0].certificate_id, Some(7));
        ssl.get_user_certificate_detail(7, false).await.unwrap();
        let err = ssl
            .upload_user_certificate("n", TRICKY, &key, Some("tok"))
            .await
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("secret material"));
        let deployed = ssl
            .list_cloud_resources(
                &CloudResourceQuery {
                    cert_ids: vec![7, 12_000_000],
                    ..CloudResourceQuery::default()
                },
                |_, _| {},
            )
            .await
            .unwrap();
        assert!(deployed[0].https_enabled());

        let assumed = StsClient::new(&transport, &config)
            .unwrap()
            .assume_role(&AssumeRoleRequest {
                role_arn: "acs:ram::1:role/r".into(),
                role_session_name: "s".into(),
                duration_seconds: Some(900),
                external_id: Some("x+=,.@:/-".into()),
                policy: None,
            })
            .await
            .unwrap();
        assert_eq!(assumed.credentials.access_key_id, "STS.abc");
        assert_eq!(assumed.credentials.security_token.expose(), "tmp-token");
        assert_eq!(
            assumed.credentials.expiration.unix_timestamp(),
            1_893_553_445
        );
        assert!(!format!("{assumed:?}").contains("tmp-secret"));
    }
    fixture.assert_all_verified();
    let seen = fixture.seen();
    let all = |action: &str| -> Vec<&Seen> { seen.iter().filter(|s| s.action == action).collect() };
    let sets = all("SetCdnDomainSSLCertificate");
    assert_eq!(sets.len(), 16);
    for s in sets
        .iter()
        .filter(|s| s.param("CertType") == Some("upload"))
    {
        assert_eq!(s.param("SSLPri"), Some(KEY));
        assert_eq!(s.param("SSLPub"), Some(TRICKY));
        assert_eq!(s.param("SSLProtocol"), Some("on"));
        assert_eq!(s.param("CertName"), Some("name *~"));
    }
    let cas: Vec<&&Seen> = sets
        .iter()
        .filter(|s| s.param("CertType") == Some("cas"))
        .collect();
    assert_eq!(cas.len(), 4);
    for s in cas {
        assert_eq!(s.param("CertId"), Some("12000000"));
        assert_eq!(s.param("CertRegion"), Some("ap-southeast-1"));
        assert_eq!(s.param("SSLPri"), None);
    }
    assert!(
        sets.iter()
            .filter(|s| s.param("SSLProtocol") == Some("off"))
            .all(|s| s.param("CertType").is_none())
    );
    for s in all("ListUserCertificateOrder") {
        assert_eq!(
            s.param("OrderType"),
            Some("CERT"),
            "never the CPACK default"
        );
        assert_eq!(s.param("Status"), None);
    }
    for s in all("GetUserCertificateDetail") {
        assert_eq!(s.param("CertFilter"), Some("true"));
    }
    for s in all("UploadUserCertificate") {
        assert_eq!(s.param("Key"), Some(KEY));
        assert_eq!(s.param("ClientToken"), Some("tok"));
    }
    for s in all("ListCloudResources") {
        assert_eq!(s.param("CertIds"), Some("[7,12000000]"));
    }
    for s in all("AssumeRole") {
        assert_eq!(s.param("RoleArn"), Some("acs:ram::1:role/r"));
        assert_eq!(s.param("DurationSeconds"), Some("900"));
        assert_eq!(s.param("ExternalId"), Some("x+=,.@:/-"));
    }
    // Loopback: the region is named, signed, in the header (V3) or a parameter (V1).
    for s in &seen {
        let named = s.header("x-acs-region-id").or_else(|| s.param("RegionId"));
        assert_eq!(named, Some("cn-hangzhou"), "{}", s.action);
    }
}
/// A profile's own proxy (`proxy = "http://…"` in profiles.toml → `config.proxy`): HTTPS requests
/// reach it as a CONNECT tunnel naming only host and port; loopback requests never reach it.
#[tokio::test]
async fn a_profile_proxy_tunnels_https_and_never_sees_loopback_requests() {
    let proxy = common::RecordingProxy::start().await;
    let transport = Transport::new().unwrap();
    let mut config = alibaba("", AlibabaSignatureVersion::V3, true);
    config.endpoint = None; // the regional default: https://kms.cn-hangzhou.aliyuncs.com
    config.proxy = ProxySetting::from_profile(Some(&proxy.url)).unwrap();
    let kms = KmsClient::new(&transport, &config).unwrap();
    let err = kms.describe_certificate("c1").await.unwrap_err();
    assert_eq!(err.code, local_code::CONNECT_FAILED, "{err:?}");
    let seen = proxy.text();
    assert!(
        seen.starts_with("CONNECT kms.cn-hangzhou.aliyuncs.com:443 HTTP/1.1\r\n"),
        "{seen:?}"
    );
    for leak in [common::ALIBABA_ID, common::STS_TOKEN, "Authorization", "c1"] {
        assert!(!seen.contains(leak), "{leak} reached the proxy: {seen:?}");
    }

    let fixture = Fixture::start(|_: &Seen| {
        Reply::json(r#"{"RequestId":"R-1","CertificateId":"c1","Status":"ACTIVE"}"#)
    })
    .await;
    let before = proxy.connections();
    config.endpoint = Some(fixture.base.clone());
    let kms = KmsClient::new(&transport, &config).unwrap();
    kms.describe_certificate("c1").await.unwrap();
    fixture.assert_all_verified();
    assert_eq!(
        proxy.connections(),
        before,
        "a loopback request went to the proxy"
    );

    // What a profile may say.
    assert_eq!(
        ProxySetting::from_profile(Some("none")).unwrap(),
        ProxySetting::Direct
    );
    assert_eq!(
        ProxySetting::from_profile(None).unwrap(),
        ProxySetting::Environment
    );
    for bad in [
        "socks5://127.0.0.1:1080",
        "http://user:secret@proxy:3128",
        "http://proxy:3128/path",
        "not a url",
    ] {
        assert!(ProxySetting::from_profile(Some(bad)).is_err(), "{bad}");
    }
}

/// A response body beyond the documented cap is refused, not read into memory.
#[tokio::test]
async fn response_bodies_beyond_the_cap_are_refused() {
    let huge = format!(
        r#"{{"RequestId":"R","Pad":"{}"}}"#,
        "x".repeat(certdesk::cloud::transport::MAX_RESPONSE_BYTES)
    );
    let fixture = Fixture::start(move |_: &Seen| Reply::json(huge.clone())).await;
    let transport = Transport::new().unwrap();
    let kms = KmsClient::new(
        &transport,
        &alibaba(&fixture.base, AlibabaSignatureVersion::V3, false),
    )
    .unwrap();
    let err = kms.describe_certificate("c1").await.unwrap_err();
    assert_eq!(err.code, local_code::RESPONSE_TOO_LARGE, "{err:?}");
    assert!(err.message.contains("16 MiB"), "{}", err.message);
}

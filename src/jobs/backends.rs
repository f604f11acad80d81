//! The real clouds behind [`Backend`]: for every service, the one code that reads an item's status
//! and the one code that applies a change to it, used alike by single changes (window, CLI) and
//! bulk jobs. [`CloudBackend::new`] is the one factory: the CLI and the window build it from the
//! same client configurations.

use super::{Applied, Backend, BulkItem, ChangeRequest, ServedCertificate};
use crate::cloud::{
    AlibabaClientConfig, CdnClient, CdnSslChange, EsaClient, HuaweiClientConfig, IotdaClient,
    IotdaStatus, KmsCertificateStatus, KmsClient, PcaClient, SiteId, SslClient, Transport,
    VodClient, cdn, esa, iotda, kms, pca, vod,
};
use crate::model::error::local_code;
use crate::model::{CertStatus, Change, Error, ErrorKind, Provider, Service};
use futures_util::future::BoxFuture;

/// The clients of one Alibaba Cloud account.
#[derive(Debug, Clone)]
pub struct AlibabaClients {
    /// KMS 2016-01-20.
    pub kms: KmsClient,
    /// Private CA (cas 2020-06-30).
    pub pca: PcaClient,
    /// ESA 2024-09-10.
    pub esa: EsaClient,
    /// VOD 2017-03-21.
    pub vod: VodClient,
    /// CDN 2018-05-10.
    pub cdn: CdnClient,
    /// The SSL certificate repository (cas 2020-04-07) of the profile's site.
    pub ssl: SslClient,
}

impl AlibabaClients {
    /// Clients for `config` over `transport`.
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(AlibabaClients {
            kms: KmsClient::new(transport, config)?,
            pca: PcaClient::new(transport, config)?,
            esa: EsaClient::new(transport, config)?,
            vod: VodClient::new(transport, config)?,
            cdn: CdnClient::new(transport, config)?,
            ssl: SslClient::new(transport, config)?,
        })
    }
}

/// Every service of the configured accounts. An account that is not configured (or whose
/// endpoint is unusable) fails the calls of its services only, with the reason.
#[derive(Debug, Clone)]
pub struct CloudBackend {
    alibaba: Result<AlibabaClients, Error>,
    huawei: Result<IotdaClient, Error>,
}

impl CloudBackend {
    /// The one factory. `transport` decides the retries: the window and the CLI's single changes
    /// pass their retrying transport, bulk jobs one with [`crate::cloud::RetryPolicy::none`]
    /// (the engine retries, journaling each attempt).
    pub fn new(
        transport: &Transport,
        alibaba: Option<&AlibabaClientConfig>,
        huawei: Option<&HuaweiClientConfig>,
    ) -> Self {
        CloudBackend {
            alibaba: alibaba.map_or_else(
                || Err(Error::no_account(Provider::Alibaba)),
                |c| AlibabaClients::new(transport, c),
            ),
            huawei: huawei.map_or_else(
                || Err(Error::no_account(Provider::Huawei)),
                |c| IotdaClient::new(transport, c),
            ),
        }
    }

    /// The Alibaba clients, or why there are none.
    pub fn alibaba(&self) -> Result<&AlibabaClients, Error> {
        self.alibaba.as_ref().map_err(Clone::clone)
    }

    /// The IoTDA client, or why there is none.
    pub fn iotda(&self) -> Result<&IotdaClient, Error> {
        self.huawei.as_ref().map_err(Clone::clone)
    }

    /// `true` when `service`'s account is configured.
    pub fn has_account(&self, service: Service) -> bool {
        self.has_account_of(service.provider())
    }

    /// `true` when an account of `provider` is configured.
    pub fn has_account_of(&self, provider: Provider) -> bool {
        match provider {
            Provider::Alibaba => self.alibaba.is_ok(),
            Provider::Huawei => self.huawei.is_ok(),
        }
    }
}

/// A backend whose account could not be set up: every call fails with why.
#[derive(Debug, Clone)]
pub struct Unavailable(pub Error);

impl Backend for Unavailable {
    fn read_status<'a>(&'a self, _item: &'a BulkItem) -> BoxFuture<'a, Result<CertStatus, Error>> {
        Box::pin(async move { Err(self.0.clone()) })
    }

    fn apply<'a>(
        &'a self,
        _item: &'a BulkItem,
        _request: &'a ChangeRequest,
    ) -> BoxFuture<'a, Result<Applied, Error>> {
        Box::pin(async move { Err(self.0.clone()) })
    }
}

/// The service does not offer `change` on its items.
pub fn unsupported(service: Service, change: Change) -> Error {
    Error::local(
        service,
        local_code::UNSUPPORTED,
        format!("{} cannot {} an item", service.label(), change.as_str()),
        ErrorKind::InvalidInput,
    )
}

fn site_of(item: &BulkItem) -> Result<SiteId, Error> {
    item.site_id.map(SiteId).ok_or_else(|| {
        Error::local(
            Service::Esa,
            local_code::MISSING_SITE_ID,
            format!("ESA certificate {} has no site id", item.id),
            ErrorKind::InvalidInput,
        )
    })
}

fn some_request_id(id: String) -> Option<String> {
    (!id.is_empty()).then_some(id)
}

fn applied(status: CertStatus, raw: &str, request_id: String) -> Applied {
    Applied {
        status: Some((status, raw.to_string())),
        request_id: some_request_id(request_id),
        created: None,
    }
}

/// A repository certificate is addressed by its numeric `CertId`.
fn repository_id(item: &BulkItem) -> Result<i64, Error> {
    item.id.trim().parse().map_err(|_| {
        Error::local(
            Service::Ssl,
            local_code::INVALID_REQUEST,
            format!(
                "{:?} is not a repository certificate id (a number such as 12000000)",
                item.id
            ),
            ErrorKind::InvalidInput,
        )
    })
}

/// A token for the repository's idempotent calls: the transport's retries of one call repeat it,
/// so a retried upload whose first answer was lost does not create a second certificate.
fn client_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What a domain serves, from the fields CDN and VOD describe alike. `None` when the domain never
/// had a certificate (no PEM, no name, no id).
fn served(
    row: crate::model::CertificateRow,
    cert_type: &str,
    cert_id: Option<i64>,
    cert_region: &str,
    name: &str,
    common_name: &str,
) -> Option<ServedCertificate> {
    if row.pem.is_none() && name.trim().is_empty() && cert_id.is_none() {
        return None;
    }
    let cas = cert_type.eq_ignore_ascii_case("cas");
    Some(ServedCertificate {
        sha256: row.fingerprint_sha256,
        not_after: row.not_after,
        cas_id: cert_id.filter(|_| cas),
        cas_region: (cas && !cert_region.trim().is_empty()).then(|| cert_region.trim().to_string()),
        cert_type: cert_type.to_string(),
        name: name.to_string(),
        common_name: common_name.to_string(),
        https: row.status == CertStatus::Active,
    })
}

impl Backend for CloudBackend {
    fn read_status<'a>(&'a self, item: &'a BulkItem) -> BoxFuture<'a, Result<CertStatus, Error>> {
        Box::pin(async move {
            match item.service {
                Service::Kms => {
                    let r = self.alibaba()?.kms.describe_certificate(&item.id).await?;
                    Ok(kms::normalize_status(&r.status))
                }
                Service::Pca => {
                    let r = self
                        .alibaba()?
                        .pca
                        .describe_client_certificate(&item.id)
                        .await?;
                    Ok(pca::normalize_status(&r.certificate.certificate.status))
                }
                Service::Esa => {
                    let r = self
                        .alibaba()?
                        .esa
                        .get_client_certificate(site_of(item)?, &item.id)
                        .await?;
                    let raw = if r.status.is_empty() {
                        &r.result.status
                    } else {
                        &r.status
                    };
                    Ok(esa::normalize_status(raw))
                }
                Service::Vod => {
                    let r = self
                        .alibaba()?
                        .vod
                        .describe_vod_domain_certificate_info(&item.id)
                        .await?;
                    Ok(r.cert_infos
                        .cert_info
                        .first()
                        .map_or(CertStatus::Inactive, |i| {
                            vod::normalize_ssl(&i.server_certificate_status)
                        }))
                }
                Service::Iotda => {
                    let r = self.iotda()?.show_device_certificate(&item.id).await?;
                    Ok(iotda::normalize_status(&r.status))
                }
                Service::Cdn => {
                    let r = self
                        .alibaba()?
                        .cdn
                        .describe_domain_certificate_info(&item.id)
                        .await?;
                    Ok(r.cert_infos
                        .cert_info
                        .first()
                        .map_or(CertStatus::Inactive, |i| {
                            cdn::normalize_ssl(&i.server_certificate_status)
                        }))
                }
                Service::Ssl => {
                    // A repository certificate has no status of its own: it exists or it does not.
                    self.alibaba()?
                        .ssl
                        .get_user_certificate_detail(repository_id(item)?, false)
                        .await?;
                    Ok(CertStatus::Active)
                }
                service @ Service::Sts => Err(Error::local(
                    service,
                    local_code::UNSUPPORTED,
                    format!(
                        "{} items have no status certdesk reads yet",
                        service.label()
                    ),
                    ErrorKind::InvalidInput,
                )),
            }
        })
    }

    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        request: &'a ChangeRequest,
    ) -> BoxFuture<'a, Result<Applied, Error>> {
        Box::pin(async move {
            use Change::*;
            let change = request.change();
            match (item.service, request) {
                (Service::Kms, ChangeRequest::Status(Revoke | Disable | Enable)) => {
                    let status = match change {
                        Enable => KmsCertificateStatus::Active,
                        Disable => KmsCertificateStatus::Inactive,
                        _ => KmsCertificateStatus::Revoked,
                    };
                    let r = self
                        .alibaba()?
                        .kms
                        .update_certificate_status(&item.id, status)
                        .await?;
                    Ok(applied(
                        kms::normalize_status(status.as_str()),
                        status.as_str(),
                        r.request_id,
                    ))
                }
                (
                    Service::Kms,
                    ChangeRequest::UploadCertificate {
                        certificate_pem,
                        chain_pem,
                    },
                ) => {
                    let r = self
                        .alibaba()?
                        .kms
                        .upload_certificate(&item.id, certificate_pem, chain_pem.as_deref())
                        .await?;
                    Ok(applied(CertStatus::Active, "ACTIVE", r.request_id))
                }
                (Service::Pca, ChangeRequest::Status(Revoke)) => {
                    let r = self
                        .alibaba()?
                        .pca
                        .create_revoke_client_certificate(&item.id)
                        .await?;
                    Ok(applied(CertStatus::Revoked, "REVOKE", r.request_id))
                }
                (Service::Esa, ChangeRequest::Status(Revoke)) => {
                    let r = self
                        .alibaba()?
                        .esa
                        .revoke_client_certificate(site_of(item)?, &item.id)
                        .await?;
                    Ok(applied(CertStatus::Revoked, "revoked", r.request_id))
                }
                (Service::Esa, ChangeRequest::Status(Activate)) => {
                    let r = self
                        .alibaba()?
                        .esa
                        .activate_client_certificate(site_of(item)?, &item.id)
                        .await?;
                    Ok(applied(CertStatus::Active, "active", r.request_id))
                }
                (Service::Vod, ChangeRequest::Status(HttpsOff)) => {
                    let r = self
                        .alibaba()?
                        .vod
                        .set_vod_domain_certificate(&item.id, false, None, None, None)
                        .await?;
                    Ok(applied(vod::normalize_ssl("off"), "off", r.request_id))
                }
                (Service::Vod, ChangeRequest::SetCertificate(upload)) => {
                    let cert_name = Some(upload.cert_name.as_str()).filter(|n| !n.is_empty());
                    let r = self
                        .alibaba()?
                        .vod
                        .set_vod_domain_certificate(
                            &item.id,
                            true,
                            cert_name,
                            Some(&upload.certificate_pem),
                            Some(&upload.private_key),
                        )
                        .await?;
                    Ok(applied(CertStatus::Active, "on", r.request_id))
                }
                (Service::Vod, ChangeRequest::SetRepositoryCertificate { cert_id, region }) => {
                    let r = self
                        .alibaba()?
                        .vod
                        .set_vod_domain_ssl_certificate_cas(&item.id, *cert_id, region, None)
                        .await?;
                    Ok(applied(CertStatus::Active, "on", r.request_id))
                }
                (Service::Cdn, ChangeRequest::Status(HttpsOn | HttpsOff)) => {
                    let (ssl, status, raw) = if change == HttpsOn {
                        (CdnSslChange::OnKeepCertificate, CertStatus::Active, "on")
                    } else {
                        (CdnSslChange::Off, CertStatus::Inactive, "off")
                    };
                    let r = self
                        .alibaba()?
                        .cdn
                        .set_cdn_domain_ssl_certificate(&item.id, &ssl)
                        .await?;
                    Ok(applied(status, raw, r.request_id))
                }
                (Service::Cdn, ChangeRequest::SetCertificate(upload)) => {
                    let ssl = CdnSslChange::Upload {
                        cert_name: Some(upload.cert_name.clone()).filter(|n| !n.trim().is_empty()),
                        certificate_pem: upload.certificate_pem.clone(),
                        private_key: upload.private_key.clone(),
                    };
                    let r = self
                        .alibaba()?
                        .cdn
                        .set_cdn_domain_ssl_certificate(&item.id, &ssl)
                        .await?;
                    Ok(applied(CertStatus::Active, "on", r.request_id))
                }
                (Service::Cdn, ChangeRequest::SetRepositoryCertificate { cert_id, region }) => {
                    let ssl = CdnSslChange::Cas {
                        cert_id: *cert_id,
                        cert_region: region.clone(),
                        cert_name: None,
                    };
                    let r = self
                        .alibaba()?
                        .cdn
                        .set_cdn_domain_ssl_certificate(&item.id, &ssl)
                        .await?;
                    Ok(applied(CertStatus::Active, "on", r.request_id))
                }
                (Service::Ssl, ChangeRequest::UploadRepositoryCertificate(upload)) => {
                    let r = self
                        .alibaba()?
                        .ssl
                        .upload_user_certificate(
                            &upload.cert_name,
                            &upload.certificate_pem,
                            &upload.private_key,
                            Some(&client_token()),
                        )
                        .await?;
                    Ok(Applied {
                        created: r.cert_id.map(|id| id.to_string()),
                        ..applied(CertStatus::Active, "ISSUED", r.request_id)
                    })
                }
                (Service::Ssl, ChangeRequest::Status(DeleteCertificate)) => {
                    let r = self
                        .alibaba()?
                        .ssl
                        .delete_user_certificate(repository_id(item)?, Some(&client_token()))
                        .await?;
                    Ok(Applied {
                        status: None,
                        request_id: some_request_id(r.request_id),
                        created: None,
                    })
                }
                (Service::Iotda, ChangeRequest::Status(Disable | Enable)) => {
                    let status = if change == Enable {
                        IotdaStatus::Active
                    } else {
                        IotdaStatus::Inactive
                    };
                    let c = self
                        .iotda()?
                        .update_device_certificate_status(&item.id, status)
                        .await?;
                    let raw = if c.status.is_empty() {
                        status.as_str().to_string()
                    } else {
                        c.status
                    };
                    // IoTDA answers with the certificate, not a request id; the id is in the
                    // X-Request-Id header, which the client keeps for errors only.
                    Ok(Applied {
                        status: Some((iotda::normalize_status(&raw), raw)),
                        request_id: None,
                        created: None,
                    })
                }
                (Service::Iotda, ChangeRequest::Status(Delete)) => {
                    self.iotda()?.delete_device_certificate(&item.id).await?;
                    Ok(Applied::default())
                }
                (service, _) => Err(unsupported(service, change)),
            }
        })
    }

    fn serving<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<Option<ServedCertificate>, Error>> {
        Box::pin(async move {
            match item.service {
                Service::Cdn => {
                    let r = self
                        .alibaba()?
                        .cdn
                        .describe_domain_certificate_info(&item.id)
                        .await?;
                    Ok(r.cert_infos.cert_info.first().and_then(|i| {
                        served(
                            i.to_row(),
                            &i.cert_type,
                            i.cas_cert_id(),
                            &i.cert_region,
                            &i.cert_name,
                            &i.cert_domain_name,
                        )
                    }))
                }
                Service::Vod => {
                    let r = self
                        .alibaba()?
                        .vod
                        .describe_vod_domain_certificate_info(&item.id)
                        .await?;
                    Ok(r.cert_infos.cert_info.first().and_then(|i| {
                        served(
                            i.to_row(),
                            &i.cert_type,
                            i.cas_cert_id(),
                            &i.cert_region,
                            &i.cert_name,
                            &i.cert_domain_name,
                        )
                    }))
                }
                service => Err(Error::local(
                    service,
                    local_code::UNSUPPORTED,
                    format!("{} items do not serve certificates", service.label()),
                    ErrorKind::InvalidInput,
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unconfigured_cloud_fails_its_services_only() {
        let transport = Transport::new().unwrap();
        let backend = CloudBackend::new(&transport, None, None);
        assert!(!backend.has_account(Service::Pca));
        let e = backend.alibaba().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("Alibaba Cloud"), "{e}");
    }

    #[test]
    fn changes_a_service_does_not_offer_are_refused_before_sending() {
        let transport = Transport::new().unwrap();
        let backend = CloudBackend::new(&transport, None, None);
        let item = BulkItem {
            service: Service::Pca,
            id: "x".into(),
            site_id: None,
            name: String::new(),
        };
        let request = ChangeRequest::Status(Change::Disable);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let e = rt.block_on(backend.apply(&item, &request)).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.kind),
            (local_code::UNSUPPORTED, ErrorKind::InvalidInput)
        );
    }
}

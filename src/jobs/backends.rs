//! The real clouds behind [`Backend`]: for every service, the one code that reads an item's status
//! and the one code that applies a change to it, used alike by single changes (window, CLI) and
//! bulk jobs. [`CloudBackend::new`] is the one factory: the CLI and the window build it from the
//! same client configurations.

use super::{Applied, Backend, BulkItem, ChangeRequest};
use crate::cloud::{
    AlibabaClientConfig, EsaClient, HuaweiClientConfig, IotdaClient, IotdaStatus,
    KmsCertificateStatus, KmsClient, PcaClient, SiteId, Transport, VodClient, esa, iotda, kms, pca,
    vod,
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
}

impl AlibabaClients {
    /// Clients for `config` over `transport`.
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(AlibabaClients {
            kms: KmsClient::new(transport, config)?,
            pca: PcaClient::new(transport, config)?,
            esa: EsaClient::new(transport, config)?,
            vod: VodClient::new(transport, config)?,
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
    }
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
                service @ (Service::Cdn | Service::Ssl | Service::Sts) => Err(Error::local(
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

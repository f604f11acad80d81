//! The real clouds behind [`BulkBackend`]: each service's status read and status change, mapped
//! onto the engine's vocabulary. One small adapter per service; the engine stays provider-neutral.

use super::{BulkBackend, BulkItem, BulkOperation, ItemError};
use crate::cloud::{
    CloudError, ErrorClass, EsaClient, IotdaClient, IotdaStatus, KmsCertificateStatus, KmsClient,
    PcaClient, SiteId, esa, iotda, kms, pca,
};
use crate::model::CertStatus;
use futures_util::future::BoxFuture;

impl From<CloudError> for ItemError {
    fn from(e: CloudError) -> Self {
        ItemError {
            retryable: e.is_retryable(),
            not_found: e.class == ErrorClass::NotFound,
            code: e.code,
            message: e.message,
            request_id: e.request_id,
            http_status: e.http_status,
            retry_after: e.retry_after,
        }
    }
}

fn unsupported(item: &BulkItem, operation: BulkOperation) -> ItemError {
    ItemError::local(
        "certdesk.UnsupportedOperation",
        format!("{} does not support {operation}", item.service),
    )
}

fn missing_site(item: &BulkItem) -> ItemError {
    ItemError::local(
        "MissingSiteId",
        format!("ESA certificate {} has no site id", item.id),
    )
}

fn some_request_id(id: String) -> Option<String> {
    (!id.is_empty()).then_some(id)
}

/// KMS certificates: DescribeCertificate / UpdateCertificateStatus.
pub struct KmsBulk(pub KmsClient);

impl BulkBackend for KmsBulk {
    fn read_status<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<CertStatus, ItemError>> {
        Box::pin(async move {
            let r = self.0.describe_certificate(&item.id).await?;
            Ok(kms::normalize_status(&r.status))
        })
    }
    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        operation: BulkOperation,
    ) -> BoxFuture<'a, Result<Option<String>, ItemError>> {
        Box::pin(async move {
            let status = match operation {
                BulkOperation::Revoke => KmsCertificateStatus::Revoked,
                BulkOperation::Disable => KmsCertificateStatus::Inactive,
                BulkOperation::Enable => KmsCertificateStatus::Active,
                BulkOperation::Activate => return Err(unsupported(item, operation)),
            };
            let r = self.0.update_certificate_status(&item.id, status).await?;
            Ok(some_request_id(r.request_id))
        })
    }
}

/// Private CA certificates: DescribeClientCertificate / CreateRevokeClientCertificate.
pub struct PcaBulk(pub PcaClient);

impl BulkBackend for PcaBulk {
    fn read_status<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<CertStatus, ItemError>> {
        Box::pin(async move {
            let r = self.0.describe_client_certificate(&item.id).await?;
            Ok(pca::normalize_status(&r.certificate.certificate.status))
        })
    }
    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        operation: BulkOperation,
    ) -> BoxFuture<'a, Result<Option<String>, ItemError>> {
        Box::pin(async move {
            if operation != BulkOperation::Revoke {
                return Err(unsupported(item, operation));
            }
            let r = self.0.create_revoke_client_certificate(&item.id).await?;
            Ok(some_request_id(r.request_id))
        })
    }
}

/// ESA client certificates: GetClientCertificate / RevokeClientCertificate / ActivateClientCertificate.
pub struct EsaBulk(pub EsaClient);

impl BulkBackend for EsaBulk {
    fn read_status<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<CertStatus, ItemError>> {
        Box::pin(async move {
            let site = item.site_id.ok_or_else(|| missing_site(item))?;
            let r = self
                .0
                .get_client_certificate(SiteId(site), &item.id)
                .await?;
            let raw = if r.status.is_empty() {
                &r.result.status
            } else {
                &r.status
            };
            Ok(esa::normalize_status(raw))
        })
    }
    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        operation: BulkOperation,
    ) -> BoxFuture<'a, Result<Option<String>, ItemError>> {
        Box::pin(async move {
            let site = SiteId(item.site_id.ok_or_else(|| missing_site(item))?);
            let r = match operation {
                BulkOperation::Revoke => self.0.revoke_client_certificate(site, &item.id).await?,
                BulkOperation::Activate => {
                    self.0.activate_client_certificate(site, &item.id).await?
                }
                BulkOperation::Disable | BulkOperation::Enable => {
                    return Err(unsupported(item, operation));
                }
            };
            Ok(some_request_id(r.request_id))
        })
    }
}

/// IoTDA device certificates: ShowDeviceCertificate / UpdateDeviceCertificate.
pub struct IotdaBulk(pub IotdaClient);

impl BulkBackend for IotdaBulk {
    fn read_status<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<CertStatus, ItemError>> {
        Box::pin(async move {
            let r = self.0.show_device_certificate(&item.id).await?;
            Ok(iotda::normalize_status(&r.status))
        })
    }
    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        operation: BulkOperation,
    ) -> BoxFuture<'a, Result<Option<String>, ItemError>> {
        Box::pin(async move {
            let status = match operation {
                BulkOperation::Disable => IotdaStatus::Inactive,
                BulkOperation::Enable => IotdaStatus::Active,
                BulkOperation::Revoke | BulkOperation::Activate => {
                    return Err(unsupported(item, operation));
                }
            };
            // IoTDA answers with the certificate, not a request id; the id is in the X-Request-Id
            // header, which the client only keeps for errors.
            self.0
                .update_device_certificate_status(&item.id, status)
                .await?;
            Ok(None)
        })
    }
}

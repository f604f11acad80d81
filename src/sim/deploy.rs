//! What the SSL certificate repository (cas 2020-04-07) and the services that serve its
//! certificates (CDN, VOD) share, so neither has to know the other: a repository certificate
//! handed to CDN for `SetCdnDomainSSLCertificate` with `CertType=cas`, a deployment (a domain that
//! serves a repository certificate) as `ListCloudResources` and `DeleteUserCertificate` see it,
//! and the check of an uploaded certificate and private key that CDN and VOD both run.
//! Knows nothing about HTTP, accounts or how a service stores its domains.

use super::errors::ApiError;
use super::pki::{self, CertInfo};
use std::sync::Arc;
use time::OffsetDateTime;

/// The two sites of the SSL Certificates Service (`CertRegion` of CDN, the suffix of a
/// `CertIdentifier`): the China site and the international site.
pub(crate) const SSL_SITES: [&str; 2] = ["cn-hangzhou", "ap-southeast-1"];

/// A certificate of the repository, as a domain that deploys it keeps it.
#[derive(Debug, Clone)]
pub(crate) struct RepoCert {
    /// `CertId` in the repository.
    pub id: i64,
    /// The repository name of the certificate.
    pub name: String,
    /// The repository site (`cn-hangzhou` or `ap-southeast-1`).
    pub site: &'static str,
    /// The certificate itself.
    pub info: Arc<CertInfo>,
}

/// One domain serving (or configured with) a repository certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deployment {
    /// The repository certificate.
    pub cert_id: i64,
    /// Its repository site.
    pub cert_site: &'static str,
    /// `CDN` or `VOD` (the `CloudProduct` names of ListCloudResources).
    pub product: &'static str,
    /// A stable id of the (product, domain) resource.
    pub resource_id: i64,
    /// The domain.
    pub domain: String,
    /// The region of the service (`cn-shanghai` for VOD; the CDN endpoint's region).
    pub region: String,
    /// HTTPS currently on.
    pub https: bool,
    /// When the certificate was set on the domain.
    pub since: OffsetDateTime,
}

/// Checks an uploaded certificate (`public`, parameter `public_name`) and private key (`private`,
/// parameter `private_name`) as CDN and VOD do: a PEM X.509 certificate, a readable private key,
/// and the key must be the certificate's. The codes are VOD's (the CDN 9.2.0 SDK documents none).
pub(crate) fn check_uploaded_pair(
    public: Option<&str>,
    public_name: &str,
    private: Option<&str>,
    private_name: &str,
) -> Result<CertInfo, ApiError> {
    let public = public.ok_or_else(|| {
        ApiError::new(
            400,
            &format!("{public_name}.MissingParameter"),
            format!("The {public_name} parameter is required when SSLProtocol is on."),
        )
    })?;
    let private = private.ok_or_else(|| {
        ApiError::new(
            400,
            &format!("{private_name}.MissingParameter"),
            format!("The {private_name} parameter is required when SSLProtocol is on."),
        )
    })?;
    let info = CertInfo::from_pem(public).map_err(|_| {
        ApiError::new(
            400,
            "InvalidCertificate",
            format!("The certificate ({public_name}) is not a valid PEM X.509 certificate."),
        )
    })?;
    let key_public = pki::private_key_public_raw(private).map_err(|_| {
        ApiError::new(
            400,
            &format!("{private_name}.Malformed"),
            format!("The private key ({private_name}) is malformed."),
        )
    })?;
    if key_public != info.public_key_raw {
        return Err(ApiError::new(
            400,
            "Certificate.MissMatch",
            "The certificate and the private key do not match.",
        ));
    }
    Ok(info)
}

//! The change vocabulary: every change certdesk can make to something in a cloud, with one stable
//! lower-case code. Status buttons, bulk jobs, the CLI, the journal, the audit log and CSV exports
//! all name a change by this code, so the same change is written with the same word wherever it
//! was started. Plain data: knows nothing of clouds, jobs or the UI.

use super::{CertStatus, Service};
use std::fmt;
use std::str::FromStr;

/// One change certdesk can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    /// Revoke (final): KMS REVOKED, private CA CreateRevokeClientCertificate, ESA revoke.
    Revoke,
    /// Disable without revoking: KMS and IoTDA INACTIVE.
    Disable,
    /// Enable again: KMS and IoTDA ACTIVE.
    Enable,
    /// Activate a revoked ESA client certificate again (ActivateClientCertificate).
    Activate,
    /// Delete: IoTDA device certificates.
    Delete,
    /// Switch HTTPS on for a domain with the certificate it already has.
    HttpsOn,
    /// Switch HTTPS off for a domain.
    HttpsOff,
    /// Put a certificate (and its key, or a repository certificate) on a domain, HTTPS on.
    SetCertificate,
    /// Upload a signed certificate: KMS UploadCertificate of a PENDING certificate, or a
    /// certificate uploaded to a certificate repository.
    UploadCertificate,
    /// Create a certificate (KMS CreateCertificate: a key pair and its CSR).
    CreateCertificate,
    /// Delete a certificate from a certificate repository.
    DeleteCertificate,
}

/// A code that names no change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown change {0:?} (one of: {list})", list = Change::codes())]
pub struct UnknownChange(pub String);

impl Change {
    /// Every change, in a stable order.
    pub const ALL: [Change; 11] = [
        Change::Revoke,
        Change::Disable,
        Change::Enable,
        Change::Activate,
        Change::Delete,
        Change::HttpsOn,
        Change::HttpsOff,
        Change::SetCertificate,
        Change::UploadCertificate,
        Change::CreateCertificate,
        Change::DeleteCertificate,
    ];

    /// The stable lower-case code (journal, audit log, CSV, CLI).
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Revoke => "revoke",
            Change::Disable => "disable",
            Change::Enable => "enable",
            Change::Activate => "activate",
            Change::Delete => "delete",
            Change::HttpsOn => "https-on",
            Change::HttpsOff => "https-off",
            Change::SetCertificate => "set-certificate",
            Change::UploadCertificate => "upload-certificate",
            Change::CreateCertificate => "create-certificate",
            Change::DeleteCertificate => "delete-certificate",
        }
    }

    fn codes() -> String {
        Change::ALL.map(Change::as_str).join(", ")
    }

    /// Button and menu text.
    pub fn label(self) -> &'static str {
        match self {
            Change::Revoke => "Revoke",
            Change::Disable => "Disable",
            Change::Enable => "Enable",
            Change::Activate => "Activate",
            Change::Delete => "Delete",
            Change::HttpsOn => "Turn HTTPS on",
            Change::HttpsOff => "Turn HTTPS off",
            Change::SetCertificate => "Replace certificate",
            Change::UploadCertificate => "Upload certificate",
            Change::CreateCertificate => "Create certificate",
            Change::DeleteCertificate => "Delete certificate",
        }
    }

    /// Past tense, for result messages ("3 certificates revoked").
    pub fn done(self) -> &'static str {
        match self {
            Change::Revoke => "revoked",
            Change::Disable => "disabled",
            Change::Enable => "enabled",
            Change::Activate => "activated",
            Change::Delete => "deleted",
            Change::HttpsOn => "HTTPS switched on",
            Change::HttpsOff => "HTTPS switched off",
            Change::SetCertificate => "certificate installed, HTTPS on",
            Change::UploadCertificate => "certificate uploaded",
            Change::CreateCertificate => "certificate created",
            Change::DeleteCertificate => "certificate deleted",
        }
    }

    /// `true` when nothing certdesk can do brings the previous state back.
    pub fn is_irreversible(self) -> bool {
        matches!(
            self,
            Change::Revoke | Change::Delete | Change::DeleteCertificate
        )
    }

    /// The change that undoes this one, where the provider offers one.
    pub fn inverse(self) -> Option<Change> {
        match self {
            Change::Disable => Some(Change::Enable),
            Change::Enable => Some(Change::Disable),
            Change::HttpsOn => Some(Change::HttpsOff),
            Change::HttpsOff => Some(Change::HttpsOn),
            _ => None,
        }
    }

    /// The change that undoes this one on `service`'s items, where the provider offers one; the
    /// service decides: ESA's activate brings a revoked client certificate back (and revoke undoes
    /// an activate), KMS and the private CA have no way back from revoke, and VOD switches HTTPS
    /// on only together with a certificate and its key, so its https-off has no plain inverse.
    /// A certificate change (set-certificate) is undone per item from what the domain served
    /// before (see `jobs::rotation`), not by a change of its own, so it is `None` here.
    pub fn inverse_on(self, service: Service) -> Option<Change> {
        if !self.supported_by(service) {
            return None;
        }
        let inverse = match (service, self) {
            (Service::Esa, Change::Revoke) => Some(Change::Activate),
            (Service::Esa, Change::Activate) => Some(Change::Revoke),
            (_, change) => change.inverse(),
        }?;
        inverse.supported_by(service).then_some(inverse)
    }

    /// Whether this change can be undone on `service`'s items by certdesk: the reversible /
    /// irreversible label of every confirmation. Set-certificate is reversible per domain only
    /// when the certificate it replaces is in the certificate repository; this answers for the
    /// change as such (`false`: it depends on the item).
    pub fn reversible_on(self, service: Service) -> bool {
        self.inverse_on(service).is_some()
    }

    /// The status an item has once this change succeeded; `None` where the change does not
    /// end in one status (delete, certificate changes, create).
    pub fn target_status(self) -> Option<CertStatus> {
        match self {
            Change::Revoke => Some(CertStatus::Revoked),
            Change::Disable | Change::HttpsOff => Some(CertStatus::Inactive),
            Change::Enable | Change::Activate | Change::HttpsOn => Some(CertStatus::Active),
            _ => None,
        }
    }

    /// Whether `service` offers this change on its items at all.
    pub fn supported_by(self, service: Service) -> bool {
        use Change::*;
        match service {
            Service::Kms => matches!(
                self,
                Revoke | Disable | Enable | UploadCertificate | CreateCertificate
            ),
            Service::Pca => matches!(self, Revoke),
            Service::Esa => matches!(self, Revoke | Activate),
            // VOD switches HTTPS on only with a certificate (SetVodDomainCertificate requires
            // SSLPub with SSLProtocol=on): that is set-certificate.
            Service::Vod => matches!(self, HttpsOff | SetCertificate),
            Service::Iotda => matches!(self, Disable | Enable | Delete),
            // CDN switches HTTPS on again with the certificate it has configured
            // (SetCdnDomainSSLCertificate with SSLProtocol=on and no certificate).
            Service::Cdn => matches!(self, HttpsOn | HttpsOff | SetCertificate),
            Service::Ssl => matches!(self, UploadCertificate | DeleteCertificate),
            Service::Sts => false,
        }
    }

    /// The status changes a row in `status` offers (its status buttons), in button order.
    pub fn offered(service: Service, status: CertStatus) -> Vec<Change> {
        use CertStatus::*;
        use Change::*;
        match (service, status) {
            (Service::Kms, Active) => vec![Disable, Revoke],
            (Service::Kms, Inactive) => vec![Enable, Revoke],
            (Service::Kms, _) => vec![],
            (Service::Pca, Revoked) => vec![],
            (Service::Pca, _) => vec![Revoke],
            (Service::Esa, Revoked) => vec![Activate],
            (Service::Esa, _) => vec![Revoke],
            (Service::Vod, Active) => vec![HttpsOff],
            // SetVodDomainCertificate needs the certificate and its private key to switch HTTPS
            // on: that is "Replace certificate" (the import flow), not a status button.
            (Service::Vod, _) => vec![],
            (Service::Iotda, Active) => vec![Disable, Delete],
            (Service::Iotda, _) => vec![Enable, Delete],
            (Service::Cdn, Active) => vec![HttpsOff],
            (Service::Cdn, Inactive) => vec![HttpsOn],
            (Service::Cdn, _) => vec![],
            (Service::Ssl | Service::Sts, _) => vec![],
        }
    }

    /// The status changes a bulk job can apply to a selection of `service` rows.
    pub fn bulk_status_changes(service: Service) -> Vec<Change> {
        [
            Change::Revoke,
            Change::Disable,
            Change::Enable,
            Change::Activate,
        ]
        .into_iter()
        .filter(|c| c.supported_by(service))
        .collect()
    }

    /// Whether an item currently in `from` may be moved by this change (checked by dry runs and
    /// before every send). `Ok(false)`: it is already in the target state.
    pub fn transition_from(self, from: CertStatus) -> Result<bool, &'static str> {
        let Some(target) = self.target_status() else {
            return Ok(true);
        };
        if from == target {
            return Ok(false);
        }
        match (self, from) {
            // ESA's activate is the one way back from revoked.
            (Change::Activate, CertStatus::Revoked) => Ok(true),
            (_, CertStatus::Revoked) => Err("revoked certificates cannot change status"),
            (Change::Revoke, CertStatus::Pending) => {
                Err("a pending certificate has nothing to revoke yet")
            }
            (Change::Enable | Change::Disable, CertStatus::Pending) => {
                Err("a pending certificate has no status to change yet")
            }
            (_, CertStatus::Unknown) => Err("its current status is unknown"),
            _ => Ok(true),
        }
    }
}

impl serde::Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Change {
    type Err = UnknownChange;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Change::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownChange(s.to_string()))
    }
}

/// How a change of one item ended: the word in the journal, the audit log and CSV exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// certdesk made the change.
    Applied,
    /// The item was already in the target state: nothing was needed, and certdesk says so.
    Already,
    /// The item's status does not allow the change (nothing was sent).
    NotAllowed,
    /// The provider refused, or retries ran out.
    Failed,
    /// The item was sent before (its answer was lost to a crash or a timeout) and reading its
    /// state back failed or gave a status certdesk cannot interpret: it is held for the user
    /// ("state unknown, not sent") instead of being sent again. A later resume reads it again.
    Held,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 5] = [
        Outcome::Applied,
        Outcome::Already,
        Outcome::NotAllowed,
        Outcome::Failed,
        Outcome::Held,
    ];

    /// The stable lower-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Already => "already",
            Outcome::NotAllowed => "not-allowed",
            Outcome::Failed => "failed",
            Outcome::Held => "held",
        }
    }

    /// Whether the item counts as done successfully.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Applied | Outcome::Already)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = super::UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| super::UnknownCode {
                what: "outcome",
                code: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_has_one_code_that_reads_back() {
        let mut seen = std::collections::HashSet::new();
        for c in Change::ALL {
            assert!(seen.insert(c.as_str()), "{c:?} shares its code");
            assert_eq!(c.as_str().parse::<Change>(), Ok(c));
            assert_eq!(c.as_str(), c.as_str().to_lowercase());
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
        assert!("deactivate".parse::<Change>().is_err());
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(o));
        }
    }

    #[test]
    fn transitions_follow_the_provider_rules() {
        use CertStatus::*;
        assert_eq!(Change::Revoke.transition_from(Active), Ok(true));
        assert_eq!(Change::Revoke.transition_from(Inactive), Ok(true));
        assert_eq!(Change::Revoke.transition_from(Revoked), Ok(false));
        assert!(Change::Enable.transition_from(Revoked).is_err());
        assert_eq!(Change::Disable.transition_from(Inactive), Ok(false));
        // ESA's activate is the way back from revoked.
        assert_eq!(Change::Activate.transition_from(Revoked), Ok(true));
        // A status certdesk cannot read is never "allowed".
        assert!(Change::Revoke.transition_from(Unknown).is_err());
        assert!(Change::Revoke.supported_by(Service::Pca));
        assert!(!Change::Revoke.supported_by(Service::Iotda));
        assert!(!Change::Disable.supported_by(Service::Esa));
        assert_eq!(
            Change::bulk_status_changes(Service::Kms),
            vec![Change::Revoke, Change::Disable, Change::Enable]
        );
    }

    #[test]
    fn buttons_offer_what_the_service_allows() {
        use Change::*;
        assert_eq!(Change::offered(Service::Kms, CertStatus::Revoked), vec![]);
        assert_eq!(
            Change::offered(Service::Iotda, CertStatus::Inactive),
            vec![Enable, Delete]
        );
        assert_eq!(
            Change::offered(Service::Vod, CertStatus::Active),
            vec![HttpsOff]
        );
        for service in Service::ALL {
            for status in CertStatus::ALL {
                for c in Change::offered(service, status) {
                    assert!(c.supported_by(service), "{service:?} {c:?}");
                }
            }
        }
        assert!(Revoke.is_irreversible() && !HttpsOff.is_irreversible());
        assert_eq!(Disable.target_status(), Some(CertStatus::Inactive));
        assert_eq!(Disable.inverse(), Some(Enable));
    }

    #[test]
    fn inverses_depend_on_the_service() {
        use Change::*;
        assert_eq!(Revoke.inverse_on(Service::Esa), Some(Activate));
        assert_eq!(Activate.inverse_on(Service::Esa), Some(Revoke));
        assert_eq!(Revoke.inverse_on(Service::Kms), None);
        assert_eq!(Revoke.inverse_on(Service::Pca), None);
        assert_eq!(Disable.inverse_on(Service::Kms), Some(Enable));
        assert_eq!(Enable.inverse_on(Service::Iotda), Some(Disable));
        assert_eq!(HttpsOn.inverse_on(Service::Cdn), Some(HttpsOff));
        assert_eq!(HttpsOff.inverse_on(Service::Cdn), Some(HttpsOn));
        // VOD switches HTTPS on only with a certificate and its key.
        assert_eq!(HttpsOff.inverse_on(Service::Vod), None);
        assert_eq!(Delete.inverse_on(Service::Iotda), None);
        assert_eq!(DeleteCertificate.inverse_on(Service::Ssl), None);
        assert_eq!(SetCertificate.inverse_on(Service::Cdn), None);
        // Never an inverse the service does not offer, nor for a change it does not offer.
        assert_eq!(Disable.inverse_on(Service::Esa), None);
        for service in Service::EVERY {
            for change in Change::ALL {
                if let Some(inverse) = change.inverse_on(service) {
                    assert!(change.supported_by(service) && inverse.supported_by(service));
                    assert_eq!(
                        inverse.inverse_on(service),
                        Some(change),
                        "{service:?} {change:?}"
                    );
                }
                assert_eq!(
                    change.reversible_on(service),
                    change.inverse_on(service).is_some()
                );
            }
        }
    }
}

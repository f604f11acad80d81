//! Security Token Service 2015-04-01 (alibaba-cdn-cas-sts.md §3.3): AssumeRole, which turns a
//! profile's own credentials into temporary credentials of a RAM role (usually in another
//! account), and GetCallerIdentity (which account and identity a key is). The endpoint is
//! regional, `sts.<region>.aliyuncs.com`. The temporary secret and token are [`Secret`]s, kept in
//! memory only by whoever holds them. Request/response shapes only: refreshing before expiry is
//! the caller's job ([`TemporaryCredentials::expires_within`]).

use super::alibaba::{AlibabaCaller, RpcApi, RpcMethod, param};
use super::error::local_code;
use super::{AlibabaClientConfig, Error, Transport, de};
use crate::credentials::{AlibabaCredentials, Secret};
use crate::model::ErrorKind;
use crate::model::Service;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

const API: RpcApi = RpcApi {
    service: Service::Sts,
    version: "2015-04-01",
    method: RpcMethod::Post,
};

/// What to assume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssumeRoleRequest {
    /// `acs:ram::<account id>:role/<role name>`.
    pub role_arn: String,
    /// 2–64 characters: letters, digits, `. @ - _` (shows in the target account's audit).
    pub role_session_name: String,
    /// Seconds, 900 to the role's `MaxSessionDuration`; the service's default (3600) when `None`.
    pub duration_seconds: Option<u32>,
    /// The role's trust-policy `ExternalId`, when it has one.
    pub external_id: Option<String>,
    /// A session policy (JSON) narrowing the role's permissions.
    pub policy: Option<String>,
}

/// The credentials of AssumeRole as the wire has them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireCredentials {
    #[serde(default, deserialize_with = "de::string")]
    access_key_id: String,
    #[serde(default, deserialize_with = "de::secret")]
    access_key_secret: Secret,
    #[serde(default, deserialize_with = "de::secret")]
    security_token: Secret,
    #[serde(default, deserialize_with = "de::string")]
    expiration: String,
}

/// The role session AssumeRole opened.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumedRoleUser {
    /// `acs:ram::<account id>:assumed-role/<role>/<session>`.
    #[serde(default, deserialize_with = "de::string")]
    pub arn: String,
    /// `<role id>:<session>`.
    #[serde(default, deserialize_with = "de::string")]
    pub assumed_role_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireAssumeRole {
    #[serde(default, deserialize_with = "de::string")]
    request_id: String,
    #[serde(default)]
    credentials: Option<WireCredentials>,
    #[serde(default, deserialize_with = "de::or_default")]
    assumed_role_user: AssumedRoleUser,
    #[serde(default, deserialize_with = "de::string")]
    source_identity: String,
}

/// Temporary credentials of a role. `Debug` shows the AccessKey id and expiry only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryCredentials {
    /// `STS.…` AccessKey id.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret,
    /// Security token (no length limit: the service sets none).
    pub security_token: Secret,
    /// When they stop working.
    pub expiration: OffsetDateTime,
}

impl TemporaryCredentials {
    /// The credentials every Alibaba client takes.
    pub fn to_alibaba_credentials(&self) -> AlibabaCredentials {
        AlibabaCredentials {
            access_key_id: self.access_key_id.clone(),
            access_key_secret: self.access_key_secret.clone(),
            security_token: Some(self.security_token.clone()),
        }
    }

    /// `true` when they expire within `margin` of `now` (time to refresh) or already have.
    pub fn expires_within(&self, margin: time::Duration, now: OffsetDateTime) -> bool {
        self.expiration - now <= margin
    }
}

/// The answer of AssumeRole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRole {
    /// Request id.
    pub request_id: String,
    /// The temporary credentials.
    pub credentials: TemporaryCredentials,
    /// The session.
    pub assumed_role_user: AssumedRoleUser,
    /// `SourceIdentity` (semantics unconfirmed).
    pub source_identity: String,
}

/// GetCallerIdentity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallerIdentity {
    /// Request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
    /// The account the key acts in.
    #[serde(default, deserialize_with = "de::string")]
    pub account_id: String,
    /// The identity's ARN.
    #[serde(default, deserialize_with = "de::string")]
    pub arn: String,
    /// `Account`, `RAMUser`, `AssumedRoleUser` (values unconfirmed).
    #[serde(default, deserialize_with = "de::string")]
    pub identity_type: String,
    /// Principal id.
    #[serde(default, deserialize_with = "de::string")]
    pub principal_id: String,
    /// Role id (assumed roles).
    #[serde(default, deserialize_with = "de::string")]
    pub role_id: String,
    /// User id.
    #[serde(default, deserialize_with = "de::string")]
    pub user_id: String,
}

/// STS client. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct StsClient {
    caller: AlibabaCaller,
}

/// Parses STS's `Expiration`, "displayed in UTC" (ISO 8601 `…Z` in practice; the exact format is
/// unconfirmed, so any RFC 3339 form and the APIs' other layouts are accepted).
fn parse_expiration(text: &str) -> Option<OffsetDateTime> {
    de::parse_datetime(text).and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
}

impl StsClient {
    /// A client for `config` (the region picks `sts.<region>.aliyuncs.com`).
    pub fn new(transport: &Transport, config: &AlibabaClientConfig) -> Result<Self, Error> {
        Ok(StsClient {
            caller: AlibabaCaller::new(transport, config, API)?,
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &super::endpoint::Endpoint {
        self.caller.endpoint()
    }

    /// AssumeRole. Retried like a read (a repeat only mints another set of credentials).
    pub async fn assume_role(&self, request: &AssumeRoleRequest) -> Result<AssumedRole, Error> {
        let mut params = vec![
            param("RoleArn", request.role_arn.as_str()),
            param("RoleSessionName", request.role_session_name.as_str()),
        ];
        if let Some(seconds) = request.duration_seconds {
            params.push(param("DurationSeconds", seconds.to_string()));
        }
        if let Some(id) = request.external_id.as_deref().filter(|x| !x.is_empty()) {
            params.push(param("ExternalId", id));
        }
        if let Some(policy) = request.policy.as_deref().filter(|p| !p.is_empty()) {
            params.push(param("Policy", policy));
        }
        let wire: WireAssumeRole = self.caller.call("AssumeRole", &params, true).await?;
        let invalid = |what: &str| {
            let mut e = Error::local(
                Service::Sts,
                local_code::INVALID_RESPONSE,
                format!("unexpected AssumeRole response: {what}"),
                ErrorKind::Other,
            );
            e.request_id = Some(wire.request_id.clone()).filter(|r| !r.is_empty());
            e
        };
        let creds = wire
            .credentials
            .clone()
            .ok_or_else(|| invalid("no Credentials"))?;
        if creds.access_key_id.is_empty()
            || creds.access_key_secret.is_empty()
            || creds.security_token.is_empty()
        {
            return Err(invalid("incomplete Credentials"));
        }
        let expiration = parse_expiration(&creds.expiration)
            .ok_or_else(|| invalid(&format!("Expiration {:?}", creds.expiration)))?;
        Ok(AssumedRole {
            request_id: wire.request_id,
            credentials: TemporaryCredentials {
                access_key_id: creds.access_key_id,
                access_key_secret: creds.access_key_secret,
                security_token: creds.security_token,
                expiration,
            },
            assumed_role_user: wire.assumed_role_user,
            source_identity: wire.source_identity,
        })
    }

    /// GetCallerIdentity: which account and identity the client's credentials are.
    pub async fn get_caller_identity(&self) -> Result<CallerIdentity, Error> {
        self.caller.call("GetCallerIdentity", &[], true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_parses_tolerantly_and_secrets_stay_hidden() {
        let t = parse_expiration("2030-01-02T03:04:05Z").unwrap();
        assert_eq!(t.unix_timestamp(), 1_893_553_445);
        assert_eq!(
            parse_expiration("2030-01-02T11:04:05+08:00").map(|t| t.unix_timestamp()),
            Some(1_893_553_445)
        );
        assert!(parse_expiration("tomorrow").is_none());
        let creds = TemporaryCredentials {
            access_key_id: "STS.abc".into(),
            access_key_secret: Secret::new("very-secret"),
            security_token: Secret::new("token-value"),
            expiration: t,
        };
        let shown = format!("{creds:?}");
        assert!(shown.contains("STS.abc"));
        assert!(!shown.contains("very-secret") && !shown.contains("token-value"));
        assert!(creds.expires_within(time::Duration::minutes(5), t - time::Duration::minutes(4)));
        assert!(!creds.expires_within(time::Duration::minutes(5), t - time::Duration::minutes(6)));
        let alibaba = creds.to_alibaba_credentials();
        assert_eq!(alibaba.security_token.unwrap().expose(), "token-value");
    }
}

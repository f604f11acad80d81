//! Security Token Service 2015-04-01 (alibaba-cdn-cas-sts.md §3.3): AssumeRole, which turns a
//! profile's own credentials into temporary credentials of a RAM role (usually in another
//! account), and GetCallerIdentity (which account and identity a key is). The endpoint is
//! regional, `sts.<region>.aliyuncs.com`. The temporary secret and token are [`Secret`]s, kept in
//! memory only by whoever holds them. [`RoleSession`] keeps a role's credentials fresh: it assumes
//! the role again before they expire.

use super::alibaba::{AlibabaCaller, CredentialSource, RpcApi, RpcMethod, param};
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

/// The temporary credentials of a RAM role, assumed with a source account's key and assumed
/// again before they expire. Held in memory only (never in a file or the keyring); every client
/// of the role's account signs with [`RoleSession::credentials`].
pub struct RoleSession {
    sts: StsClient,
    request: AssumeRoleRequest,
    cached: tokio::sync::Mutex<Option<TemporaryCredentials>>,
}

impl std::fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSession")
            .field("role_arn", &self.request.role_arn)
            .field("session", &self.request.role_session_name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for RoleSession {
    fn eq(&self, other: &Self) -> bool {
        self.request == other.request
    }
}

impl Eq for RoleSession {}

/// Temporary credentials are assumed again when they expire within this margin (or within a
/// third of their lifetime, for short sessions).
const REFRESH_MARGIN: time::Duration = time::Duration::minutes(5);

/// The account id in a role ARN (`acs:ram::<account id>:role/<name>`), when it has that shape.
pub fn role_account(role_arn: &str) -> Option<&str> {
    let rest = role_arn.strip_prefix("acs:ram::")?;
    let (account, role) = rest.split_once(':')?;
    (role.starts_with("role/") && !account.is_empty()).then_some(account)
}

impl CredentialSource for RoleSession {
    fn credentials(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<AlibabaCredentials, Error>> + Send + '_>,
    > {
        Box::pin(RoleSession::credentials(self))
    }

    fn describe(&self) -> String {
        format!("role {}", self.request.role_arn)
    }

    fn identity(&self) -> String {
        format!(
            "{} {} {}",
            self.request.role_arn,
            self.request.external_id.as_deref().unwrap_or(""),
            self.request.role_session_name
        )
    }
}

impl RoleSession {
    /// A session that assumes `request` with the credentials of `source` (its region picks the
    /// STS endpoint). Nothing is sent until the first [`RoleSession::credentials`].
    pub fn new(
        transport: &Transport,
        source: &AlibabaClientConfig,
        request: AssumeRoleRequest,
    ) -> Result<Self, Error> {
        Ok(RoleSession {
            sts: StsClient::new(transport, source)?,
            request,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// The role this session assumes.
    pub fn role_arn(&self) -> &str {
        &self.request.role_arn
    }

    /// Credentials of the role: the cached ones while they last, else a new AssumeRole. An error
    /// names the role, its account and why (not authorised, unknown role, bad ExternalId…).
    pub async fn credentials(&self) -> Result<AlibabaCredentials, Error> {
        let mut cached = self.cached.lock().await;
        let now = OffsetDateTime::now_utc();
        if let Some(c) = cached.as_ref() {
            let lifetime = c.expiration - now;
            let margin = REFRESH_MARGIN.min(lifetime / 3);
            if !c.expires_within(margin, now) {
                return Ok(c.to_alibaba_credentials());
            }
        }
        let assumed = self
            .sts
            .assume_role(&self.request)
            .await
            .map_err(|e| self.explain(e))?;
        let credentials = assumed.credentials.to_alibaba_credentials();
        *cached = Some(assumed.credentials);
        Ok(credentials)
    }

    /// Adds which role, which account and what to do to an AssumeRole failure (its kind and code
    /// are kept).
    fn explain(&self, mut e: Error) -> Error {
        let arn = &self.request.role_arn;
        let account = role_account(arn).unwrap_or("?");
        let why = match e.code.as_str() {
            c if c.starts_with("NoPermission") => {
                "the source profile may not assume it: grant its RAM user sts:AssumeRole and check \
                 the role's trust policy"
            }
            c if c.starts_with("EntityNotExist") => "no such role in that account",
            c if c.contains("ExternalId") => {
                "the ExternalId does not match the role's trust policy"
            }
            c if c.contains("DurationSeconds") => {
                "the session duration is outside 900 s and the role's maximum"
            }
            c if c.starts_with("InvalidSecurityToken") => {
                "the source credentials' security token expired"
            }
            _ => "see the provider's message",
        };
        e.message = format!(
            "assuming role {arn} (account {account}) failed: {why} ({})",
            e.message
        );
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_name_their_account() {
        assert_eq!(
            role_account("acs:ram::1234567890123456:role/certdesk-admin"),
            Some("1234567890123456")
        );
        assert_eq!(role_account("acs:ram::1234:user/x"), None);
        assert_eq!(role_account("arn:aws:iam::1:role/x"), None);
    }

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

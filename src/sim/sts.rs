//! Security Token Service 2015-04-01 (alibaba-cdn-cas-sts.md §3.3): AssumeRole into a role of
//! any simulated account (cross-account roles, an `ExternalId` condition, a role only its own
//! account may assume), and GetCallerIdentity. The temporary credentials work against every
//! Alibaba API of the simulator, in the role's account, until they expire.
//!
//! The SDK documents no error code; the simulator answers with STS's usual ones
//! (`EntityNotExist.Role`, `NoPermission`, `InvalidParameter.*`), listed in `docs/simulator.md`.
//! The session `Policy` is checked for JSON but not applied (no RAM policies are simulated).

use super::auth::{AlibabaKey, RoleSession};
use super::data::{Params, iso, object, optional, required};
use super::errors::ApiError;
use super::estate::{Estate, Trust};
use crate::credentials::Secret;
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

const DEFAULT_DURATION: u32 = 3600;

fn invalid(name: &str, message: &str) -> ApiError {
    ApiError::new(400, &format!("InvalidParameter.{name}"), message)
}

fn random(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// Runs one STS action for the caller `key`.
pub(crate) fn handle(
    estate: &Estate,
    key: &AlibabaKey,
    action: &str,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Map<String, Value>, ApiError> {
    match action {
        "AssumeRole" => assume_role(estate, key, params, now),
        "GetCallerIdentity" => Ok(caller_identity(estate, key)),
        _ => Err(ApiError::unknown_action()),
    }
}

fn caller_identity(estate: &Estate, key: &AlibabaKey) -> Map<String, Value> {
    let account = &estate.accounts[key.account].id;
    match &key.session {
        Some(s) => object(json!({
            "AccountId": account,
            "Arn": s.arn,
            "IdentityType": "AssumedRoleUser",
            "PrincipalId": format!("{}:{}", s.role_id, s.session),
            "RoleId": s.role_id,
            "UserId": "",
        })),
        None => object(json!({
            "AccountId": account,
            "Arn": format!("acs:ram::{account}:root"),
            "IdentityType": "Account",
            "PrincipalId": account,
            "RoleId": "",
            "UserId": account,
        })),
    }
}

/// `acs:ram::<account id>:role/<role name>` → (account id, role name).
fn parse_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, role) = rest.split_once(":role/")?;
    (!account.is_empty()
        && account.bytes().all(|b| b.is_ascii_digit())
        && !role.is_empty()
        && !role.contains('/'))
    .then_some((account, role))
}

fn assume_role(
    estate: &Estate,
    caller: &AlibabaKey,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Map<String, Value>, ApiError> {
    let arn = required(params, "RoleArn")?;
    let session = required(params, "RoleSessionName")?;
    let (account_id, role_name) = parse_arn(arn.trim()).ok_or_else(|| {
        invalid(
            "RoleArn",
            "The parameter RoleArn is wrongly formed (acs:ram::<account id>:role/<role name>).",
        )
    })?;
    let session_ok = (2..=64).contains(&session.len())
        && session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".@-_".contains(&b));
    if !session_ok {
        return Err(invalid(
            "RoleSessionName",
            "The parameter RoleSessionName must be 2 to 64 letters, digits, '.', '@', '-' or '_'.",
        ));
    }
    let duration = match optional(params, "DurationSeconds") {
        None => DEFAULT_DURATION,
        Some(text) => text.trim().parse::<u32>().map_err(|_| {
            invalid(
                "DurationSeconds",
                "The parameter DurationSeconds must be an integer.",
            )
        })?,
    };
    let external_id = optional(params, "ExternalId");
    if let Some(x) = external_id {
        let ok = (2..=1224).contains(&x.len())
            && x.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b));
        if !ok {
            return Err(invalid(
                "ExternalId",
                "The parameter ExternalId must be 2 to 1224 characters of [\\w+=,.@:/-].",
            ));
        }
    }
    if let Some(policy) = optional(params, "Policy")
        && (policy.len() > 2048 || serde_json::from_str::<Value>(policy).is_err())
    {
        return Err(invalid(
            "Policy",
            "The parameter Policy must be a JSON policy of 1 to 2048 characters.",
        ));
    }
    let not_found = || {
        ApiError::new(
            404,
            "EntityNotExist.Role",
            format!("The role not exists: {arn}."),
        )
    };
    let owner = estate.account_by_id(account_id).ok_or_else(not_found)?;
    let role = estate.accounts[owner]
        .roles
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(role_name))
        .ok_or_else(not_found)?;
    let denied = |why: &str| {
        ApiError::new(
            403,
            "NoPermission",
            format!(
                "You are not authorized to do this action. You should be authorized by RAM. ({why})"
            ),
        )
    };
    if role.trust == Trust::OwnAccount && caller.account != owner {
        return Err(denied(&format!(
            "the trust policy of {} admits only its own account",
            role.arn
        )));
    }
    if let Some(expected) = &role.external_id
        && external_id != Some(expected.as_str())
    {
        return Err(denied(&format!(
            "the trust policy of {} requires a matching ExternalId",
            role.arn
        )));
    }
    let min = estate.sts_min_duration;
    if duration < min || duration > role.max_session {
        return Err(invalid(
            "DurationSeconds",
            &format!(
                "The Min/Max value of DurationSeconds is {min}s/{}s for {}.",
                role.max_session, role.arn
            ),
        ));
    }
    let expires = now + time::Duration::seconds(i64::from(duration));
    let id = format!("STS.{}", random(25));
    let secret = random(44);
    let token = format!("CAIS{}", random(300));
    let session = Arc::new(RoleSession {
        arn: format!(
            "acs:ram::{}:assumed-role/{}/{session}",
            estate.accounts[owner].id, role.name
        ),
        role_id: role.id.clone(),
        session: session.to_string(),
    });
    let body = object(json!({
        "Credentials": {
            "AccessKeyId": id,
            "AccessKeySecret": secret,
            "SecurityToken": token,
            "Expiration": iso(expires),
        },
        "AssumedRoleUser": {
            "Arn": session.arn,
            "AssumedRoleId": format!("{}:{}", session.role_id, session.session),
        },
        "SourceIdentity": optional(params, "SourceIdentity").unwrap_or_default(),
    }));
    estate.add_temporary(
        AlibabaKey {
            id,
            secret: Secret::new(secret),
            sts_token: Some(Secret::new(token)),
            account: owner,
            expires: Some(expires),
            session: Some(session),
        },
        now,
    );
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_parse() {
        assert_eq!(
            parse_arn("acs:ram::1234567890123456:role/certdesk-admin"),
            Some(("1234567890123456", "certdesk-admin"))
        );
        assert_eq!(parse_arn("acs:ram::12a:role/x"), None);
        assert_eq!(parse_arn("acs:ram::1:user/x"), None);
        assert_eq!(parse_arn("acs:ram::1:role/"), None);
        assert_eq!(parse_arn("arn:aws:iam::1:role/x"), None);
    }
}

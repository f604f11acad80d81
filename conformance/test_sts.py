"""STS 2015-04-01 through alibabacloud-sts20150401 1.2.0, V3 and V1: AssumeRole into a role of the
second simulated account, then official SDK calls with the temporary credentials (they act in
that account), GetCallerIdentity, and the errors: an unknown role or account, a trust policy that
does not admit the caller (ExternalId, own-account role), a duration out of range."""

from __future__ import annotations

import datetime
import uuid

import pytest

from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_sts20150401 import models as sts_models

from referee import alibaba_client, alibaba_error


def assume(sts, arn: str, **kwargs):
    return sts.assume_role(sts_models.AssumeRoleRequest(
        role_arn=arn, role_session_name=kwargs.pop("session", f"conformance-{uuid.uuid4().hex[:6]}"),
        **kwargs)).body


def test_assume_role_then_work_as_the_role(sim, sts, second_account, alibaba_signature):
    me = sts.get_caller_identity().body
    assert (me.account_id, me.identity_type) == (sim.accounts[0].account_id, "Account")

    admin = second_account.role("certdesk-admin")
    body = assume(sts, admin.arn, duration_seconds=900, session="conformance")
    creds = body.credentials
    assert body.request_id and creds.access_key_id.startswith("STS.")
    assert creds.access_key_secret and creds.security_token
    expires = datetime.datetime.strptime(creds.expiration, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 880 < left <= 900, left
    assert body.assumed_role_user.arn == f"acs:ram::{second_account.account_id}:assumed-role/certdesk-admin/conformance"
    assert body.assumed_role_user.assumed_role_id.endswith(":conformance")

    # The temporary credentials through official SDKs (the token in x-acs-security-token for V3,
    # SecurityToken for V1): they are the role, in the second account.
    temporary = {"key_id": creds.access_key_id, "secret": creds.access_key_secret,
                 "security_token": creds.security_token}
    who = alibaba_client("sts", sim, alibaba_signature, **temporary).get_caller_identity().body
    assert (who.account_id, who.identity_type) == (second_account.account_id, "AssumedRoleUser")
    assert who.arn == body.assumed_role_user.arn
    cdn = alibaba_client("cdn", sim, alibaba_signature, **temporary)
    domains = cdn.describe_user_domains(cdn_models.DescribeUserDomainsRequest(page_size=500)).body
    names = [d.domain_name for d in domains.domains.page_data]
    assert names and all(n.endswith(".a2.certdesk-demo.net") for n in names), names

    # Without the token the temporary AccessKey is refused.
    with pytest.raises(Exception) as err:
        alibaba_client("cdn", sim, alibaba_signature, key_id=creds.access_key_id,
                       secret=creds.access_key_secret).describe_user_domains(
            cdn_models.DescribeUserDomainsRequest(page_size=1))
    assert alibaba_error(err)[0] == "MissingSecurityToken"


def test_external_id_and_trust(sts, sim, second_account):
    auditor = second_account.role("certdesk-auditor")
    assert auditor.external_id and auditor.max_session_seconds == 43200
    with pytest.raises(Exception) as err:
        assume(sts, auditor.arn)
    assert alibaba_error(err) == ("NoPermission", 403)
    with pytest.raises(Exception) as err:
        assume(sts, auditor.arn, external_id="certdesk-wrong")
    assert alibaba_error(err) == ("NoPermission", 403)
    long = assume(sts, auditor.arn, external_id=auditor.external_id, duration_seconds=43200)
    assert long.credentials.access_key_id.startswith("STS.")
    private = second_account.role("certdesk-private")
    assert private.own_account_only
    with pytest.raises(Exception) as err:
        assume(sts, private.arn)
    assert alibaba_error(err) == ("NoPermission", 403)
    assume(sts, sim.accounts[0].role("certdesk-private").arn)


@pytest.mark.parametrize("arn, kwargs, expected", [
    ("acs:ram::{account}:role/nobody", {}, ("EntityNotExist.Role", 404)),
    ("acs:ram::9999999999999999:role/certdesk-admin", {}, ("EntityNotExist.Role", 404)),
    ("acs:ram::{account}:user/certdesk-admin", {}, ("InvalidParameter.RoleArn", 400)),
    ("acs:ram::{account}:role/certdesk-admin", {"duration_seconds": 899}, ("InvalidParameter.DurationSeconds", 400)),
    ("acs:ram::{account}:role/certdesk-admin", {"duration_seconds": 3601}, ("InvalidParameter.DurationSeconds", 400)),
    ("acs:ram::{account}:role/certdesk-admin", {"session": "x"}, ("InvalidParameter.RoleSessionName", 400)),
])
def test_errors(sts, second_account, arn, kwargs, expected):
    with pytest.raises(Exception) as err:
        assume(sts, arn.format(account=second_account.account_id), **kwargs)
    assert alibaba_error(err) == expected

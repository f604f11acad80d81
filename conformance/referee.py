"""The official Python SDKs as referee of `certdesk sim`: shared helpers (fixtures are in conftest.py).

`conformance/run.sh` starts the simulator and points `CERTDESK_SIM_LOG` at its output; the suite
reads the listen address and the demo credentials from that banner and builds the official SDK
clients against it: Alibaba Cloud tea-openapi clients with the SDK default signature (V3,
ACS3-HMAC-SHA256) and with V1 (`signature_algorithm='v2'`, HMAC-SHA1), and the Huawei IoTDA
client with the basic signature (SDK-HMAC-SHA256) and with the derived predicate (V11-HMAC-SHA256).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi import utils_models as open_api_util_models
from alibabacloud_kms20160120.client import Client as KmsClient
from alibabacloud_cas20200630.client import Client as CasClient
from alibabacloud_esa20240910.client import Client as EsaClient
from alibabacloud_vod20170321.client import Client as VodClient
from alibabacloud_cdn20180510.client import Client as CdnClient
from alibabacloud_cas20200407.client import Client as SslClient
from alibabacloud_sts20150401.client import Client as StsClient
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkiotda.v5 import IoTDAClient


@dataclass(frozen=True)
class Role:
    """A RAM role of a simulated account (a `role` line of the banner)."""

    arn: str
    max_session_seconds: int
    external_id: str | None
    own_account_only: bool


@dataclass(frozen=True)
class Account:
    """One simulated account, from the banner's machine-readable lines."""

    number: int
    account_id: str
    alibaba_id: str
    alibaba_secret: str
    huawei_ak: str
    huawei_sk: str
    projects: dict  # Huawei region -> (project id, IoTDA instance id)
    roles: tuple

    def role(self, name: str) -> Role:
        return next(r for r in self.roles if r.arn.endswith(f":role/{name}"))


@dataclass(frozen=True)
class Sim:
    """A running simulator: where it listens and the demo credentials it printed."""

    host: str  # "127.0.0.1:PORT", what the Alibaba SDKs take as endpoint
    endpoint: str  # "http://127.0.0.1:PORT"
    alibaba_id: str
    alibaba_secret: str
    huawei_ak: str
    huawei_sk: str
    project_id: str
    region: str
    instance_id: str
    accounts: tuple = field(default=())


def _banner_value(text: str, pattern: str, what: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"the simulator banner does not show {what} (pattern {pattern!r}):\n{text}")
    return match.group(1).strip()


def parse_accounts(text: str) -> tuple:
    """The machine-readable lines: `account <n> alibaba <account id> <AccessKeyId> <secret>`,
    `account <n> huawei <AK> <SK> <project id>`, `project <n> huawei <region> <project> <instance>`,
    `role <n> <arn> <max seconds> <ExternalId or -> <any|own>`."""
    rows: dict[int, dict] = {}
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) < 5 or parts[0] not in ("account", "project", "role") or not parts[1].isdigit():
            continue
        row = rows.setdefault(int(parts[1]), {"projects": {}, "roles": []})
        if parts[0] == "account" and parts[2] == "alibaba" and len(parts) == 6:
            row.update(account_id=parts[3], alibaba_id=parts[4], alibaba_secret=parts[5])
        elif parts[0] == "account" and parts[2] == "huawei" and len(parts) == 6:
            row.update(huawei_ak=parts[3], huawei_sk=parts[4])
        elif parts[0] == "project" and len(parts) == 6:
            row["projects"][parts[3]] = (parts[4], parts[5])
        elif parts[0] == "role" and len(parts) == 6:
            row["roles"].append(Role(parts[2], int(parts[3]), None if parts[4] == "-" else parts[4],
                                     parts[5] == "own"))
    return tuple(Account(number=n, projects=r.pop("projects"), roles=tuple(r.pop("roles")), **r)
                 for n, r in sorted(rows.items()))


def parse_banner(text: str) -> Sim:
    """Reads what `certdesk sim` prints at start."""
    endpoint = _banner_value(text, r"listening on (http://127\.0\.0\.1:\d+)", "the listen address")
    return Sim(
        host=endpoint.removeprefix("http://"),
        endpoint=endpoint,
        alibaba_id=_banner_value(text, r"^\s*ALIBABA_CLOUD_ACCESS_KEY_ID=(\S+)", "the Alibaba AccessKey id"),
        alibaba_secret=_banner_value(text, r"^\s*ALIBABA_CLOUD_ACCESS_KEY_SECRET=(\S+)", "the Alibaba secret"),
        huawei_ak=_banner_value(text, r"^\s*HUAWEICLOUD_SDK_AK=(\S+)", "the Huawei AK"),
        huawei_sk=_banner_value(text, r"^\s*HUAWEICLOUD_SDK_SK=(\S+)", "the Huawei SK"),
        project_id=_banner_value(text, r"^\s*project id (\S+)", "the Huawei project id"),
        region=_banner_value(text, r"^\s*region (\S+)", "the Huawei region"),
        instance_id=_banner_value(text, r"^\s*instance id (\S+)", "the IoTDA instance id"),
        accounts=parse_accounts(text),
    )


def flip_one_byte(secret: str) -> str:
    """The same secret with exactly one byte changed (first character's lowest bit flipped)."""
    first = chr(ord(secret[0]) ^ 0x01)
    return first + secret[1:]


# --------------------------------------------------------------------------------------------
# Alibaba Cloud clients
# --------------------------------------------------------------------------------------------

ALIBABA_SIGNATURES = ["v3", "v1"]


def alibaba_config(sim: Sim, signature: str, *, secret: str | None = None, key_id: str | None = None,
                   region: str = "cn-hangzhou", security_token: str | None = None,
                   region_marker: str | None = None) -> open_api_models.Config:
    """tea-openapi Config aimed at the simulator over plain http on loopback.

    With an endpoint override every region shares one host, and the SDK sends nothing else that
    names the region. `region_marker` names it the simulator's way, through the SDK's own
    `Config.global_parameters`: the header `x-acs-region-id` for V3 (signed, as every `x-acs-*`
    header) or the query parameter `RegionId` for V1 (signed with the query)."""
    config = open_api_models.Config(
        access_key_id=key_id or sim.alibaba_id,
        access_key_secret=secret if secret is not None else sim.alibaba_secret,
        security_token=security_token,
        endpoint=sim.host,
        protocol="HTTP",
        region_id=region,
    )
    if signature == "v1":
        # tea-openapi: signature_algorithm 'v2' selects do_rpcrequest, the HMAC-SHA1 RPC signature.
        config.signature_algorithm = "v2"
    else:
        assert signature == "v3"
    if region_marker:
        config.global_parameters = (
            open_api_util_models.GlobalParameters(queries={"RegionId": region_marker}) if signature == "v1"
            else open_api_util_models.GlobalParameters(headers={"x-acs-region-id": region_marker}))
    return config


ALIBABA_CLIENTS = {"kms": KmsClient, "cas": CasClient, "esa": EsaClient, "vod": VodClient,
                   "cdn": CdnClient, "ssl": SslClient, "sts": StsClient}


def alibaba_client(product: str, sim: Sim, signature: str, **kwargs):
    region = "cn-shanghai" if product == "vod" else "cn-hangzhou"
    kwargs.setdefault("region", region)
    return ALIBABA_CLIENTS[product](alibaba_config(sim, signature, **kwargs))


def account_client(product: str, sim: Sim, account: Account, signature: str, **kwargs):
    """An official client with another simulated account's keys."""
    return alibaba_client(product, sim, signature, key_id=account.alibaba_id, secret=account.alibaba_secret,
                          **kwargs)


def alibaba_error(excinfo) -> tuple[str | None, int | None]:
    """(Code, HTTP status) of a tea-openapi exception."""
    err = excinfo.value
    status = getattr(err, "status_code", None)
    if status is None:
        data = getattr(err, "data", None) or {}
        status = data.get("statusCode") if isinstance(data, dict) else None
    return getattr(err, "code", None), status


# --------------------------------------------------------------------------------------------
# Huawei Cloud IoTDA client
# --------------------------------------------------------------------------------------------

HUAWEI_SIGNINGS = ["basic", "derived"]


def iotda_client(sim: Sim, signing: str, *, sk: str | None = None, ak: str | None = None,
                 project_id: str | None = None, region: str | None = None) -> IoTDAClient:
    """The IoTDA client; another account's keys and another region's project select another
    inventory (the project id names the region, as an IAM project does)."""
    credentials = BasicCredentials(ak or sim.huawei_ak, sk if sk is not None else sim.huawei_sk,
                                   project_id or sim.project_id)
    if signing == "derived":
        # The SDK's own rule: hosts that are not *.myhuaweicloud.com (here: an IP) get V11-HMAC-SHA256.
        credentials = credentials.with_derived_predicate(BasicCredentials.get_default_derived_predicate())
    else:
        assert signing == "basic"
    return (
        IoTDAClient.new_builder()
        .with_credentials(credentials)
        .with_region(Region(region or sim.region, sim.endpoint))
        .build()
    )


# --------------------------------------------------------------------------------------------
# Certificates made here (independent of the simulator's PKI)
# --------------------------------------------------------------------------------------------


class LocalCa:
    """A throw-away EC P-256 CA that signs CSRs and makes leaf certificates with keys."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certdesk conformance"),
            x509.NameAttribute(NameOID.COMMON_NAME, "certdesk conformance CA"),
        ])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def _issue(self, subject: x509.Name, public_key, sans: list[str], days: int) -> x509.Certificate:
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def sign_csr(self, csr_pem: str, days: int = 90) -> x509.Certificate:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        assert csr.is_signature_valid, "the CSR's self-signature does not verify"
        try:
            sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            sans = []
        return self._issue(csr.subject, csr.public_key(), sans, days)

    def leaf(self, common_name: str, days: int = 90) -> tuple[x509.Certificate, str, str]:
        """(certificate, certificate PEM, private key PEM) for `common_name`."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
                           key.public_key(), [common_name], days)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        return cert, cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def load_pem_cert(pem: str) -> x509.Certificate:
    assert pem and "BEGIN CERTIFICATE" in pem, f"not a PEM certificate: {pem!r:.80}"
    return x509.load_pem_x509_certificate(pem.encode())


def common_name(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


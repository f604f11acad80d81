"""certdesk's CLI as the client, the official SDKs' signing code as the judge: the CLI is pointed at
`sdk_verifier` (a loopback server that recomputes every request's signature with the SDK functions
from the decoded wire request) for both clouds, both Alibaba signature versions and both Huawei
signing modes, with parameter values full of characters that encoders get wrong (space, `*`, `~`,
`/`, `+`, `=`, `&`, non-ASCII, newlines of PEM bodies). Every request must verify and every decoded
parameter must equal what the user gave."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import tempfile
from urllib.parse import unquote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from referee import Sim, alibaba_client, flip_one_byte, iotda_client
from sdk_verifier import Keys, Verifier

KEYS = Keys(
    alibaba_id="LTAI5tVerifierKeyId01",
    alibaba_secret="verifier-alibaba-secret/+=~*",
    huawei_ak="HPUAVERIFIERAK000001",
    huawei_sk="verifierHuaweiSecretKey0123456789abcdefgh",
    huawei_region="cn-north-4",
    huawei_service="iotdm",
)
PROJECT_ID = "0123456789abcdef0123456789abcdef"
HARD_ID = "a b*c~d/e+f=g&hé"
HARD_ID_2 = "second id~*/+=&ü\u00a0z"
IOT_ID = "75a0c144-7c3c-4dac-9fd6-8c63dd9e969d"
IOT_HARD_ID = "cert id é~*"
ALIBABA_VERSIONS = {"v3": "ACS3-HMAC-SHA256", "v1": "ACS-V1-HMAC-SHA1"}
HUAWEI_MODES = {"basic": "SDK-HMAC-SHA256", "derived": "V11-HMAC-SHA256"}


@pytest.fixture(scope="module")
def verifier():
    with Verifier(KEYS) as v:
        yield v


def sdk_target(verifier: Verifier) -> Sim:
    """The verifier, described the way referee.py's official SDK clients take a target."""
    return Sim(host=verifier.endpoint.removeprefix("http://"), endpoint=verifier.endpoint,
               alibaba_id=KEYS.alibaba_id, alibaba_secret=KEYS.alibaba_secret, huawei_ak=KEYS.huawei_ak,
               huawei_sk=KEYS.huawei_sk, project_id=PROJECT_ID, region=KEYS.huawei_region, instance_id="")


# Calibration: requests the official SDK clients themselves send must verify, and the decoded
# values must be the ones given, or the verifier (not certdesk) would be wrong.

@pytest.mark.parametrize("version", ["v3", "v1"])
def test_verifier_accepts_official_alibaba_client(verifier, version):
    from alibabacloud_kms20160120 import models as kms_models
    verifier.reset()
    kms = alibaba_client("kms", sdk_target(verifier), version)
    kms.update_certificate_status(kms_models.UpdateCertificateStatusRequest(certificate_id=HARD_ID,
                                                                            status="INACTIVE"))
    assert [(s.algorithm, s.verified, s.params["CertificateId"]) for s in verifier.seen] == [
        (ALIBABA_VERSIONS[version], True, HARD_ID)], [s.detail for s in verifier.seen]


@pytest.mark.parametrize("signing", ["basic", "derived"])
def test_verifier_accepts_official_iotda_client(verifier, signing):
    from huaweicloudsdkiotda.v5 import ListDeviceCertificateRequest
    verifier.reset()
    iotda = iotda_client(sdk_target(verifier), signing)
    iotda.list_device_certificate(ListDeviceCertificateRequest(limit=10, marker=verifier.list_marker))
    assert [(s.algorithm, s.verified, s.params["marker"]) for s in verifier.seen] == [
        (HUAWEI_MODES[signing], True, verifier.list_marker)], [s.detail for s in verifier.seen]


@pytest.fixture(scope="module")
def certdesk() -> str:
    binary = os.environ.get("CERTDESK_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail(f"CERTDESK_BIN does not name the certdesk binary: {binary!r} (run via conformance/run.sh)")
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
    if "pca" not in help_text or "iot" not in help_text:
        pytest.skip("this certdesk build has no headless pca/iot commands yet")
    return binary


def run_cli(binary: str, endpoint: str, args: list[str], *, alibaba_secret: str = KEYS.alibaba_secret,
            huawei_sk: str = KEYS.huawei_sk) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as home:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "CERTDESK_CONFIG_DIR": home,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEYS.alibaba_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": alibaba_secret,
            "HUAWEICLOUD_SDK_AK": KEYS.huawei_ak,
            "HUAWEICLOUD_SDK_SK": huawei_sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT_ID,
        }
        return subprocess.run([binary, "--endpoint", endpoint, *args], env=env, capture_output=True,
                              text=True, timeout=120)


def run_verified(certdesk: str, verifier: Verifier, args: list[str]):
    """Runs the CLI; asserts exit 0 and that every request it sent verified. Returns what was seen."""
    verifier.reset()
    done = run_cli(certdesk, verifier.endpoint, args)
    seen = list(verifier.seen)
    failures = [(s.method, s.path, s.algorithm, s.detail) for s in seen if not s.verified]
    assert not failures, f"the SDK rejected certdesk's signature: {failures}"
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr}{done.stdout}"
    assert seen, "the CLI sent no request to the verifier"
    return seen


def with_action(seen, action: str):
    """The Alibaba requests of `action` (V1: Action parameter; V3: x-acs-action was signed)."""
    found = [s for s in seen if s.params.get("Action", action) == action]
    assert found, f"no {action} request among {[s.params for s in seen]}"
    return found


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_kms_describe_and_set_status(certdesk, verifier, version):
    seen = run_verified(certdesk, verifier, ["--alibaba-signature", version, "kms", "describe", HARD_ID])
    assert {s.algorithm for s in seen} == {ALIBABA_VERSIONS[version]}
    assert all(s.params["CertificateId"] == HARD_ID for s in with_action(seen, "DescribeCertificate"))

    seen = run_verified(certdesk, verifier, ["--alibaba-signature", version, "kms", "set-status", HARD_ID,
                                             "--status", "INACTIVE"])
    assert {s.algorithm for s in seen} == {ALIBABA_VERSIONS[version]}
    updates = [s for s in seen if "Status" in s.params]
    assert updates, [s.params for s in seen]
    for s in updates:
        assert s.params["CertificateId"] == HARD_ID
        assert s.params["Status"] == "INACTIVE"


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_pca_status_two_ids(certdesk, verifier, version):
    seen = run_verified(certdesk, verifier, ["--alibaba-signature", version, "pca", "status", HARD_ID, HARD_ID_2])
    assert {s.algorithm for s in seen} == {ALIBABA_VERSIONS[version]}
    identifiers = [s.params["Identifier"] for s in seen if "Identifier" in s.params]
    assert identifiers == [f"{HARD_ID},{HARD_ID_2}"]


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_esa_revoke_get(certdesk, verifier, version):
    seen = run_verified(certdesk, verifier, ["--alibaba-signature", version, "esa", "revoke", "--site",
                                             "1234567890123", HARD_ID])
    assert {s.method for s in seen} == {"GET"}
    assert {s.algorithm for s in seen} == {ALIBABA_VERSIONS[version]}
    revokes = [s for s in seen if s.params.get("Id") == HARD_ID]
    assert revokes, [s.params for s in seen]
    assert all(s.params["SiteId"] == "1234567890123" for s in revokes)


@pytest.fixture(scope="module")
def pem_files(tmp_path_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    assert cert_pem.count("\n") > 3 and key_pem.count("\n") > 3  # real multi-line PEM bodies
    d = tmp_path_factory.mktemp("pem")
    (d / "cert.pem").write_text(cert_pem)
    (d / "key.pem").write_text(key_pem)
    return d / "cert.pem", d / "key.pem", cert_pem, key_pem


@pytest.mark.parametrize("version", ["v3", "v1"])
def test_vod_set_cert_pem_bodies(certdesk, verifier, pem_files, version):
    cert_file, key_file, cert_pem, key_pem = pem_files
    name = "name with space+é"
    seen = run_verified(certdesk, verifier, ["--alibaba-signature", version, "vod", "set-cert", "example.com",
                                             "--ssl", "on", "--cert-name", name, "--cert", str(cert_file),
                                             "--key", str(key_file)])
    assert {s.algorithm for s in seen} == {ALIBABA_VERSIONS[version]}
    sets = [s for s in seen if "SSLPub" in s.params]
    assert len(sets) == 1, [s.params.keys() for s in seen]
    params = sets[0].params
    assert params["DomainName"] == "example.com"
    assert params["SSLProtocol"] == "on"
    assert params["CertName"] == name
    assert params["SSLPub"] == cert_pem
    assert params["SSLPri"] == key_pem


IOT_BASE = ["--region", "cn-north-4", "--project-id", PROJECT_ID]


@pytest.mark.parametrize("signing", ["basic", "derived"])
@pytest.mark.parametrize("cert_id", [IOT_ID, IOT_HARD_ID])
def test_iotda_show_set_status_delete(certdesk, verifier, signing, cert_id):
    base = [*IOT_BASE, "--huawei-signing", signing, "iot"]
    for command, method in [(["show", cert_id], "GET"),
                            (["set-status", cert_id, "--status", "INACTIVE"], "PUT"),
                            (["delete", cert_id], "DELETE")]:
        seen = run_verified(certdesk, verifier, [*base, *command])
        assert {s.algorithm for s in seen} == {HUAWEI_MODES[signing]}
        mine = [s for s in seen if s.method == method]
        assert mine, [(s.method, s.path) for s in seen]
        for s in mine:
            # The id travels as one path segment; decoded it is the id given.
            prefix = f"/v5/iot/{PROJECT_ID}/device-certificates/"
            assert s.path.startswith(prefix), s.path
            assert unquote(s.path[len(prefix):].split("/")[0]) == cert_id
        if method == "PUT":
            assert any(json.loads(s.body) == {"status": "INACTIVE"} for s in mine)


@pytest.mark.parametrize("signing", ["basic", "derived"])
def test_iotda_list(certdesk, verifier, signing):
    seen = run_verified(certdesk, verifier, [*IOT_BASE, "--huawei-signing", signing, "iot", "list"])
    assert {s.algorithm for s in seen} == {HUAWEI_MODES[signing]}
    assert all(s.path == f"/v5/iot/{PROJECT_ID}/device-certificates" for s in seen)
    assert all(s.params.get("limit") for s in seen)
    # Page 2 carries the hard-character marker of page 1 back in its (signed) query.
    assert [s.params.get("marker") for s in seen] == [None, verifier.list_marker]


@pytest.mark.tamper
@pytest.mark.parametrize("version", ["v3", "v1"])
def test_alibaba_flipped_secret_rejected(certdesk, verifier, version):
    verifier.reset()
    bad = run_cli(certdesk, verifier.endpoint, ["--alibaba-signature", version, "kms", "describe", HARD_ID],
                  alibaba_secret=flip_one_byte(KEYS.alibaba_secret))
    assert verifier.seen and not any(s.verified for s in verifier.seen)
    assert bad.returncode == 1, bad.stderr
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SignatureDoesNotMatch" in lines[0], bad.stderr


@pytest.mark.tamper
@pytest.mark.parametrize("signing", ["basic", "derived"])
def test_huawei_flipped_sk_rejected(certdesk, verifier, signing):
    verifier.reset()
    bad = run_cli(certdesk, verifier.endpoint, [*IOT_BASE, "--huawei-signing", signing, "iot", "show", IOT_ID],
                  huawei_sk=flip_one_byte(KEYS.huawei_sk))
    assert verifier.seen and not any(s.verified for s in verifier.seen)
    assert bad.returncode == 1, bad.stderr
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "APIG.0301" in lines[0], bad.stderr

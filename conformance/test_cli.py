"""certdesk's own CLI against the same simulator, as the other referee-checked client: it must work
with the right secret and be rejected with the service's code when one byte of the secret is
flipped, for every signature choice, without ever printing a secret."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import pytest

from referee import flip_one_byte

pytestmark = pytest.mark.tamper


@pytest.fixture(scope="module")
def certdesk() -> str:
    binary = os.environ.get("CERTDESK_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail(f"CERTDESK_BIN does not name the certdesk binary: {binary!r} (run via conformance/run.sh)")
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30).stdout
    if "pca" not in help_text or "iot" not in help_text:
        pytest.skip("this certdesk build has no headless pca/iot commands yet")
    return binary


def run_cli(binary: str, sim, args: list[str], *, alibaba_secret: str | None = None,
            huawei_sk: str | None = None) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as config_dir:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": config_dir,
            # An empty profile store: only the environment's credentials apply.
            "CERTDESK_CONFIG_DIR": config_dir,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": sim.alibaba_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": alibaba_secret or sim.alibaba_secret,
            "HUAWEICLOUD_SDK_AK": sim.huawei_ak,
            "HUAWEICLOUD_SDK_SK": huawei_sk or sim.huawei_sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": sim.project_id,
        }
        return subprocess.run([binary, "--endpoint", sim.endpoint, "--json", *args],
                              env=env, capture_output=True, text=True, timeout=120)


def assert_no_secret(out: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in out, "the CLI printed a secret"


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_cli_alibaba_right_and_flipped_secret(certdesk, sim, signature):
    args = ["--alibaba-signature", signature, "pca", "list"]
    ok = run_cli(certdesk, sim, args)
    assert ok.returncode == 0, ok.stderr
    json.loads(ok.stdout)

    flipped = flip_one_byte(sim.alibaba_secret)
    bad = run_cli(certdesk, sim, args, alibaba_secret=flipped)
    assert bad.returncode != 0
    assert "SignatureDoesNotMatch" in bad.stdout + bad.stderr, bad.stdout + bad.stderr
    assert_no_secret(ok.stdout + ok.stderr + bad.stdout + bad.stderr, sim.alibaba_secret, flipped)


@pytest.mark.parametrize("signing", ["auto", "basic", "derived"])
def test_cli_huawei_right_and_flipped_sk(certdesk, sim, signing):
    args = ["--region", sim.region, "--project-id", sim.project_id, "--instance-id", sim.instance_id,
            "--huawei-signing", signing, "iot", "list"]
    ok = run_cli(certdesk, sim, args)
    assert ok.returncode == 0, ok.stderr
    json.loads(ok.stdout)

    flipped = flip_one_byte(sim.huawei_sk)
    bad = run_cli(certdesk, sim, args, huawei_sk=flipped)
    assert bad.returncode != 0
    assert "APIG.0301" in bad.stdout + bad.stderr, bad.stdout + bad.stderr
    assert_no_secret(ok.stdout + ok.stderr + bad.stdout + bad.stderr, sim.huawei_sk, flipped)

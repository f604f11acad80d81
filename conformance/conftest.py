"""pytest fixtures of the conformance suite: the running simulator, official SDK clients for every
signature variant, and a local CA. The helpers themselves live in `referee.py`."""

from __future__ import annotations

import os

import pytest

from referee import (
    ALIBABA_SIGNATURES,
    HUAWEI_SIGNINGS,
    LocalCa,
    Sim,
    alibaba_client,
    iotda_client,
    parse_banner,
)


@pytest.fixture(scope="session")
def sim() -> Sim:
    log = os.environ.get("CERTDESK_SIM_LOG")
    if not log:
        pytest.exit("run the conformance suite with conformance/run.sh (it starts `certdesk sim`)", returncode=2)
    with open(log, encoding="utf-8") as f:
        return parse_banner(f.read())


@pytest.fixture(params=ALIBABA_SIGNATURES)
def alibaba_signature(request) -> str:
    return request.param


@pytest.fixture
def kms(sim, alibaba_signature) -> KmsClient:
    return alibaba_client("kms", sim, alibaba_signature)


@pytest.fixture
def cas(sim, alibaba_signature) -> CasClient:
    return alibaba_client("cas", sim, alibaba_signature)


@pytest.fixture
def esa(sim, alibaba_signature) -> EsaClient:
    return alibaba_client("esa", sim, alibaba_signature)


@pytest.fixture
def vod(sim, alibaba_signature) -> VodClient:
    return alibaba_client("vod", sim, alibaba_signature)


@pytest.fixture
def cdn(sim, alibaba_signature):
    return alibaba_client("cdn", sim, alibaba_signature)


@pytest.fixture
def ssl(sim, alibaba_signature):
    """The SSL Certificates Service (cas 2020-04-07)."""
    return alibaba_client("ssl", sim, alibaba_signature)


@pytest.fixture
def sts(sim, alibaba_signature):
    return alibaba_client("sts", sim, alibaba_signature)


@pytest.fixture(scope="session")
def second_account(sim):
    if len(sim.accounts) < 2:
        pytest.fail("the simulator was started with one account (conformance/run.sh passes --accounts 2)")
    return sim.accounts[1]


@pytest.fixture(params=HUAWEI_SIGNINGS)
def huawei_signing(request) -> str:
    return request.param


@pytest.fixture
def iotda(sim, huawei_signing) -> IoTDAClient:
    return iotda_client(sim, huawei_signing)


@pytest.fixture(scope="session")
def local_ca() -> LocalCa:
    return LocalCa()

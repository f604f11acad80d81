"""Mutation self-check of the referee: the simulator must reject a request that differs from a
genuine SDK request in nothing but one changed signature character, and accept the genuine one.

A request is captured on its way out of the official SDK (requests' `Session.send`), then replayed
with `requests`: first with one digit of the signature changed (rejected with the service's own
code), then unchanged (accepted), then once more (Alibaba only: the nonce is spent).
"""

from __future__ import annotations

import urllib.parse

import pytest
import requests
from huaweicloudsdkiotda.v5 import ListDeviceCertificateRequest

from alibabacloud_cas20200630 import models as cas_models

from referee import alibaba_client, iotda_client

pytestmark = pytest.mark.tamper


class Captured(Exception):
    """Raised instead of sending, so the SDK never reaches the simulator."""


def capture(monkeypatch, call) -> requests.PreparedRequest:
    seen: list[requests.PreparedRequest] = []

    def fake_send(self, request, **kwargs):
        seen.append(request.copy())
        raise Captured()

    with monkeypatch.context() as patch:
        patch.setattr(requests.Session, "send", fake_send)
        try:
            call()
        except Exception:  # the SDK wraps Captured in its own exception types
            pass
    assert seen, "the SDK sent no request"
    return seen[0]


def other_digit(c: str, alphabet: str) -> str:
    return alphabet[(alphabet.index(c) + 1) % len(alphabet)]


def tamper_authorization(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Changes the last hex digit of `Signature=` in the Authorization header."""
    tampered = request.copy()
    auth = tampered.headers["Authorization"]
    assert "Signature=" in auth, auth
    last = auth[-1]
    tampered.headers["Authorization"] = auth[:-1] + other_digit(last, "0123456789abcdef")
    assert tampered.headers["Authorization"] != auth
    return tampered


def tamper_query_signature(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Changes one base64 character of the V1 `Signature` query parameter."""
    tampered = request.copy()
    url = urllib.parse.urlsplit(tampered.url)
    pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    changed = False
    out = []
    for name, value in pairs:
        if name == "Signature":
            value = other_digit(value[0], b64) + value[1:]
            changed = True
        out.append((name, value))
    assert changed, f"no Signature parameter in {tampered.url}"
    query = urllib.parse.urlencode(out, quote_via=urllib.parse.quote)
    tampered.url = urllib.parse.urlunsplit(url._replace(query=query))
    return tampered


def replay(request: requests.PreparedRequest) -> requests.Response:
    with requests.Session() as session:
        return session.send(request, timeout=30)


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_alibaba_request_with_one_signature_digit_changed_is_rejected(sim, monkeypatch, signature):
    client = alibaba_client("cas", sim, signature)
    genuine = capture(monkeypatch, lambda: client.list_client_certificate(
        cas_models.ListClientCertificateRequest(current_page=1, show_size=2)))
    tampered = tamper_authorization(genuine) if signature == "v3" else tamper_query_signature(genuine)

    rejected = replay(tampered)
    assert rejected.status_code == 403, rejected.text
    assert rejected.json()["Code"] == "SignatureDoesNotMatch"

    accepted = replay(genuine)
    assert accepted.status_code == 200, accepted.text
    assert len(accepted.json()["CertificateList"]) == 2

    replayed = replay(genuine)
    assert replayed.status_code >= 400
    assert replayed.json()["Code"] == "SignatureNonceUsed"


@pytest.mark.parametrize("signing", ["basic", "derived"])
def test_huawei_request_with_one_signature_digit_changed_is_rejected(sim, monkeypatch, signing):
    client = iotda_client(sim, signing)
    genuine = capture(monkeypatch, lambda: client.list_device_certificate(
        ListDeviceCertificateRequest(instance_id=sim.instance_id, limit=2)))
    algorithm = "V11-HMAC-SHA256" if signing == "derived" else "SDK-HMAC-SHA256"
    assert genuine.headers["Authorization"].startswith(algorithm + " ")

    rejected = replay(tamper_authorization(genuine))
    assert rejected.status_code == 401, rejected.text
    assert rejected.json()["error_code"] == "APIG.0301"

    accepted = replay(genuine)
    assert accepted.status_code == 200, accepted.text
    assert len(accepted.json()["device_certificates"]) == 2

"""A loopback HTTP server that referees certdesk's *client* signing with the official SDKs' own code.

For every request it receives it decodes the wire request the way the real gateway does, hands the
decoded request to the official SDK signing function with the known secret, and compares the
result with the signature the request carried:

- Alibaba ACS3-HMAC-SHA256: `alibabacloud_openapi_util.client.Client.get_authorization` (the
  function tea-openapi calls) over the headers named in the request's SignedHeaders, the decoded
  query (form decoding, `+` = space) and SHA-256 of the body bytes received.
- Alibaba V1 (HMAC-SHA1): `alibabacloud_openapi_util.client.Client.get_rpcsignature` over the
  decoded query + form body without `Signature`.
- Huawei SDK-HMAC-SHA256 / V11-HMAC-SHA256: `huaweicloudsdkcore.signer.signer.Signer.sign` /
  `DerivationAKSKSigner.sign(request, "iotdm", region)` over an `SdkRequest` rebuilt from the wire
  request (path as sent, query pairs as sent, the signed headers, the body bytes). The SDK also puts
  exactly its canonical query on the wire, so the received query must equal it verbatim.

Each request is recorded as a `Seen` (method, path, decoded params, algorithm, verified). Verified
requests get 200 with a minimal JSON body (IoTDA DELETE: 204); others 403 `SignatureDoesNotMatch`
(Alibaba) or 401 `APIG.0301` (Huawei), as the gateways answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlsplit

from alibabacloud_openapi_util.client import Client as OpenApiUtil
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import DerivationAKSKSigner, Signer

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass
class Seen:
    """One request as the verifier understood it."""

    method: str
    path: str
    raw_query: str
    params: dict[str, str]  # Alibaba: decoded query + form; Huawei: decoded query pairs
    algorithm: str
    verified: bool
    detail: str = ""  # why not verified (what differs)
    body: bytes = b""


@dataclass
class Keys:
    """The credentials the verifier checks against."""

    alibaba_id: str
    alibaba_secret: str
    huawei_ak: str
    huawei_sk: str
    huawei_region: str = "cn-north-4"
    huawei_service: str = "iotdm"


def _pairs_unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"parameter {k!r} repeated")
        out[k] = v
    return out


def verify_alibaba(method: str, raw_query: str, headers: dict[str, list[str]], body: bytes,
                   keys: Keys) -> tuple[str, dict[str, str], bool, str]:
    """(algorithm, decoded params, verified, detail) of one Alibaba RPC request."""
    # The gateway decodes the query and a form body as application/x-www-form-urlencoded.
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if body and _header(headers, "content-type", "").startswith("application/x-www-form-urlencoded"):
        pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    params = _pairs_unique(pairs)
    authorization = _header(headers, "authorization")
    if authorization and authorization.startswith("ACS3-"):
        m = re.fullmatch(r"(ACS3-HMAC-SHA256) Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
                         authorization)
        if not m:
            return "ACS3-HMAC-SHA256", params, False, f"malformed Authorization {authorization!r}"
        sign_type, ak, signed_names, _sig = m.groups()
        if ak != keys.alibaba_id:
            return sign_type, params, False, f"unknown AccessKeyId {ak!r}"
        names = signed_names.split(";")
        missing = [n for n in names if n not in headers]
        if missing:
            return sign_type, params, False, f"signed headers not sent: {missing}"
        if "host" not in names or not all(n in names for n in headers if n.startswith("x-acs-")):
            return sign_type, params, False, "host and every x-acs-* header must be signed"
        payload = hashlib.sha256(body).hexdigest()
        if _header(headers, "x-acs-content-sha256") != payload:
            return sign_type, params, False, "x-acs-content-sha256 is not SHA-256 of the body"
        request = SimpleNamespace(
            method=method,
            pathname="/",
            query=params,
            headers={n: ",".join(headers[n]) for n in names},
        )
        expected = OpenApiUtil.get_authorization(request, sign_type, payload, keys.alibaba_id, keys.alibaba_secret)
        ok = hmac.compare_digest(expected, authorization)
        return sign_type, params, ok, "" if ok else f"SDK computed {expected!r}, request carried {authorization!r}"
    if "Signature" in params:
        signed = {k: v for k, v in params.items() if k != "Signature"}
        if signed.get("AccessKeyId") != keys.alibaba_id:
            return "ACS-V1-HMAC-SHA1", params, False, "unknown AccessKeyId"
        expected = OpenApiUtil.get_rpcsignature(signed, method, keys.alibaba_secret)
        ok = hmac.compare_digest(expected, params["Signature"])
        return "ACS-V1-HMAC-SHA1", params, ok, "" if ok else (
            f"SDK computed {expected!r}, request carried {params['Signature']!r}")
    return "none", params, False, "no signature"


def verify_huawei(method: str, path: str, raw_query: str, headers: dict[str, list[str]], body: bytes,
                  keys: Keys, raw_header_names: dict[str, str]) -> tuple[str, dict[str, str], bool, str]:
    """(algorithm, decoded query, verified, detail) of one Huawei APIG request."""
    # The query as sent: split on & and =, percent-decode (no '+' = space: the SDK never sends '+').
    pairs = [(unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in raw_query.split("&") if p)]
    params = _pairs_unique(pairs)
    authorization = _header(headers, "authorization") or ""
    m = re.fullmatch(r"(SDK-HMAC-SHA256) Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)",
                     authorization)
    m11 = re.fullmatch(
        r"(V11-HMAC-SHA256) Credential=([^/]+)/(\d{8})/([^/]+)/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)",
        authorization)
    if m:
        algorithm, ak, signed_names = m.group(1), m.group(2), m.group(3)
    elif m11:
        algorithm, ak, signed_names = m11.group(1), m11.group(2), m11.group(6)
        if (m11.group(4), m11.group(5)) != (keys.huawei_region, keys.huawei_service):
            return algorithm, params, False, f"credential scope {m11.group(4)}/{m11.group(5)} is not " \
                                             f"{keys.huawei_region}/{keys.huawei_service}"
    else:
        return "none", params, False, f"malformed Authorization {authorization!r}"
    if ak != keys.huawei_ak:
        return algorithm, params, False, f"unknown AK {ak!r}"
    names = signed_names.split(";")
    missing = [n for n in names if n not in headers]
    if missing:
        return algorithm, params, False, f"signed headers not sent: {missing}"
    if "host" not in names or "x-sdk-date" not in names:
        return algorithm, params, False, "host and x-sdk-date must be signed"
    # Header names as the SDK would have them (it lower-cases for signing); values as received
    # (http.server decodes them as latin-1; the SDK signs UTF-8 text, so undo that).
    header_params = {raw_header_names[n]: ",".join(headers[n]).encode("latin-1").decode("utf-8") for n in names}
    request = SdkRequest(method=method, schema="http", host=_header(headers, "host"), resource_path=path,
                         query_params=list(pairs), header_params=header_params, body=body or None)
    creds = BasicCredentials(ak=keys.huawei_ak, sk=keys.huawei_sk)
    if algorithm == "SDK-HMAC-SHA256":
        signer = Signer(creds)
        signer.sign(request)
    else:
        signer = DerivationAKSKSigner(creds)
        signer.sign(request, keys.huawei_service, keys.huawei_region)
    expected = request.header_params["Authorization"]
    # The SDK would have added X-Sdk-Content-Sha256 for a non-JSON body: then the sets differ.
    ok = hmac.compare_digest(expected, authorization)
    detail = "" if ok else f"SDK computed {expected!r}, request carried {authorization!r}"
    sdk_query = Signer.process_canonical_query_string(SdkRequest(query_params=list(pairs)))
    if ok and sdk_query != raw_query:
        ok, detail = False, f"wire query {raw_query!r} is not the SDK's canonical query {sdk_query!r}"
    return algorithm, params, ok, detail


def _header(headers: dict[str, list[str]], name: str, default=None):
    values = headers.get(name)
    return ",".join(values) if values else default


# Minimal answers the CLI parses (its parsers default missing fields).
def _alibaba_answer(action: str, params: dict[str, str]) -> dict:
    body: dict = {"RequestId": str(uuid.uuid4())}
    if action == "DescribeCertificate":
        body.update(CertificateId=params.get("CertificateId", ""), Status="ACTIVE")
    elif action == "DescribeClientCertificateStatus":
        body["CertificateStatus"] = [
            {"Identifier": i, "Status": "good"} for i in params.get("Identifier", "").split(",")]
    elif action == "DescribeVodDomainCertificateInfo":
        body["CertInfos"] = {"CertInfo": []}
    return body


def _iotda_certificate(cert_id: str) -> dict:
    return {"certificate_id": cert_id, "common_name": "verifier", "status": "ACTIVE",
            "expiry_date": "20340102T030405Z"}


class Verifier:
    """The running server: `endpoint`, the recorded `seen` requests; use as a context manager."""

    def __init__(self, keys: Keys):
        self.keys = keys
        self.seen: list[Seen] = []
        # The page marker the IoTDA list answer hands out (the client echoes it in its query).
        self.list_marker = "marker a b*c~d/e+f=g&hé"
        self._lock = threading.Lock()
        verifier = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                verifier._dispatch(self, body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Verifier:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()

    def _dispatch(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        split = urlsplit(handler.path)
        path, raw_query = split.path, split.query
        headers: dict[str, list[str]] = {}
        raw_names: dict[str, str] = {}
        for name, value in handler.headers.items():
            headers.setdefault(name.lower(), []).append(value)
            raw_names.setdefault(name.lower(), name)
        huawei = path.startswith("/v5/")
        try:
            if huawei:
                algorithm, params, ok, detail = verify_huawei(handler.command, path, raw_query, headers, body,
                                                              self.keys, raw_names)
            else:
                algorithm, params, ok, detail = verify_alibaba(handler.command, raw_query, headers, body, self.keys)
        except Exception as e:  # a request the verifier cannot even decode is not verified
            algorithm, params, ok, detail = "error", {}, False, f"{type(e).__name__}: {e}"
        with self._lock:
            self.seen.append(Seen(handler.command, path, raw_query, params, algorithm, ok, detail, body))
        if huawei:
            self._answer_huawei(handler, path, ok)
        else:
            self._answer_alibaba(handler, params, headers, ok)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict | None,
              extra: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        handler.send_response(status)
        if payload is not None:
            handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    def _answer_alibaba(self, handler, params: dict[str, str], headers, ok: bool) -> None:
        request_id = str(uuid.uuid4())
        if not ok:
            self._send(handler, 403, {"RequestId": request_id, "HostId": "127.0.0.1", "Code": "SignatureDoesNotMatch",
                                      "Message": "Specified signature is not matched with our calculation."})
            return
        action = params.get("Action") or _header(headers, "x-acs-action", "")
        self._send(handler, 200, _alibaba_answer(action, params))

    def _answer_huawei(self, handler, path: str, ok: bool) -> None:
        if not ok:
            self._send(handler, 401, {"error_code": "APIG.0301", "error_msg": "Incorrect IAM authentication information: verify aksk signature fail"},
                       {"X-Request-Id": uuid.uuid4().hex})
            return
        segments = path.rstrip("/").split("/")
        if handler.command == "DELETE":
            self._send(handler, 204, None)
        elif segments[-1] == "device-certificates":
            # First page: a full page whose marker is full of hard characters, so the client must
            # send it back in the next request's query; then a short last page.
            query = dict(parse_qsl(urlsplit(handler.path).query, keep_blank_values=True))
            limit = int(query.get("limit") or 10)
            if "marker" not in query:
                page = [_iotda_certificate(f"75a0c144-7c3c-4dac-9fd6-{i:012d}") for i in range(limit)]
                self._send(handler, 200, {"device_certificates": page,
                                          "page": {"count": limit + 1, "marker": self.list_marker}})
            else:
                self._send(handler, 200, {"device_certificates": [_iotda_certificate("last")],
                                          "page": {"count": limit + 1, "marker": "last"}})
        else:
            cert_id = unquote(segments[-1]) if segments[-2] == "device-certificates" else unquote(segments[-2])
            self._send(handler, 200, _iotda_certificate(cert_id))

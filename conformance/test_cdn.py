"""CDN 2018-05-10 domain certificates through alibabacloud-cdn20180510 9.2.0, V3 and V1:
DescribeUserDomains (paged, CheckDomainShow), DescribeDomainCertificateInfo,
SetCdnDomainSSLCertificate (upload with a certificate and key made here, a certificate of the SSL
repository by CertId + CertRegion, off, on again) and its documented errors.

The simulator's seeded domains of the first account's home inventory (docs/simulator.md):
www (cas, repository certificate 12000000), img (never had a certificate), static (upload),
assets (configuring), api (offline), download (cas 12000001), m (failed review), cdn (upload,
expired), all under certdesk-demo.net."""

from __future__ import annotations

import re
import uuid

import pytest

from alibabacloud_cdn20180510 import models as cdn_models

from referee import alibaba_error, load_pem_cert

ZONE = "certdesk-demo.net"


def domain(word: str) -> str:
    return f"{word}.{ZONE}"


def page(cdn, number: int, size: int, **kwargs):
    return cdn.describe_user_domains(
        cdn_models.DescribeUserDomainsRequest(page_number=number, page_size=size, **kwargs)).body


def cert_info(cdn, name: str):
    body = cdn.describe_domain_certificate_info(
        cdn_models.DescribeDomainCertificateInfoRequest(domain_name=name)).body
    assert body.request_id
    infos = body.cert_infos.cert_info
    assert len(infos) == 1 and infos[0].domain_name == name
    return infos[0]


def set_ssl(cdn, name: str, **kwargs):
    return cdn.set_cdn_domain_sslcertificate(
        cdn_models.SetCdnDomainSSLCertificateRequest(domain_name=name, **kwargs)).body


def test_domains_page_and_parse(cdn):
    first = page(cdn, 1, 3)
    assert first.request_id
    assert first.page_number == 1 and first.page_size == 3
    assert isinstance(first.total_count, int) and first.total_count > 3
    names = []
    for n in range(1, first.total_count // 3 + 2):
        names += [d.domain_name for d in page(cdn, n, 3).domains.page_data]
    assert len(names) == len(set(names)) == first.total_count
    for d in page(cdn, 1, 500).domains.page_data:
        assert isinstance(d.domain_id, int)
        assert d.ssl_protocol in ("on", "off")
        assert d.domain_status and d.cname and d.cdn_type in ("web", "download", "video")
        source = d.sources.source[0]
        assert isinstance(source.port, int)
        assert isinstance(source.priority, str) and isinstance(source.weight, str)
    # Domains that failed review are listed only with CheckDomainShow (a Python bool on the wire).
    shown = page(cdn, 1, 500, check_domain_show=True)
    assert shown.total_count == first.total_count + 1
    assert any(d.domain_status == "check_failed" for d in shown.domains.page_data)
    fuzzy = page(cdn, 1, 500, domain_name="stat", domain_search_type="fuzzy_match")
    assert [d.domain_name for d in fuzzy.domains.page_data] == [domain("static")]


def test_certificate_info_types(cdn):
    www = cert_info(cdn, domain("www"))
    for field in ("cert_name", "cert_domain_name", "cert_id", "cert_type", "cert_region", "cert_expire_time",
                  "cert_start_time", "cert_update_time", "server_certificate", "server_certificate_status",
                  "cert_life", "cert_org"):
        assert isinstance(getattr(www, field), str), field
    assert www.cert_type == "cas" and www.cert_id == "12000000" and www.cert_region == "cn-hangzhou"
    assert www.server_certificate_status == "on"
    cert = load_pem_cert(www.server_certificate)
    assert www.cert_expire_time == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert re.fullmatch(r"\d+ months", www.cert_life)
    static = cert_info(cdn, domain("static"))
    assert static.cert_type == "upload" and static.cert_id == ""


def test_set_upload_off_on_and_cas(cdn, local_ca, alibaba_signature):
    # Each signature variant uses its own domain so the two runs never race on one.
    name = domain("img" if alibaba_signature == "v3" else "cdn")
    cert, cert_pem, key_pem = local_ca.leaf(name)
    cert_name = f"conformance-{uuid.uuid4().hex[:8]}"
    assert set_ssl(cdn, name, sslprotocol="on", cert_type="upload", cert_name=cert_name,
                   sslpub=cert_pem, sslpri=key_pem).request_id
    on = cert_info(cdn, name)
    assert (on.server_certificate_status, on.cert_type, on.cert_name) == ("on", "upload", cert_name)
    assert load_pem_cert(on.server_certificate) == cert
    assert {d.domain_name: d for d in page(cdn, 1, 500).domains.page_data}[name].ssl_protocol == "on"

    set_ssl(cdn, name, sslprotocol="off")
    off = cert_info(cdn, name)
    assert off.server_certificate_status == "off"
    assert load_pem_cert(off.server_certificate) == cert, "off keeps the certificate configured"
    set_ssl(cdn, name, sslprotocol="on")
    assert cert_info(cdn, name).server_certificate_status == "on"

    # A certificate of the SSL repository: CertId is an int in this operation.
    set_ssl(cdn, name, sslprotocol="on", cert_type="cas", cert_id=12000003, cert_region="cn-hangzhou")
    cas = cert_info(cdn, name)
    assert (cas.cert_type, cas.cert_id, cas.cert_region) == ("cas", "12000003", "cn-hangzhou")
    assert load_pem_cert(cas.server_certificate) != cert


@pytest.mark.parametrize("name, kwargs, expected", [
    ("nope.example.com", {"sslprotocol": "off"}, ("InvalidDomain.NotFound", 404)),
    (domain("assets"), {"sslprotocol": "off"}, ("ServiceBusy", 403)),
    (domain("api"), {"sslprotocol": "off"}, ("InvalidDomain.Offline", 400)),
    (domain("www"), {"sslprotocol": "maybe"}, ("InvalidSSLProtocol.ValueNotSupported", 400)),
    (domain("www"), {"sslprotocol": "on", "cert_type": "upload"}, ("SSLPub.MissingParameter", 400)),
    (domain("www"), {"sslprotocol": "on", "cert_type": "cas", "cert_id": 1, "cert_region": "cn-hangzhou"},
     ("Certificate.NotFound", 404)),
])
def test_documented_errors(cdn, name, kwargs, expected):
    with pytest.raises(Exception) as err:
        set_ssl(cdn, name, **kwargs)
    assert alibaba_error(err) == expected
    # Nothing changed on the domain that exists.
    if name == domain("www"):
        assert cert_info(cdn, name).cert_id == "12000000"


def test_mismatched_key_is_refused(cdn, local_ca):
    _, cert_pem, _ = local_ca.leaf(domain("www"))
    _, _, other_key = local_ca.leaf(domain("www"))
    with pytest.raises(Exception) as err:
        set_ssl(cdn, domain("www"), sslprotocol="on", cert_type="upload", sslpub=cert_pem, sslpri=other_key)
    assert alibaba_error(err) == ("Certificate.MissMatch", 400)
    assert cert_info(cdn, domain("www")).cert_type == "cas"

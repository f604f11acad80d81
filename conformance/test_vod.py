"""VOD 2017-03-21 domain certificates through alibabacloud-vod20170321, V3 and V1:
DescribeVodUserDomains, DescribeVodDomainCertificateInfo, SetVodDomainCertificate (on with a
certificate and key made here, then off), SetVodDomainSSLCertificate with a certificate of the SSL
certificate repository (CertType=cas, uploaded here through alibabacloud-cas20200407)."""

from __future__ import annotations

import uuid

import pytest

from alibabacloud_cas20200407 import models as ssl_models
from alibabacloud_vod20170321 import models as vod_models

from referee import alibaba_error, load_pem_cert


def domains(vod):
    body = vod.describe_vod_user_domains(vod_models.DescribeVodUserDomainsRequest(page_number=1, page_size=50)).body
    assert body.request_id
    assert isinstance(body.total_count, int) and body.total_count > 0
    assert body.page_number == 1 and body.page_size == 50
    data = body.domains.page_data
    assert data, "Domains.PageData is empty"
    return data


def cert_info(vod, domain: str):
    body = vod.describe_vod_domain_certificate_info(
        vod_models.DescribeVodDomainCertificateInfoRequest(domain_name=domain)).body
    assert body.request_id
    infos = body.cert_infos.cert_info
    assert len(infos) == 1, f"expected one CertInfo for {domain}, got {len(infos)}"
    assert infos[0].domain_name == domain
    return infos[0]


def test_domains_parse(vod):
    for d in domains(vod):
        assert isinstance(d.domain_name, str) and d.domain_name
        assert d.ssl_protocol in ("on", "off")
        assert d.domain_status
        assert d.cname


def test_set_certificate_on_then_off(vod, local_ca, alibaba_signature):
    # Each signature variant uses its own domain so the two runs never race on one.
    index = 0 if alibaba_signature == "v3" else 1
    domain = domains(vod)[index].domain_name
    cert, cert_pem, key_pem = local_ca.leaf(domain)
    name = f"conformance-{uuid.uuid4().hex[:8]}"

    assert vod.set_vod_domain_certificate(vod_models.SetVodDomainCertificateRequest(
        domain_name=domain, sslprotocol="on", cert_name=name, sslpub=cert_pem, sslpri=key_pem,
    )).body.request_id

    on = cert_info(vod, domain)
    assert on.server_certificate_status == "on"
    assert on.cert_name == name
    assert on.cert_type == "upload"
    assert load_pem_cert(on.server_certificate) == cert
    assert on.cert_domain_name == domain
    assert on.cert_expire_time == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = {d.domain_name: d for d in domains(vod)}
    assert listed[domain].ssl_protocol == "on"

    vod.set_vod_domain_certificate(vod_models.SetVodDomainCertificateRequest(domain_name=domain, sslprotocol="off"))
    assert cert_info(vod, domain).server_certificate_status == "off"
    assert {d.domain_name: d for d in domains(vod)}[domain].ssl_protocol == "off"


def test_on_without_certificate_is_refused(vod):
    domain = domains(vod)[2].domain_name
    with pytest.raises(Exception) as err:
        vod.set_vod_domain_certificate(vod_models.SetVodDomainCertificateRequest(domain_name=domain, sslprotocol="on"))
    code, status = alibaba_error(err)
    assert status == 400 and code in ("SSLPub.MissingParameter", "MissingParameter"), (code, status)


def test_unknown_domain(vod):
    with pytest.raises(Exception) as err:
        vod.describe_vod_domain_certificate_info(
            vod_models.DescribeVodDomainCertificateInfoRequest(domain_name=f"nope-{uuid.uuid4().hex[:6]}.example.com"))
    assert alibaba_error(err) == ("InvalidDomain.NotFound", 404)


def test_ssl_certificate_from_the_repository_then_off(vod, ssl, local_ca, alibaba_signature):
    # Domains of their own (the tests above use 0-2), one per signature variant.
    index = 3 if alibaba_signature == "v3" else 4
    domain = domains(vod)[index].domain_name
    cert, cert_pem, key_pem = local_ca.leaf(domain)
    name = f"conformance-vod-{uuid.uuid4().hex[:8]}"
    cert_id = ssl.upload_user_certificate(
        ssl_models.UploadUserCertificateRequest(name=name, cert=cert_pem, key=key_pem)).body.cert_id
    assert isinstance(cert_id, int)

    assert vod.set_vod_domain_sslcertificate(vod_models.SetVodDomainSSLCertificateRequest(
        domain_name=domain, sslprotocol="on", cert_type="cas", cert_id=cert_id, cert_region="cn-hangzhou",
    )).body.request_id
    on = cert_info(vod, domain)
    assert on.server_certificate_status == "on"
    assert on.cert_type == "cas" and on.cert_id == str(cert_id) and on.cert_region == "cn-hangzhou"
    assert on.cert_name == name
    assert load_pem_cert(on.server_certificate) == cert
    # The domain now deploys the repository certificate.
    deployed = ssl.list_cloud_resources(
        ssl_models.ListCloudResourcesRequest(cert_ids=[cert_id], show_size=50)).body
    assert [(d.cloud_product, d.domain) for d in deployed.data] == [("VOD", domain)]
    with pytest.raises(Exception) as err:
        ssl.delete_user_certificate(ssl_models.DeleteUserCertificateRequest(cert_id=cert_id))
    assert alibaba_error(err) == ("Certificate.InUse", 400)

    with pytest.raises(Exception) as err:
        vod.set_vod_domain_sslcertificate(vod_models.SetVodDomainSSLCertificateRequest(
            domain_name=domain, sslprotocol="on", cert_type="cas", cert_id=99999999, cert_region="cn-hangzhou"))
    assert alibaba_error(err) == ("Certificate.NotFound", 404)
    assert cert_info(vod, domain).cert_id == str(cert_id), "a refused change changes nothing"

    vod.set_vod_domain_sslcertificate(
        vod_models.SetVodDomainSSLCertificateRequest(domain_name=domain, sslprotocol="off"))
    assert cert_info(vod, domain).server_certificate_status == "off"

"""ESA 2024-09-10 client certificates through alibabacloud-esa20240910 (GET requests), V3 and V1:
ListSites, ListClientCertificates, GetClientCertificate, RevokeClientCertificate,
ActivateClientCertificate."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from alibabacloud_esa20240910 import models as esa_models

from referee import alibaba_error, common_name, load_pem_cert


def sites(esa):
    body = esa.list_sites(esa_models.ListSitesRequest(page_number=1, page_size=50)).body
    assert body.request_id
    assert isinstance(body.total_count, int) and body.total_count >= len(body.sites) > 0
    return body.sites


def get(esa, site_id: int, cert_id: str):
    return esa.get_client_certificate(esa_models.GetClientCertificateRequest(site_id=site_id, id=cert_id)).body


def test_sites_parse(esa):
    for site in sites(esa):
        assert isinstance(site.site_id, int), f"SiteId must be a JSON number, got {site.site_id!r}"
        assert isinstance(site.site_name, str) and site.site_name
        assert site.status in ("pending", "active", "offline", "moved")


def an_active_certificate(esa):
    """(site, certificate) of the first active client certificate."""
    for site in sites(esa):
        page = 1
        while True:
            body = esa.list_client_certificates(esa_models.ListClientCertificatesRequest(
                site_id=site.site_id, page_number=page, page_size=50)).body
            assert body.site_id == site.site_id and isinstance(body.site_id, int)
            assert body.site_name == site.site_name
            assert isinstance(body.total_count, int)
            active = [c for c in body.result if c.status == "active"]
            if active:
                return site, active[0]
            if page * 50 >= body.total_count:
                break
            page += 1
    pytest.fail("no active ESA client certificate in any site")


def test_list_get_revoke_activate(esa):
    site, listed = an_active_certificate(esa)
    assert isinstance(listed.id, str) and listed.id
    assert listed.common_name and listed.serial_number and listed.not_after
    assert len(listed.fingerprint_sha_256 or "") == 64

    got = get(esa, site.site_id, listed.id)
    assert got.request_id
    assert got.site_id == site.site_id
    assert got.status == "active"
    cert = load_pem_cert(got.certificate)
    assert common_name(cert) == listed.common_name
    der = cert.public_bytes(serialization.Encoding.DER)
    assert hashlib.sha256(der).hexdigest() == listed.fingerprint_sha_256.lower().replace(":", "")

    revoked = esa.revoke_client_certificate(
        esa_models.RevokeClientCertificateRequest(site_id=site.site_id, id=listed.id)).body
    assert revoked.id == listed.id
    assert revoked.site_id == site.site_id and isinstance(revoked.site_id, int)
    assert revoked.site_name == site.site_name
    assert get(esa, site.site_id, listed.id).status == "revoked"

    # Revoking twice is the documented Certificate.StatusError.
    with pytest.raises(Exception) as twice:
        esa.revoke_client_certificate(esa_models.RevokeClientCertificateRequest(site_id=site.site_id, id=listed.id))
    assert alibaba_error(twice) == ("Certificate.StatusError", 400)

    activated = esa.activate_client_certificate(
        esa_models.ActivateClientCertificateRequest(site_id=site.site_id, id=listed.id)).body
    assert activated.id == listed.id and activated.site_id == site.site_id
    assert get(esa, site.site_id, listed.id).status == "active"


def test_missing_site_id_is_the_documented_error(esa):
    with pytest.raises(Exception) as err:
        esa.revoke_client_certificate(esa_models.RevokeClientCertificateRequest(id="baba39055622c008b90285a8838ed09a"))
    assert alibaba_error(err) == ("MissingSiteId", 400)

"""Private CA (cas 2020-06-30) client certificates through alibabacloud-cas20200630, V3 and V1:
ListClientCertificate, DescribeClientCertificate, DescribeClientCertificateStatus,
CreateRevokeClientCertificate, ListRevokeCertificate."""

from __future__ import annotations

import time

import pytest

from alibabacloud_cas20200630 import models as cas_models

from referee import alibaba_error, common_name, load_pem_cert


def list_page(cas, page: int, size: int):
    return cas.list_client_certificate(cas_models.ListClientCertificateRequest(current_page=page, show_size=size)).body


def status_of(cas, identifiers: list[str]):
    return cas.describe_client_certificate_status(
        cas_models.DescribeClientCertificateStatusRequest(identifier=",".join(identifiers))).body


def test_list_parses_and_pages(cas):
    first = list_page(cas, 1, 5)
    assert first.request_id
    assert isinstance(first.total_count, int) and first.total_count > 5
    assert first.current_page == 1 and first.show_size == 5
    assert len(first.certificate_list) == 5
    second = list_page(cas, 2, 5)
    assert second.current_page == 2
    ids_first = {c.identifier for c in first.certificate_list}
    ids_second = {c.identifier for c in second.certificate_list}
    assert ids_first and ids_second and not ids_first & ids_second, "pages overlap"
    for item in first.certificate_list:
        assert isinstance(item.identifier, str) and item.identifier
        assert item.status in ("ISSUE", "REVOKE")
        assert item.certificate_type in ("CLIENT", "SERVER")
        assert isinstance(item.before_date, int) and isinstance(item.after_date, int)
        assert item.before_date < item.after_date
        cert = load_pem_cert(item.x_509certificate)
        assert int(item.serial_number.replace(":", ""), 16) == cert.serial_number
        assert item.common_name == common_name(cert)
        # AfterDate is UNIX milliseconds.
        assert abs(item.after_date / 1000 - cert.not_valid_after_utc.timestamp()) < 2


def first_issued(cas) -> list:
    page = 1
    while True:
        body = list_page(cas, page, 50)
        issued = [c for c in body.certificate_list if c.status == "ISSUE"]
        if issued:
            return issued
        assert page * 50 < body.total_count, "no ISSUE certificate left to revoke"
        page += 1


def test_describe_revoke_and_status(cas):
    issued = first_issued(cas)
    target = issued[0]
    described = cas.describe_client_certificate(
        cas_models.DescribeClientCertificateRequest(identifier=target.identifier)).body
    assert described.request_id
    assert described.certificate.identifier == target.identifier
    assert described.certificate.serial_number == target.serial_number
    assert described.certificate.status == "ISSUE"
    assert load_pem_cert(described.certificate.x_509certificate)

    others = [c.identifier for c in issued[1:2]]
    before = status_of(cas, [target.identifier] + others)
    assert [s.status for s in before.certificate_status] == ["good"] * (1 + len(others))
    assert before.certificate_status[0].serial_number == target.serial_number

    revoked_at = time.time()
    assert cas.create_revoke_client_certificate(
        cas_models.CreateRevokeClientCertificateRequest(identifier=target.identifier)).body.request_id

    after = status_of(cas, [target.identifier] + others)
    assert after.certificate_status[0].status == "revoked"
    revoke_time = after.certificate_status[0].revoke_time
    assert isinstance(revoke_time, int), f"RevokeTime must be UNIX ms, got {revoke_time!r}"
    assert abs(revoke_time / 1000 - revoked_at) < 600
    assert [s.status for s in after.certificate_status[1:]] == ["good"] * len(others), "revoked the wrong one"

    again = cas.describe_client_certificate(
        cas_models.DescribeClientCertificateRequest(identifier=target.identifier)).body
    assert again.certificate.status == "REVOKE"

    found = []
    page = 1
    while True:
        body = cas.list_revoke_certificate(
            cas_models.ListRevokeCertificateRequest(current_page=page, show_size=50)).body
        assert isinstance(body.total_count, int)
        found += [c for c in body.certificate_list if c.identifier == target.identifier]
        if page * 50 >= body.total_count:
            break
        page += 1
    assert len(found) == 1, "the revoked certificate is not in ListRevokeCertificate"
    assert found[0].revoke_date and isinstance(found[0].revoke_date, str)
    assert found[0].serial_number == target.serial_number


def test_unknown_identifier(cas):
    with pytest.raises(Exception) as err:
        cas.describe_client_certificate(
            cas_models.DescribeClientCertificateRequest(identifier="0000000000000000000000000000dead"))
    code, status = alibaba_error(err)
    assert code == "Certificate.NotFound" and status == 404

"""Huawei Cloud IoTDA v5 device certificates through huaweicloudsdkiotda, with the basic signature
(SDK-HMAC-SHA256) and the derived one (V11-HMAC-SHA256 via the SDK's default derived predicate):
ListDeviceCertificate (marker paging), ShowDeviceCertificate, UpdateDeviceCertificate,
DeleteDeviceCertificate."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from huaweicloudsdkcore.exceptions import exceptions as hw_exceptions
from huaweicloudsdkiotda.v5 import (
    DeleteDeviceCertificateRequest,
    DeviceCertificateSimple,
    ListDeviceCertificateRequest,
    ShowDeviceCertificateRequest,
    UpdateDeviceCertificate,
    UpdateDeviceCertificateRequest,
)

from referee import common_name, load_pem_cert


def list_page(iotda, sim, limit: int, marker: str | None = None):
    return iotda.list_device_certificate(
        ListDeviceCertificateRequest(instance_id=sim.instance_id, limit=limit, marker=marker))


def show(iotda, sim, cid: str):
    return iotda.show_device_certificate(ShowDeviceCertificateRequest(instance_id=sim.instance_id, certificate_id=cid))


def set_status(iotda, sim, cid: str, status: str):
    return iotda.update_device_certificate(UpdateDeviceCertificateRequest(
        instance_id=sim.instance_id, certificate_id=cid, body=UpdateDeviceCertificate(status=status)))


def test_list_parses_and_pages_with_the_marker(iotda, sim):
    first = list_page(iotda, sim, 10)
    assert first.status_code == 200
    assert len(first.device_certificates) == 10
    assert isinstance(first.page.count, int) and first.page.count > 10
    assert isinstance(first.page.marker, str) and first.page.marker
    for item in first.device_certificates:
        assert isinstance(item, DeviceCertificateSimple)
        assert item.certificate_id and item.common_name
        assert item.status in ("ACTIVE", "INACTIVE")
        assert len(item.fingerprint) == 64 and item.fingerprint == item.fingerprint.upper()
        assert len(item.expiry_date) == 16 and item.expiry_date.endswith("Z") and "T" in item.expiry_date
    second = list_page(iotda, sim, 10, first.page.marker)
    assert len(second.device_certificates) > 0
    first_ids = [c.certificate_id for c in first.device_certificates]
    second_ids = [c.certificate_id for c in second.device_certificates]
    assert not set(first_ids) & set(second_ids), "the marker did not move past the first page"


def test_show_update_delete(iotda, sim, huawei_signing):
    # Signing variants take different certificates so they never act on the same one.
    listed = list_page(iotda, sim, 10).device_certificates[0 if huawei_signing == "basic" else 1]
    cid = listed.certificate_id

    shown = show(iotda, sim, cid)
    assert shown.status_code == 200
    assert shown.certificate_id == cid
    cert = load_pem_cert(shown.certificate_pem)
    assert shown.common_name == common_name(cert)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert shown.fingerprint == hashlib.sha256(der).hexdigest().upper()
    assert shown.expiry_date == cert.not_valid_after_utc.strftime("%Y%m%dT%H%M%SZ")

    for status in ["INACTIVE", "ACTIVE"]:
        updated = set_status(iotda, sim, cid, status)
        assert updated.status_code == 200
        assert updated.certificate_id == cid and updated.status == status
        assert show(iotda, sim, cid).status == status

    deleted = iotda.delete_device_certificate(
        DeleteDeviceCertificateRequest(instance_id=sim.instance_id, certificate_id=cid))
    assert deleted.status_code == 204
    with pytest.raises(hw_exceptions.ClientRequestException) as gone:
        show(iotda, sim, cid)
    assert gone.value.status_code == 404
    assert gone.value.error_code


def test_invalid_status_is_refused(iotda, sim):
    cid = list_page(iotda, sim, 10).device_certificates[2].certificate_id
    with pytest.raises(hw_exceptions.ClientRequestException) as err:
        set_status(iotda, sim, cid, "REVOKED")
    assert err.value.status_code == 400
    assert err.value.error_code == "IOTDA.000006"

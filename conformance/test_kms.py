"""KMS 2016-01-20 certificate operations through alibabacloud-kms20160120 2.3.1 (the last SDK that
still has them), V3 and V1 signatures: Create → Describe → Upload → Get → UpdateCertificateStatus →
Delete, with the state change visible to the SDK after each step."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives import serialization

from alibabacloud_kms20160120 import models as kms_models

from referee import alibaba_error, common_name, load_pem_cert


def describe(kms, certificate_id: str):
    return kms.describe_certificate(kms_models.DescribeCertificateRequest(certificate_id=certificate_id)).body


def test_certificate_lifecycle(kms, local_ca):
    cn = f"kms-{uuid.uuid4().hex[:8]}.conformance.example.com"
    created = kms.create_certificate(kms_models.CreateCertificateRequest(
        subject=f"C=CN,O=certdesk,OU=conformance,CN={cn}",
        key_spec="EC_P256",
        exportable_private_key=False,
        subject_alternative_names=[cn],
    )).body
    assert isinstance(created.certificate_id, str) and created.certificate_id
    assert created.request_id
    assert created.arn and created.certificate_id in created.arn
    assert "BEGIN CERTIFICATE REQUEST" in created.csr
    cid = created.certificate_id

    pending = describe(kms, cid)
    assert pending.certificate_id == cid
    assert pending.status == "PENDING"
    assert pending.key_spec == "EC_P256"
    assert cn in (pending.subject or "")

    signed = local_ca.sign_csr(created.csr)
    signed_pem = signed.public_bytes(serialization.Encoding.PEM).decode()
    uploaded = kms.upload_certificate(kms_models.UploadCertificateRequest(
        certificate_id=cid, certificate=signed_pem, certificate_chain=local_ca.pem,
    )).body
    assert uploaded.request_id

    active = describe(kms, cid)
    assert active.status == "ACTIVE"
    assert active.serial and int(active.serial.replace(":", ""), 16) == signed.serial_number
    assert active.not_after and active.not_before
    assert active.issuer and "certdesk conformance CA" in active.issuer
    assert active.signature_algorithm == "ECDSA-SHA256"
    assert isinstance(active.exportable_private_key, bool)
    assert cn in (active.subject_alternative_names or [])

    got = kms.get_certificate(kms_models.GetCertificateRequest(certificate_id=cid)).body
    assert got.certificate_id == cid
    assert load_pem_cert(got.certificate) == signed
    assert common_name(load_pem_cert(got.certificate)) == cn
    assert "BEGIN CERTIFICATE REQUEST" in got.csr
    assert load_pem_cert(got.certificate_chain) == local_ca.cert

    for status in ["INACTIVE", "ACTIVE", "REVOKED"]:
        kms.update_certificate_status(kms_models.UpdateCertificateStatusRequest(certificate_id=cid, status=status))
        assert describe(kms, cid).status == status

    kms.delete_certificate(kms_models.DeleteCertificateRequest(certificate_id=cid))
    with pytest.raises(Exception) as gone:
        describe(kms, cid)
    assert alibaba_error(gone) == ("Certificate.NotFound", 404)


def test_unknown_certificate_is_certificate_not_found(kms):
    with pytest.raises(Exception) as err:
        kms.update_certificate_status(kms_models.UpdateCertificateStatusRequest(
            certificate_id=str(uuid.uuid4()), status="INACTIVE"))
    assert alibaba_error(err) == ("Certificate.NotFound", 404)


def test_invalid_status_is_refused(kms, local_ca):
    created = kms.create_certificate(kms_models.CreateCertificateRequest(
        subject="C=CN,O=certdesk,OU=conformance,CN=status.conformance.example.com", key_spec="EC_P256",
    )).body
    signed = local_ca.sign_csr(created.csr).public_bytes(serialization.Encoding.PEM).decode()
    kms.upload_certificate(kms_models.UploadCertificateRequest(
        certificate_id=created.certificate_id, certificate=signed))
    # DISABLED is the seed documents' mistake; the API knows ACTIVE | INACTIVE | REVOKED only.
    with pytest.raises(Exception) as err:
        kms.update_certificate_status(kms_models.UpdateCertificateStatusRequest(
            certificate_id=created.certificate_id, status="DISABLED"))
    assert alibaba_error(err) == ("InvalidParameter", 400)
    assert describe(kms, created.certificate_id).status == "ACTIVE"
    kms.delete_certificate(kms_models.DeleteCertificateRequest(certificate_id=created.certificate_id))

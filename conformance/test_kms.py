"""KMS 2016-01-20 certificate operations through alibabacloud-kms20160120 2.3.1 (the last SDK that
still has them), V3 and V1 signatures: Create → Describe → Upload → Get → UpdateCertificateStatus →
Delete, with the state change visible to the SDK after each step; CreateCertificate for every key
spec (RSA_2048, EC_SM2, EC_P256) with a real key and a CSR that verifies."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

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


# SM2 signatures use the GM/T 0009 default distinguishing identifier (what OpenSSL and the
# Chinese CAs use). Python's cryptography has no SM2, so SM2 CSRs are checked and signed by the
# openssl command (OpenSSL 3; CI installs it).
SM2_DIST_ID = "distid:1234567812345678"
SIGNATURE_ALGORITHMS = {"EC_P256": "ECDSA-SHA256", "RSA_2048": "RSA2048-SHA256", "EC_SM2": "SM2-SM3"}


def openssl(*args: str) -> str:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True)
    assert done.returncode == 0, f"openssl {args}: {done.stderr}"
    return done.stdout + done.stderr


def public_key_der(pem: str) -> bytes:
    return serialization.load_pem_public_key(pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_body(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def sign_sm2_csr_with_openssl(local_ca, csr_pem: str, work: Path) -> str:
    """The local CA (EC P-256) issues a certificate for an SM2 CSR; openssl checks its SM2
    self-signature first."""
    (work / "ca.pem").write_text(local_ca.pem)
    (work / "ca.key").write_bytes(local_ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (work / "req.pem").write_text(csr_pem)
    openssl("x509", "-req", "-in", str(work / "req.pem"), "-vfyopt", SM2_DIST_ID, "-CA", str(work / "ca.pem"),
            "-CAkey", str(work / "ca.key"), "-CAcreateserial", "-days", "30", "-sha256",
            "-out", str(work / "leaf.pem"))
    return (work / "leaf.pem").read_text()


@pytest.mark.parametrize("key_spec", ["RSA_2048", "EC_SM2", "EC_P256"])
def test_create_certificate_generates_a_real_key_and_csr_for_every_key_spec(kms, local_ca, key_spec):
    cn = f"{key_spec.lower().replace('_', '-')}-{uuid.uuid4().hex[:8]}.conformance.example.com"
    created = kms.create_certificate(kms_models.CreateCertificateRequest(
        subject=f"C=CN,O=certdesk,OU=conformance,CN={cn}",
        key_spec=key_spec,
        subject_alternative_names=[cn],
    )).body
    cid = created.certificate_id
    assert cid and "BEGIN CERTIFICATE REQUEST" in created.csr

    pending = describe(kms, cid)
    assert pending.status == "PENDING"
    assert pending.key_spec == key_spec
    assert "BEGIN PUBLIC KEY" in pending.subject_public_key

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if key_spec == "EC_SM2":
            (work / "csr.pem").write_text(created.csr)
            text = openssl("req", "-in", str(work / "csr.pem"), "-verify", "-vfyopt", SM2_DIST_ID,
                           "-noout", "-text")
            assert "verify OK" in text and "SM2" in text and cn in text, text
            csr_key = openssl("req", "-in", str(work / "csr.pem"), "-pubkey", "-noout")
            assert pem_body(csr_key) == pem_body(pending.subject_public_key)
            signed_pem = sign_sm2_csr_with_openssl(local_ca, created.csr, work)
        else:
            csr = x509.load_pem_x509_csr(created.csr.encode())
            assert csr.is_signature_valid
            key = csr.public_key()
            if key_spec == "RSA_2048":
                assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
            else:
                assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
            assert key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
                == public_key_der(pending.subject_public_key)
            signed_pem = local_ca.sign_csr(created.csr).public_bytes(serialization.Encoding.PEM).decode()

    kms.upload_certificate(kms_models.UploadCertificateRequest(
        certificate_id=cid, certificate=signed_pem, certificate_chain=local_ca.pem))
    active = describe(kms, cid)
    assert active.status == "ACTIVE"
    assert active.key_spec == key_spec
    assert active.signature_algorithm == SIGNATURE_ALGORITHMS[key_spec]
    got = kms.get_certificate(kms_models.GetCertificateRequest(certificate_id=cid)).body
    assert pem_body(got.certificate) == pem_body(signed_pem)
    assert got.csr == created.csr
    kms.delete_certificate(kms_models.DeleteCertificateRequest(certificate_id=cid))


def test_a_certificate_for_another_key_is_refused(kms, local_ca):
    """The uploaded certificate must carry the generated key: an RSA request signed for a
    different (EC) key gets Certificate.MissMatch."""
    created = kms.create_certificate(kms_models.CreateCertificateRequest(
        subject="C=CN,O=certdesk,OU=conformance,CN=mismatch.conformance.example.com", key_spec="RSA_2048",
    )).body
    _, other_pem, _ = local_ca.leaf("mismatch.conformance.example.com")
    with pytest.raises(Exception) as err:
        kms.upload_certificate(kms_models.UploadCertificateRequest(
            certificate_id=created.certificate_id, certificate=other_pem))
    assert alibaba_error(err)[0] == "Certificate.MissMatch"
    assert describe(kms, created.certificate_id).status == "PENDING"
    kms.delete_certificate(kms_models.DeleteCertificateRequest(certificate_id=created.certificate_id))

"""The SSL Certificates Service (cas 2020-04-07) through alibabacloud-cas20200407 3.9.4, V3 and V1:
ListUserCertificateOrder (the CPACK default, CERT/UPLOAD, the hidden expired ones, paging),
GetUserCertificateDetail (with and without CertFilter), UploadUserCertificate (checked, unique
names, ClientToken), DeleteUserCertificate (not while deployed) and ListCloudResources (CertIds
sent as the SDK shrinks them, a JSON array). Field types as the contract gives them: ids are ints,
list dates `YYYY-MM-DD` strings, ListCloudResources times strings of UNIX seconds."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from alibabacloud_cas20200407 import models as ssl_models

from referee import alibaba_error, load_pem_cert

WILDCARD = 12000000  # seeded: *.certdesk-demo.net, deployed on CDN www and assets
EXPIRED = 12000002  # seeded: expired


def orders(ssl, **kwargs):
    return ssl.list_user_certificate_order(ssl_models.ListUserCertificateOrderRequest(**kwargs)).body


def detail(ssl, cert_id: int, cert_filter: bool | None = None):
    return ssl.get_user_certificate_detail(
        ssl_models.GetUserCertificateDetailRequest(cert_id=cert_id, cert_filter=cert_filter)).body


def resources(ssl, **kwargs):
    return ssl.list_cloud_resources(ssl_models.ListCloudResourcesRequest(**kwargs)).body


def test_the_cpack_default_lists_orders_not_certificates(ssl):
    body = orders(ssl)
    assert body.request_id and body.total_count >= 1
    for order in body.certificate_order_list:
        assert order.certificate_id is None
        assert isinstance(order.order_id, int) and isinstance(order.cert_end_time, int)


def test_cert_listing_types_paging_and_expired(ssl):
    valid = orders(ssl, order_type="CERT", current_page=1, show_size=500)
    assert valid.current_page == 1 and valid.show_size == 500
    assert isinstance(valid.total_count, int) and valid.total_count == len(valid.certificate_order_list)
    for c in valid.certificate_order_list:
        assert isinstance(c.certificate_id, int)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", c.end_date) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", c.start_date)
        assert c.expired is False and isinstance(c.upload, bool)
        assert isinstance(c.sans, str) and c.common_name in c.sans.split(",")
        assert re.fullmatch(r"[0-9A-F]{64}", c.sha_2)
    ids = [c.certificate_id for c in valid.certificate_order_list]
    assert WILDCARD in ids and EXPIRED not in ids, "the default hides expired certificates"
    expired = orders(ssl, order_type="CERT", status="EXPIRED", show_size=500)
    assert EXPIRED in [c.certificate_id for c in expired.certificate_order_list]
    assert all(c.expired is True for c in expired.certificate_order_list)
    paged = []
    for n in range(1, valid.total_count // 2 + 2):
        paged += [c.certificate_id for c in orders(ssl, order_type="CERT", current_page=n, show_size=2)
                  .certificate_order_list]
    assert paged == ids
    uploads = orders(ssl, order_type="UPLOAD", show_size=500).certificate_order_list
    assert uploads and all(c.upload is True for c in uploads)


def test_detail_with_and_without_the_pem(ssl):
    full = detail(ssl, WILDCARD)
    assert full.id == WILDCARD and full.cert_identifier == f"{WILDCARD}-cn-hangzhou"
    cert = load_pem_cert(full.cert)
    key = serialization.load_pem_private_key(full.key.encode(), password=None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers(), "Key is the certificate's"
    assert isinstance(full.not_after, int) and isinstance(full.not_before, int)
    # The unit is not documented; the simulator sends milliseconds.
    assert abs(full.not_after / 1000 - cert.not_valid_after_utc.timestamp()) < 2
    assert full.end_date == cert.not_valid_after_utc.strftime("%Y-%m-%d")
    assert full.sha_2.lower() == cert.fingerprint(hashes.SHA256()).hex()
    assert full.cert_chain and isinstance(full.cert_chain[0].remain_day, int)
    bare = detail(ssl, WILDCARD, cert_filter=True)
    assert bare.cert is None and bare.key is None and bare.id == WILDCARD
    with pytest.raises(Exception) as err:
        detail(ssl, 1)
    assert alibaba_error(err) == ("Certificate.NotFound", 404)


def test_upload_checks_names_tokens_and_delete(ssl, local_ca, alibaba_signature):
    cn = f"up-{alibaba_signature}-{uuid.uuid4().hex[:6]}.certdesk-demo.net"
    cert, cert_pem, key_pem = local_ca.leaf(cn)
    name = f"conformance-{uuid.uuid4().hex[:8]}"
    token = uuid.uuid4().hex
    request = ssl_models.UploadUserCertificateRequest(name=name, cert=cert_pem, key=key_pem, client_token=token)
    first = ssl.upload_user_certificate(request).body
    assert isinstance(first.cert_id, int) and isinstance(first.resource_id, str) and first.resource_id
    again = ssl.upload_user_certificate(request).body
    assert again.cert_id == first.cert_id, "the same ClientToken is the same upload"
    listed = orders(ssl, order_type="UPLOAD", keyword=cn, show_size=50).certificate_order_list
    assert [c.certificate_id for c in listed] == [first.cert_id]
    assert listed[0].name == name and listed[0].upload is True
    stored = detail(ssl, first.cert_id)
    assert load_pem_cert(stored.cert) == cert and stored.key == key_pem and stored.buy_in_aliyun is False

    with pytest.raises(Exception) as err:
        ssl.upload_user_certificate(ssl_models.UploadUserCertificateRequest(name=name, cert=cert_pem, key=key_pem))
    assert alibaba_error(err) == ("InvalidParameter", 400), "names are unique"
    _, _, other_key = local_ca.leaf(cn)
    with pytest.raises(Exception) as err:
        ssl.upload_user_certificate(ssl_models.UploadUserCertificateRequest(
            name=name + "-x", cert=cert_pem, key=other_key))
    assert alibaba_error(err) == ("Certificate.MissMatch", 400)
    with pytest.raises(Exception) as err:
        ssl.upload_user_certificate(ssl_models.UploadUserCertificateRequest(name=name + "-y", cert=cert_pem))
    assert alibaba_error(err) == ("MissingParameter", 400)

    delete = ssl_models.DeleteUserCertificateRequest(cert_id=first.cert_id, client_token=uuid.uuid4().hex)
    assert ssl.delete_user_certificate(delete).body.request_id
    assert ssl.delete_user_certificate(delete).body.request_id, "a repeated token succeeds again"
    with pytest.raises(Exception) as err:
        detail(ssl, first.cert_id)
    assert alibaba_error(err) == ("Certificate.NotFound", 404)


def test_a_deployed_certificate_is_not_deleted(ssl):
    with pytest.raises(Exception) as err:
        ssl.delete_user_certificate(ssl_models.DeleteUserCertificateRequest(cert_id=WILDCARD))
    assert alibaba_error(err) == ("Certificate.InUse", 400)
    assert detail(ssl, WILDCARD, cert_filter=True).id == WILDCARD


def test_cloud_resources(ssl):
    body = resources(ssl, cert_ids=[WILDCARD], current_page=1, show_size=50)
    assert body.request_id and body.current_page == 1 and body.show_size == 50
    assert isinstance(body.total, int) and body.total == len(body.data)
    assert sorted(d.domain for d in body.data) == ["assets.certdesk-demo.net", "www.certdesk-demo.net"]
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    for d in body.data:
        assert d.cert_id == WILDCARD and isinstance(d.id, int) and isinstance(d.user_id, int)
        assert d.cloud_name == "aliyun" and d.cloud_product == "CDN"
        for t in (d.cert_start_time, d.cert_end_time, d.gmt_create):
            assert isinstance(t, str) and t.isdigit(), "UNIX seconds as a string"
        assert int(d.cert_end_time) > now
        assert d.enable_https in (0, 1) and isinstance(d.use_ssl, int)
    both = resources(ssl, cert_ids=[WILDCARD, 12000001], show_size=50)
    assert both.total > body.total
    vod = resources(ssl, cloud_product="VOD", show_size=50)
    assert all(d.cloud_product == "VOD" and d.domain.endswith(".certdesk-demo.com") for d in vod.data)
    assert resources(ssl, cloud_name="Tencent").total == 0
    assert resources(ssl, keyword="assets").total >= 1

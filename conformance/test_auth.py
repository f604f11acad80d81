"""Authentication as the SDKs see it: with one byte of the secret flipped every product answers
the service's own error code, which the SDK raises (Alibaba `SignatureDoesNotMatch`, an unknown
AccessKey id `InvalidAccessKeyId.NotFound`, Huawei `APIG.0301`)."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions import exceptions as hw_exceptions
from huaweicloudsdkiotda.v5 import ListDeviceCertificateRequest

from alibabacloud_cas20200407 import models as ssl_models
from alibabacloud_cas20200630 import models as cas_models
from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_esa20240910 import models as esa_models
from alibabacloud_kms20160120 import models as kms_models
from alibabacloud_vod20170321 import models as vod_models

from referee import alibaba_client, alibaba_error, flip_one_byte, iotda_client

# One cheap, valid call per product; only the credentials are wrong.
CALLS = {
    "kms": lambda c: c.describe_certificate(kms_models.DescribeCertificateRequest(certificate_id="any")),
    "cas": lambda c: c.list_client_certificate(cas_models.ListClientCertificateRequest(current_page=1, show_size=1)),
    "esa": lambda c: c.list_sites(esa_models.ListSitesRequest(page_number=1, page_size=1)),
    "vod": lambda c: c.describe_vod_user_domains(vod_models.DescribeVodUserDomainsRequest(page_number=1, page_size=1)),
    "cdn": lambda c: c.describe_user_domains(cdn_models.DescribeUserDomainsRequest(page_number=1, page_size=1)),
    "ssl": lambda c: c.list_user_certificate_order(
        ssl_models.ListUserCertificateOrderRequest(order_type="CERT", current_page=1, show_size=1)),
    "sts": lambda c: c.get_caller_identity(),
}


@pytest.mark.tamper
@pytest.mark.parametrize("product", sorted(CALLS))
def test_flipped_secret_is_signature_does_not_match(sim, alibaba_signature, product):
    client = alibaba_client(product, sim, alibaba_signature, secret=flip_one_byte(sim.alibaba_secret))
    with pytest.raises(Exception) as err:
        CALLS[product](client)
    assert alibaba_error(err) == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("product", sorted(CALLS))
def test_unknown_access_key_is_invalid_access_key_id(sim, alibaba_signature, product):
    client = alibaba_client(product, sim, alibaba_signature, key_id="LTAInoSuchKey0000")
    with pytest.raises(Exception) as err:
        CALLS[product](client)
    code, status = alibaba_error(err)
    assert code == "InvalidAccessKeyId.NotFound" and status in (400, 404), (code, status)


@pytest.mark.parametrize("product", sorted(CALLS))
def test_right_secret_is_accepted(sim, alibaba_signature, product):
    """The control for the two tests above: the same call with the right secret works."""
    client = alibaba_client(product, sim, alibaba_signature)
    if product == "kms":
        with pytest.raises(Exception) as err:
            CALLS[product](client)
        assert alibaba_error(err) == ("Certificate.NotFound", 404), "authenticated, then not found"
    else:
        assert CALLS[product](client).body.request_id


@pytest.mark.tamper
def test_flipped_huawei_sk_is_apig_0301(sim, huawei_signing):
    client = iotda_client(sim, huawei_signing, sk=flip_one_byte(sim.huawei_sk))
    with pytest.raises(hw_exceptions.ClientRequestException) as err:
        client.list_device_certificate(ListDeviceCertificateRequest(instance_id=sim.instance_id, limit=1))
    assert err.value.status_code == 401
    assert err.value.error_code == "APIG.0301"
    assert err.value.request_id, "the gateway error carries a request id"
    # Control: the right SK works with the same signing choice.
    ok = iotda_client(sim, huawei_signing).list_device_certificate(
        ListDeviceCertificateRequest(instance_id=sim.instance_id, limit=1))
    assert ok.status_code == 200

"""Accounts and regions as the official SDKs see them (`certdesk sim --accounts 2`).

The second account's keys reach only its own inventories (CDN, SSL repository, KMS, IoTDA), and
regions differ where the products are regional. With an endpoint override every region shares
one host; the region is named through the SDK's `Config.global_parameters` (the signed header
`x-acs-region-id` for V3, the signed `RegionId` parameter for V1) and, for Huawei, by the project
id of the region (each account has one IAM project per region)."""

from __future__ import annotations

import uuid

import pytest
from huaweicloudsdkcore.exceptions import exceptions as hw_exceptions
from huaweicloudsdkiotda.v5 import ListDeviceCertificateRequest

from alibabacloud_cas20200407 import models as ssl_models
from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_esa20240910 import models as esa_models
from alibabacloud_kms20160120 import models as kms_models

from referee import account_client, alibaba_client, alibaba_error, iotda_client


def cdn_names(cdn) -> list[str]:
    body = cdn.describe_user_domains(cdn_models.DescribeUserDomainsRequest(page_size=500)).body
    return [d.domain_name for d in body.domains.page_data]


def ssl_ids(ssl) -> list[int]:
    body = ssl.list_user_certificate_order(
        ssl_models.ListUserCertificateOrderRequest(order_type="CERT", show_size=500)).body
    return [c.certificate_id for c in body.certificate_order_list]


def test_machine_readable_lines(sim, second_account):
    first = sim.accounts[0]
    assert (first.account_id, first.alibaba_id, first.alibaba_secret) == \
        ("1234567890123456", sim.alibaba_id, sim.alibaba_secret)
    assert (first.huawei_ak, first.huawei_sk) == (sim.huawei_ak, sim.huawei_sk)
    assert first.projects["cn-north-4"] == (sim.project_id, sim.instance_id)
    assert len(second_account.account_id) == 16 and second_account.account_id != first.account_id
    assert second_account.alibaba_id != first.alibaba_id
    assert set(second_account.projects) == set(first.projects) == {"cn-north-4", "cn-east-3", "ap-southeast-1"}


def test_second_account_sees_only_its_inventory(sim, second_account, alibaba_signature):
    mine = cdn_names(account_client("cdn", sim, second_account, alibaba_signature))
    theirs = cdn_names(alibaba_client("cdn", sim, alibaba_signature))
    assert mine and theirs and not set(mine) & set(theirs)
    assert all(n.endswith(".a2.certdesk-demo.net") for n in mine)
    with pytest.raises(Exception) as err:
        account_client("cdn", sim, second_account, alibaba_signature).describe_domain_certificate_info(
            cdn_models.DescribeDomainCertificateInfoRequest(domain_name=theirs[0]))
    assert alibaba_error(err) == ("InvalidDomain.NotFound", 404)

    ssl = account_client("ssl", sim, second_account, alibaba_signature)
    wildcard = ssl.get_user_certificate_detail(ssl_models.GetUserCertificateDetailRequest(cert_id=12000000)).body
    assert wildcard.common == "*.a2.certdesk-demo.net", "same ids, the account's own certificates"

    # A KMS certificate created by one account is not the other's.
    kms1 = alibaba_client("kms", sim, alibaba_signature)
    kms2 = account_client("kms", sim, second_account, alibaba_signature)
    created = kms2.create_certificate(kms_models.CreateCertificateRequest(
        subject=f"C=CN,O=certdesk,OU=conformance,CN=a2-{uuid.uuid4().hex[:6]}.example.com", key_spec="EC_P256",
        exportable_private_key=False)).body
    assert f":{second_account.account_id}:" in created.arn
    with pytest.raises(Exception) as err:
        kms1.describe_certificate(kms_models.DescribeCertificateRequest(certificate_id=created.certificate_id))
    assert alibaba_error(err) == ("Certificate.NotFound", 404)


def test_second_account_iotda(sim, second_account, huawei_signing):
    project, instance = second_account.projects["cn-north-4"]
    own = iotda_client(sim, huawei_signing, ak=second_account.huawei_ak, sk=second_account.huawei_sk,
                       project_id=project)
    mine = own.list_device_certificate(ListDeviceCertificateRequest(instance_id=instance, limit=50))
    first = iotda_client(sim, huawei_signing).list_device_certificate(
        ListDeviceCertificateRequest(instance_id=sim.instance_id, limit=50))
    assert mine.page.count == first.page.count
    assert not {c.certificate_id for c in mine.device_certificates} & {c.certificate_id for c in first.device_certificates}
    # The second account's key on the first account's project is refused.
    other = iotda_client(sim, huawei_signing, ak=second_account.huawei_ak, sk=second_account.huawei_sk)
    with pytest.raises(hw_exceptions.ClientRequestException) as err:
        other.list_device_certificate(ListDeviceCertificateRequest(limit=1))
    assert (err.value.status_code, err.value.error_code) == (403, "IOTDA.000022")


def test_regions_differ_where_products_are_regional(sim, alibaba_signature):
    in_region = lambda product, region: alibaba_client(product, sim, alibaba_signature, region_marker=region)
    # KMS: a certificate made in cn-shanghai exists only there.
    shanghai = in_region("kms", "cn-shanghai")
    created = shanghai.create_certificate(kms_models.CreateCertificateRequest(
        subject=f"C=CN,O=certdesk,OU=conformance,CN=sh-{uuid.uuid4().hex[:6]}.example.com", key_spec="EC_P256",
        exportable_private_key=False)).body
    assert created.arn.startswith("acs:kms:cn-shanghai:")
    assert shanghai.describe_certificate(
        kms_models.DescribeCertificateRequest(certificate_id=created.certificate_id)).body.status == "PENDING"
    with pytest.raises(Exception) as err:
        in_region("kms", "cn-hangzhou").describe_certificate(
            kms_models.DescribeCertificateRequest(certificate_id=created.certificate_id))
    assert alibaba_error(err) == ("Certificate.NotFound", 404)

    # CDN is central: China regions share cdn.aliyuncs.com, overseas ones the Singapore endpoint.
    assert cdn_names(in_region("cdn", "cn-shanghai")) == cdn_names(alibaba_client("cdn", sim, alibaba_signature))
    overseas = cdn_names(in_region("cdn", "ap-southeast-1"))
    assert overseas and all(n.endswith(".ap-southeast-1.certdesk-demo.net") for n in overseas)
    assert cdn_names(in_region("cdn", "us-east-1")) == overseas
    # The SSL repository: the international site has its own certificates.
    intl = in_region("ssl", "ap-southeast-1")
    assert min(ssl_ids(intl)) == 52000000 and 12000000 not in ssl_ids(intl)
    assert intl.get_user_certificate_detail(ssl_models.GetUserCertificateDetailRequest(cert_id=52000000)).body \
        .cert_identifier == "52000000-ap-southeast-1"

    # ESA has no cn-shanghai endpoint; a region that is not simulated is refused the same way.
    sites = lambda region: in_region("esa", region).list_sites(esa_models.ListSitesRequest(page_size=100)).body.sites
    assert {s.site_id for s in sites("ap-southeast-1")}.isdisjoint({s.site_id for s in sites("cn-hangzhou")})
    for region in ("cn-shanghai", "mars-1"):
        with pytest.raises(Exception) as err:
            sites(region)
        assert alibaba_error(err) == ("InvalidRegionId", 400)


def test_huawei_regions_are_projects(sim, huawei_signing):
    first = sim.accounts[0]
    seen = []
    for region, (project, instance) in sorted(first.projects.items()):
        client = iotda_client(sim, huawei_signing, project_id=project, region=region)
        body = client.list_device_certificate(ListDeviceCertificateRequest(instance_id=instance, limit=50))
        seen.append({c.certificate_id for c in body.device_certificates})
    assert len(seen) == 3 and all(seen)
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])

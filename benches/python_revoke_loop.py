"""The baseline of benches/bulk_rate.rs: a plain sequential loop over the official Python SDK
(alibabacloud-cas20200630) revoking the given identifiers against the simulator.

usage: python_revoke_loop.py HOST:PORT ACCESS_KEY_ID ACCESS_KEY_SECRET IDS_FILE
prints: "<revoked> <seconds>" (the loop only, not the interpreter start)."""

import sys
import time

from alibabacloud_cas20200630 import models as cas_models
from alibabacloud_cas20200630.client import Client
from alibabacloud_tea_openapi import models as open_api_models


def main() -> None:
    host, key_id, secret, ids_file = sys.argv[1:5]
    ids = [line.strip() for line in open(ids_file, encoding="utf-8") if line.strip()]
    client = Client(open_api_models.Config(access_key_id=key_id, access_key_secret=secret,
                                           endpoint=host, protocol="HTTP", region_id="cn-hangzhou"))
    start = time.perf_counter()
    for identifier in ids:
        client.create_revoke_client_certificate(
            cas_models.CreateRevokeClientCertificateRequest(identifier=identifier))
    print(len(ids), time.perf_counter() - start)


if __name__ == "__main__":
    main()

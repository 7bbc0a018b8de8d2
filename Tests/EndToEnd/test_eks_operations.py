"""Every operation of the installed botocore's EKS model is answered: sent at its method and path (path parameters
filled in, an empty JSON body), none may come back as UnknownOperationException."""
import re

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import urllib.request
import urllib.error

from conftest import module_server


server = module_server("operations", provisioning_delay=0.2)


def operations():
    model = botocore.session.get_session().get_service_model("eks")
    return [model.operation_model(name) for name in model.operation_names]


def send(server, method, path):
    request = AWSRequest(method=method, url=server.url + path, data=b"{}" if method in ("POST", "PUT") else b"",
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "eks", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, data=request.body or None, method=method, headers=dict(request.headers))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, response.headers.get("x-amzn-ErrorType", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("x-amzn-ErrorType", ""), error.read()


def test_every_operation_in_the_model_is_answered(server):
    unknown = []
    for operation in operations():
        path = re.sub(r"\{[^}]+\}", "missing", operation.http["requestUri"].split("?")[0])
        status, error_type, body = send(server, operation.http["method"], path)
        text = body.decode(errors="replace")
        if "UnknownOperationException" in error_type or "UnknownOperationException" in text:
            unknown.append(f"{operation.name} ({operation.http['method']} {path})")
    assert unknown == [], f"{len(unknown)} of {len(operations())} operations unanswered: {unknown}"

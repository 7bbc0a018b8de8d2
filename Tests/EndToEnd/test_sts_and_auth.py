"""STS GetCallerIdentity and SigV4 verification, through the real clients."""
import json
import subprocess
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from conftest import BINARY


def test_cli_get_caller_identity_is_the_default_root(skiff):
    identity = skiff.aws("sts", "get-caller-identity")
    assert identity == {"UserId": "000000000000", "Account": "000000000000",
                        "Arn": "arn:aws:iam::000000000000:root"}


def test_boto3_get_caller_identity_carries_a_request_id(skiff):
    response = skiff.client("sts").get_caller_identity()
    assert response["Account"] == "000000000000"
    assert response["ResponseMetadata"]["RequestId"]


def test_wrong_secret_is_refused_in_each_protocols_shape(skiff):
    for service, call, code in [("sts", "get_caller_identity", "SignatureDoesNotMatch"),
                                ("eks", "list_clusters", "InvalidSignatureException"),
                                ("ec2", "describe_vpcs", "AuthFailure")]:
        with pytest.raises(botocore.exceptions.ClientError) as error:
            getattr(skiff.client(service, secret="wrong"), call)()
        assert error.value.response["Error"]["Code"] == code, service
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key_is_refused(skiff):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        skiff.client("eks", key="AKIANOTAKEY").list_clusters()
    assert error.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert error.value.response["Error"]["Message"] == "The security token included in the request is invalid."
    with pytest.raises(botocore.exceptions.ClientError) as error:
        skiff.client("sts", key="AKIANOTAKEY").get_caller_identity()
    assert error.value.response["Error"]["Code"] == "InvalidClientTokenId"
    result = skiff.aws("sts", "get-caller-identity", key="AKIANOTAKEY", check=False)
    assert result.returncode != 0 and "InvalidClientTokenId" in result.stderr


def test_unsigned_request_is_refused(skiff):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(skiff.url + "/clusters")
    assert error.value.code == 403
    assert error.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert error.value.headers["x-amzn-RequestId"]


def test_other_region_is_refused(skiff):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        skiff.client("sts", region="eu-west-1").get_caller_identity()
    assert "eu-west-1" in error.value.response["Error"]["Message"]


def test_presigned_get_caller_identity_url_works_until_it_expires(skiff):
    sts = skiff.client("sts")
    # As `aws eks get-token` builds its token: a GET URL presigned for 60 seconds.
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url) as response:
        body = response.read().decode()
    assert "<Arn>arn:aws:iam::000000000000:root</Arn>" in body
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(tampered)
    assert error.value.code == 403 and b"SignatureDoesNotMatch" in error.value.read()


def test_created_access_key_signs_as_its_iam_user(skiff):
    output = subprocess.run([str(BINARY), "iam", "create-access-key", "--user", "alice", "--data-dir", str(skiff.data_dir)],
                            capture_output=True, text=True, check=True).stdout
    key = json.loads(output)["AccessKey"]
    assert key["UserName"] == "alice" and key["AccessKeyId"].startswith("AKIA") and key["Status"] == "Active"
    identity = skiff.aws("sts", "get-caller-identity", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert identity["Arn"] == "arn:aws:iam::000000000000:user/alice"
    assert identity["UserId"].startswith("AIDA")
    assert identity["Account"] == "000000000000"


def test_invalid_user_name_is_refused_by_the_cli(skiff):
    result = subprocess.run([str(BINARY), "iam", "create-access-key", "--user", "bad name", "--data-dir", str(skiff.data_dir)],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "invalid user name" in result.stderr

"""Service-account tokens and workload identity: TokenRequest and legacy token Secrets, the OIDC issuer's
documents verified with PyJWT, TokenReview, IRSA through AssumeRoleWithWebIdentity, EKS Pod Identity."""
import base64
import json
import os
import ssl
import subprocess
import time
import urllib.request

import boto3
import jwt
import pytest
from botocore.config import Config

from conftest import ROLE, Skiff


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("identity")
    skiff = Skiff(workdir / "data").start(provisioning_delay=0)
    subnets = ",".join(s["SubnetId"] for s in skiff.client("ec2").describe_subnets()["Subnets"][:2])
    skiff.aws("eks", "create-cluster", "--name", "ids", "--role-arn", ROLE, "--resources-vpc-config", f"subnetIds={subnets}")
    skiff.aws("eks", "wait", "cluster-active", "--name", "ids")
    kubeconfig = workdir / "kubeconfig"
    assert skiff.aws("eks", "update-kubeconfig", "--name", "ids", "--kubeconfig", str(kubeconfig), check=False).returncode == 0
    description = skiff.aws("eks", "describe-cluster", "--name", "ids")["cluster"]
    ca = workdir / "ca.pem"
    ca.write_bytes(base64.b64decode(description["certificateAuthority"]["data"]))
    yield {"skiff": skiff, "kubeconfig": kubeconfig, "description": description, "ca": ca, "workdir": workdir}
    skiff.stop()


def kubectl(cluster, *args, stdin=None, check=True, token=None):
    command = ["kubectl", "--kubeconfig", str(cluster["kubeconfig"]), *(["--token", token] if token else []), *args]
    result = subprocess.run(command, input=stdin, env=cluster["skiff"].env(), capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result


def fetch(cluster, url):
    context = ssl.create_default_context(cafile=str(cluster["ca"]))
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return json.loads(response.read())


def eventually(check, timeout=10):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.1)


def test_tokens_verify_against_the_published_issuer_and_die_with_their_service_account(cluster):
    issuer = cluster["description"]["identity"]["oidc"]["issuer"]
    discovery = fetch(cluster, issuer + "/.well-known/openid-configuration")
    assert discovery["issuer"] == issuer and discovery["jwks_uri"] == issuer + "/keys"
    keys = fetch(cluster, discovery["jwks_uri"])["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"

    kubectl(cluster, "create", "serviceaccount", "builder")
    token = kubectl(cluster, "create", "token", "builder", "--audience", "ci.example.com", "--duration", "20m").stdout.strip()
    key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="ci.example.com", issuer=issuer)
    assert claims["sub"] == "system:serviceaccount:default:builder"
    assert claims["exp"] - claims["iat"] == 1200
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key, algorithms=["RS256"], audience="someone-else")

    # A token for the API server authenticates as the service account; RBAC then decides.
    api_token = kubectl(cluster, "create", "token", "builder").stdout.strip()
    whoami = json.loads(kubectl(cluster, "auth", "whoami", "-o", "json", token=api_token).stdout)["status"]["userInfo"]
    assert whoami["username"] == "system:serviceaccount:default:builder"
    assert "system:serviceaccounts:default" in whoami["groups"]
    denied = kubectl(cluster, "get", "pods", token=api_token, check=False)
    assert "cannot list resource \"pods\"" in denied.stderr
    kubectl(cluster, "create", "rolebinding", "builder-view", "--clusterrole=view", "--serviceaccount=default:builder")
    assert eventually(lambda: kubectl(cluster, "get", "pods", token=api_token, check=False).returncode == 0)
    # ... and the token of another audience does not.
    assert kubectl(cluster, "get", "pods", token=token, check=False).returncode != 0

    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": api_token}}
    answer = json.loads(kubectl(cluster, "create", "-f", "-", "-o", "json", stdin=json.dumps(review)).stdout)
    assert answer["status"]["authenticated"] is True
    assert answer["status"]["user"]["username"] == "system:serviceaccount:default:builder"
    # Asked about another audience, the review answers for that audience.
    review_ci = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                 "spec": {"token": token, "audiences": ["ci.example.com", "elsewhere"]}}
    answer = json.loads(kubectl(cluster, "create", "-f", "-", "-o", "json", stdin=json.dumps(review_ci)).stdout)["status"]
    assert answer["authenticated"] is True and answer["audiences"] == ["ci.example.com"]
    review_ci["spec"]["audiences"] = ["elsewhere"]
    assert json.loads(kubectl(cluster, "create", "-f", "-", "-o", "json", stdin=json.dumps(review_ci)).stdout)["status"]["authenticated"] is False
    review["spec"]["token"] = api_token[:-4] + "AAAA"
    assert json.loads(kubectl(cluster, "create", "-f", "-", "-o", "json", stdin=json.dumps(review)).stdout)["status"]["authenticated"] is False

    short = kubectl(cluster, "create", "token", "builder", "--duration", "5m", check=False)
    assert "may not specify a duration less than 10 minutes" in short.stderr

    kubectl(cluster, "delete", "serviceaccount", "builder")
    refused = kubectl(cluster, "auth", "whoami", token=api_token, check=False)
    assert refused.returncode != 0 and ("Unauthorized" in refused.stderr or "provide credentials" in refused.stderr)


def test_pods_get_their_service_account_volume_and_legacy_secrets_their_token(cluster):
    assert eventually(lambda: kubectl(cluster, "get", "configmap", "kube-root-ca.crt", check=False).returncode == 0)
    ca = json.loads(kubectl(cluster, "get", "configmap", "kube-root-ca.crt", "-o", "json").stdout)["data"]["ca.crt"]
    assert ca == cluster["ca"].read_text()
    kubectl(cluster, "run", "probe", "--image=busybox", "--restart=Never", "--", "sleep", "1")
    pod = json.loads(kubectl(cluster, "get", "pod", "probe", "-o", "json").stdout)
    volume = next(v for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-"))
    sources = volume["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    mount = pod["spec"]["containers"][0]["volumeMounts"][0]
    assert mount == {"name": volume["name"], "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}

    kubectl(cluster, "create", "serviceaccount", "legacy")
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
              "metadata": {"name": "legacy-token", "annotations": {"kubernetes.io/service-account.name": "legacy"}}}
    kubectl(cluster, "apply", "-f", "-", stdin=json.dumps(secret))
    filled = eventually(lambda: json.loads(kubectl(cluster, "get", "secret", "legacy-token", "-o", "json").stdout).get("data", {}).get("token"))
    token = base64.b64decode(filled).decode()
    whoami = json.loads(kubectl(cluster, "auth", "whoami", "-o", "json", token=token).stdout)["status"]["userInfo"]
    assert whoami["username"] == "system:serviceaccount:default:legacy"
    kubectl(cluster, "delete", "secret", "legacy-token")
    assert kubectl(cluster, "auth", "whoami", token=token, check=False).returncode != 0


def sts(cluster, **credentials):
    return boto3.client("sts", endpoint_url=cluster["skiff"].url, region_name="us-east-1", config=Config(retries={"max_attempts": 1}),
                        **credentials)


def test_irsa_pods_get_a_web_identity_that_sts_trades_for_the_role(cluster):
    skiff = cluster["skiff"]
    issuer = cluster["description"]["identity"]["oidc"]["issuer"]
    provider = skiff.aws("iam", "create-open-id-connect-provider", "--url", issuer, "--client-id-list", "sts.amazonaws.com",
                         "--thumbprint-list", "9e99a48a9960b14926bb7f3b02e22da2b0ab7280")["OpenIDConnectProviderArn"]
    host = issuer[len("https://"):]
    assert provider == f"arn:aws:iam::000000000000:oidc-provider/{host}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": "system:serviceaccount:default:app", f"{host}:aud": "sts.amazonaws.com"}}}]}
    role = skiff.aws("iam", "create-role", "--role-name", "app-role", "--assume-role-policy-document", json.dumps(trust))["Role"]["Arn"]

    kubectl(cluster, "create", "serviceaccount", "app")
    kubectl(cluster, "annotate", "serviceaccount", "app", f"eks.amazonaws.com/role-arn={role}")
    kubectl(cluster, "run", "app", "--image=amazon/aws-cli", "--overrides", json.dumps({"spec": {"serviceAccountName": "app"}}),
            "--", "sts", "get-caller-identity")
    pod = json.loads(kubectl(cluster, "get", "pod", "app", "-o", "json").stdout)
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["AWS_ROLE_ARN"] == role
    assert env["AWS_WEB_IDENTITY_TOKEN_FILE"] == "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
    assert env["AWS_STS_REGIONAL_ENDPOINTS"] == "regional" and env["AWS_REGION"] == "us-east-1"
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "aws-iam-token")
    assert volume["projected"]["sources"][0]["serviceAccountToken"] == {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}

    # What the kubelet would write into the volume, and the SDK's web identity provider then reads.
    token = kubectl(cluster, "create", "token", "app", "--audience", "sts.amazonaws.com", "--bound-object-kind", "Pod",
                    "--bound-object-name", "app").stdout.strip()
    token_file = cluster["workdir"] / "irsa-token"
    token_file.write_text(token)
    # A home of its own: the CLI caches web-identity credentials under ~/.aws/cli/cache, which must not outlive this Skiff.
    environment = dict(os.environ, AWS_ROLE_ARN=role, AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ENDPOINT_URL=skiff.url,
                       AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", HOME=str(cluster["workdir"]))
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
        environment.pop(name, None)
    called = subprocess.run(["aws", "sts", "get-caller-identity", "--output", "json"], env=environment, capture_output=True, text=True)
    assert called.returncode == 0, called.stderr
    identity = json.loads(called.stdout)
    assert identity["Arn"].startswith("arn:aws:sts::000000000000:assumed-role/app-role/")

    # Another service account's token is not trusted by the role.
    kubectl(cluster, "create", "serviceaccount", "other")
    other = kubectl(cluster, "create", "token", "other", "--audience", "sts.amazonaws.com").stdout.strip()
    with pytest.raises(Exception, match="AccessDenied"):
        sts(cluster, aws_access_key_id="x", aws_secret_access_key="y").assume_role_with_web_identity(
            RoleArn=role, RoleSessionName="other", WebIdentityToken=other)
    with pytest.raises(Exception, match="InvalidIdentityToken"):
        sts(cluster, aws_access_key_id="x", aws_secret_access_key="y").assume_role_with_web_identity(
            RoleArn=role, RoleSessionName="forged", WebIdentityToken=token[:-4] + "AAAA")


def test_pod_identity_associations_give_pods_their_role_through_eks_auth(cluster):
    skiff = cluster["skiff"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    role = skiff.aws("iam", "create-role", "--role-name", "reporter", "--assume-role-policy-document", json.dumps(trust))["Role"]["Arn"]
    kubectl(cluster, "create", "serviceaccount", "reports")
    association = skiff.aws("eks", "create-pod-identity-association", "--cluster-name", "ids", "--namespace", "default",
                            "--service-account", "reports", "--role-arn", role)["association"]
    assert association["associationId"].startswith("a-")
    listed = skiff.aws("eks", "list-pod-identity-associations", "--cluster-name", "ids", "--service-account", "reports")["associations"]
    assert [a["associationId"] for a in listed] == [association["associationId"]]
    again = skiff.aws("eks", "create-pod-identity-association", "--cluster-name", "ids", "--namespace", "default",
                      "--service-account", "reports", "--role-arn", role, check=False)
    assert again.returncode != 0 and "ResourceInUseException" in again.stderr

    kubectl(cluster, "run", "reporter", "--image=busybox", "--overrides", json.dumps({"spec": {"serviceAccountName": "reports"}}),
            "--", "sleep", "3600")
    pod = json.loads(kubectl(cluster, "get", "pod", "reporter", "-o", "json").stdout)
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == "http://169.254.170.23/v1/credentials"
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] == "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"

    token = kubectl(cluster, "create", "token", "reports", "--audience", "pods.eks.amazonaws.com", "--bound-object-kind", "Pod",
                    "--bound-object-name", "reporter").stdout.strip()
    agent = skiff.client("eks-auth")
    answer = agent.assume_role_for_pod_identity(clusterName="ids", token=token)
    assert answer["subject"] == {"namespace": "default", "serviceAccount": "reports"}
    assert answer["podIdentityAssociation"]["associationId"] == association["associationId"]
    credentials = answer["credentials"]
    identity = sts(cluster, aws_access_key_id=credentials["accessKeyId"], aws_secret_access_key=credentials["secretAccessKey"],
                   aws_session_token=credentials["sessionToken"]).get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::000000000000:assumed-role/reporter/eks-ids-reports-")

    # A token for the API server's audience is not one for the agent; a deleted pod's token dies with it.
    api_token = kubectl(cluster, "create", "token", "reports").stdout.strip()
    with pytest.raises(agent.exceptions.InvalidTokenException):
        agent.assume_role_for_pod_identity(clusterName="ids", token=api_token)
    kubectl(cluster, "delete", "pod", "reporter", "--grace-period=0", "--force")
    assert eventually(lambda: kubectl(cluster, "get", "pod", "reporter", check=False).returncode != 0)
    with pytest.raises(agent.exceptions.InvalidTokenException):
        agent.assume_role_for_pod_identity(clusterName="ids", token=token)

"""kubectl the EKS way: `aws eks update-kubeconfig`, `aws eks get-token` tokens verified by each
cluster's API server, IAM identities mapped by access entries and authorized by access policies."""
import base64
import datetime
import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from unittest import mock

import botocore.auth
import botocore.session
from awscli.customizations.eks.get_token import STSClientFactory, TokenGenerator

from conftest import BINARY, ROLE, Skiff, module_server


server = module_server("iam", provisioning_delay=0)


def subnet_ids(server):
    return ",".join(s["SubnetId"] for s in server.client("ec2").describe_subnets()["Subnets"][:2])


def create_cluster(server, name, *extra):
    created = server.aws("eks", "create-cluster", "--name", name, "--role-arn", ROLE,
                         "--resources-vpc-config", f"subnetIds={subnet_ids(server)}", *extra)
    assert created["cluster"]["status"] == "CREATING"
    started = time.time()
    server.aws("eks", "wait", "cluster-active", "--name", name)
    # The waiter polls every 30 s; its first poll already sees ACTIVE.
    assert time.time() - started < 15
    return server.aws("eks", "describe-cluster", "--name", name)["cluster"]


class User:
    """An IAM user with its own access key, running the real aws CLI and kubectl."""

    def __init__(self, server, tmp_path, name):
        if name == "root":
            self.key, self.secret = "test", "test"
        else:
            output = subprocess.run([str(BINARY), "iam", "create-access-key", "--user", name, "--data-dir", str(server.data_dir)],
                                    capture_output=True, text=True, check=True).stdout
            key = json.loads(output)["AccessKey"]
            self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.server, self.name = server, name
        self.arn = "arn:aws:iam::000000000000:root" if name == "root" else f"arn:aws:iam::000000000000:user/{name}"
        self.kubeconfig = tmp_path / f"{name}.kubeconfig"
        self.session_token = None

    @classmethod
    def with_keys(cls, server, tmp_path, name, key, secret, session_token=None):
        user = cls(server, tmp_path, "root")
        user.name, user.key, user.secret, user.session_token = name, key, secret, session_token
        user.kubeconfig = tmp_path / f"{name}.kubeconfig"
        return user

    def env(self):
        env = self.server.env(self.key, self.secret)
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def aws(self, *args, check=True):
        result = subprocess.run(["aws", *args, "--output", "json"], env=self.env(), capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} as {self.name} failed: {result.stderr}")
        if not check:
            return result
        return json.loads(result.stdout) if result.stdout.strip() else None

    def update_kubeconfig(self, cluster):
        result = self.aws("eks", "update-kubeconfig", "--name", cluster, "--kubeconfig", str(self.kubeconfig), check=False)
        assert result.returncode == 0 and "Added new context" in result.stdout, result.stderr

    def kubectl(self, *args, check=True):
        result = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), *args], env=self.env(),
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} as {self.name} failed: {result.stderr}")
        return result

    def token(self, cluster, at=None):
        """What `aws eks get-token` prints, built by the CLI's own code; `at` signs it at another time."""
        session = botocore.session.get_session()
        session.set_credentials(self.key, self.secret, self.session_token)
        session.set_config_variable("region", "us-east-1")
        with mock.patch.dict("os.environ", {"AWS_ENDPOINT_URL": self.server.url}):
            client = STSClientFactory(session).get_sts_client(region_name="us-east-1")
            if at is None:
                return TokenGenerator(client).get_token(cluster)
            with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
                return TokenGenerator(client).get_token(cluster)


def unauthorized(result):
    """kubectl's words for a 401, whichever request met it first."""
    return result.returncode != 0 and ("Unauthorized" in result.stderr or "provide credentials" in result.stderr)


def api_status(cluster, token, path="/api"):
    """The HTTP status of a request to the cluster's API server with this bearer token."""
    context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificateAuthority"]["data"]).decode())
    request = urllib.request.Request(cluster["endpoint"] + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_creators_update_kubeconfig_works_as_written(server, tmp_path):
    cluster = create_cluster(server, "legacy")
    assert cluster["accessConfig"] == {"bootstrapClusterCreatorAdminPermissions": True, "authenticationMode": "CONFIG_MAP"}
    root = User(server, tmp_path, "root")
    root.update_kubeconfig("legacy")
    assert "kube-system" in root.kubectl("get", "ns").stdout
    whoami = json.loads(root.kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    # On a CONFIG_MAP cluster the creator is the hidden kubernetes-admin, as on EKS.
    assert whoami["username"] == "kubernetes-admin"
    assert whoami["groups"] == ["system:masters", "system:authenticated"]
    assert whoami["extra"]["arn"] == ["arn:aws:iam::000000000000:root"]
    assert root.kubectl("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"

    # Anyone else, properly signed, is nobody here.
    bob = User(server, tmp_path, "bob-legacy")
    bob.update_kubeconfig("legacy")
    assert unauthorized(bob.kubectl("get", "ns", check=False))


def test_a_second_user_is_refused_until_its_access_entry_and_policy_say_otherwise(server, tmp_path):
    create_cluster(server, "shared", "--access-config", "authenticationMode=API")
    root = User(server, tmp_path, "root")
    assert server.aws("eks", "list-access-entries", "--cluster-name", "shared")["accessEntries"] == [root.arn]
    root.update_kubeconfig("shared")
    whoami = json.loads(root.kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert whoami["username"] == root.arn

    alice = User(server, tmp_path, "alice")
    alice.update_kubeconfig("shared")
    assert unauthorized(alice.kubectl("get", "pods", check=False))

    server.aws("eks", "create-access-entry", "--cluster-name", "shared", "--principal-arn", alice.arn)
    forbidden = alice.kubectl("get", "pods", check=False)
    assert f'User "{alice.arn}" cannot list resource "pods" in API group "" in the namespace "default"' in forbidden.stderr

    root.kubectl("create", "namespace", "dev")
    root.kubectl("-n", "dev", "create", "configmap", "settings", "--from-literal=a=b")
    server.aws("eks", "associate-access-policy", "--cluster-name", "shared", "--principal-arn", alice.arn,
               "--policy-arn", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
               "--access-scope", "type=namespace,namespaces=dev")
    assert "settings" in alice.kubectl("-n", "dev", "get", "configmaps").stdout
    denied = alice.kubectl("-n", "dev", "delete", "configmap", "settings", check=False)
    assert denied.returncode != 0 and 'cannot delete resource "configmaps"' in denied.stderr
    assert alice.kubectl("get", "configmaps", check=False).returncode != 0
    assert alice.kubectl("auth", "can-i", "list", "pods", "-n", "dev").stdout.strip() == "yes"
    assert alice.kubectl("auth", "can-i", "list", "pods", "-n", "default", check=False).stdout.strip() == "no"
    rules = alice.kubectl("auth", "can-i", "--list", "-n", "dev").stdout
    assert "configmaps" in rules and "[get list watch]" in rules

    # Cluster scope and edit: writes anywhere; secrets still need more than view.
    server.aws("eks", "associate-access-policy", "--cluster-name", "shared", "--principal-arn", alice.arn,
               "--policy-arn", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy", "--access-scope", "type=cluster")
    alice.kubectl("create", "configmap", "mine", "--from-literal=x=y")
    associated = server.aws("eks", "list-associated-access-policies", "--cluster-name", "shared", "--principal-arn", alice.arn)
    assert sorted(p["policyArn"].rsplit("/", 1)[1] for p in associated["associatedAccessPolicies"]) == ["AmazonEKSEditPolicy", "AmazonEKSViewPolicy"]

    server.aws("eks", "delete-access-entry", "--cluster-name", "shared", "--principal-arn", alice.arn)
    assert unauthorized(alice.kubectl("get", "pods", check=False))


def test_rbac_authorizes_the_groups_an_access_entry_names(server, tmp_path):
    create_cluster(server, "rbac", "--access-config", "authenticationMode=API_AND_CONFIG_MAP")
    root = User(server, tmp_path, "root")
    root.update_kubeconfig("rbac")
    names = root.kubectl("get", "clusterroles", "-o", "name").stdout.split()
    for role in ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:kube-scheduler"]:
        assert f"clusterrole.rbac.authorization.k8s.io/{role}" in names
    binding = json.loads(root.kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "json").stdout)
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]

    bob = User(server, tmp_path, "bob")
    server.aws("eks", "create-access-entry", "--cluster-name", "rbac", "--principal-arn", bob.arn, "--kubernetes-groups", "devs")
    bob.update_kubeconfig("rbac")
    whoami = json.loads(bob.kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert whoami["groups"] == ["devs", "system:authenticated"]
    assert bob.kubectl("get", "pods", check=False).returncode != 0

    root.kubectl("create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods")
    root.kubectl("create", "rolebinding", "devs-read", "--role=pod-reader", "--group=devs")
    deadline = time.time() + 5
    while bob.kubectl("auth", "can-i", "list", "pods", check=False).stdout.strip() != "yes":
        assert time.time() < deadline, "the binding never took effect"
        time.sleep(0.1)
    bob.kubectl("get", "pods")
    assert bob.kubectl("auth", "can-i", "delete", "pods", check=False).stdout.strip() == "no"
    assert "pods" in bob.kubectl("auth", "can-i", "--list").stdout

    # Managing bindings is not enough to hand oneself cluster-admin.
    root.kubectl("create", "rolebinding", "bob-binds", "--clusterrole=system:aggregate-to-admin", f"--user={bob.arn}")
    deadline = time.time() + 5
    while bob.kubectl("auth", "can-i", "create", "rolebindings", check=False).stdout.strip() != "yes":
        assert time.time() < deadline
        time.sleep(0.1)
    refused = bob.kubectl("create", "rolebinding", "mine", "--clusterrole=cluster-admin", f"--user={bob.arn}", check=False)
    assert refused.returncode != 0
    assert "is attempting to grant RBAC permissions not currently held" in refused.stderr
    bob.kubectl("create", "rolebinding", "more-readers", "--role=pod-reader", "--group=interns")


def test_iam_users_and_assumed_roles_log_in_through_access_entries_and_aws_auth(server, tmp_path):
    root = User(server, tmp_path, "root")
    root.aws("iam", "create-user", "--user-name", "dana")
    key = root.aws("iam", "create-access-key", "--user-name", "dana")["AccessKey"]
    dana = User.with_keys(server, tmp_path, "dana", key["AccessKeyId"], key["SecretAccessKey"])
    assert dana.aws("sts", "get-caller-identity")["Arn"] == "arn:aws:iam::000000000000:user/dana"
    missing = root.aws("iam", "get-role", "--role-name", "ci", check=False)
    assert missing.returncode != 0 and "NoSuchEntity" in missing.stderr

    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/dana"}, "Action": "sts:AssumeRole"}]})
    role = root.aws("iam", "create-role", "--role-name", "ci", "--assume-role-policy-document", trust)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] == "arn:aws:iam::000000000000:user/dana"
    denied = root.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "root-try", check=False)
    assert denied.returncode != 0 and "AccessDenied" in denied.stderr
    credentials = dana.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "build-7")["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    ci = User.with_keys(server, tmp_path, "ci", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
    assert ci.aws("sts", "get-caller-identity")["Arn"] == "arn:aws:sts::000000000000:assumed-role/ci/build-7"

    # The role mapped through aws-auth: in force in API_AND_CONFIG_MAP, ignored in API.
    aws_auth = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                "data": {"mapRoles": f"- rolearn: {role['Arn']}\n  username: ci:{{{{SessionName}}}}\n  groups:\n    - system:masters\n"}}
    for name, mode in [("mapped", "API_AND_CONFIG_MAP"), ("entries-only", "API")]:
        create_cluster(server, name, "--access-config", f"authenticationMode={mode}")
        root.update_kubeconfig(name)
        subprocess.run(["kubectl", "--kubeconfig", str(root.kubeconfig), "apply", "-f", "-"], input=json.dumps(aws_auth),
                       env=root.env(), capture_output=True, text=True, check=True)
        ci.kubeconfig = tmp_path / f"ci-{name}.kubeconfig"
        ci.update_kubeconfig(name)
    ci.kubeconfig = tmp_path / "ci-mapped.kubeconfig"
    whoami = json.loads(ci.kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert whoami["username"] == "ci:build-7" and "system:masters" in whoami["groups"]
    assert whoami["extra"]["canonicalArn"] == [role["Arn"]]
    ci.kubeconfig = tmp_path / "ci-entries-only.kubeconfig"
    assert unauthorized(ci.kubectl("get", "ns", check=False))

    # A user's deleted key signs nothing any more, its cached tokens included.
    server.aws("eks", "create-access-entry", "--cluster-name", "entries-only", "--principal-arn", "arn:aws:iam::000000000000:user/dana")
    server.aws("eks", "associate-access-policy", "--cluster-name", "entries-only", "--principal-arn", "arn:aws:iam::000000000000:user/dana",
               "--policy-arn", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "--access-scope", "type=cluster")
    cluster = server.aws("eks", "describe-cluster", "--name", "entries-only")["cluster"]
    token = dana.token("entries-only")
    assert api_status(cluster, token, "/api/v1/namespaces")[0] == 200
    root.aws("iam", "delete-access-key", "--user-name", "dana", "--access-key-id", dana.key)
    assert api_status(cluster, token, "/api/v1/namespaces")[0] == 401
    root.aws("iam", "delete-user", "--user-name", "dana")


def test_a_node_groups_role_is_mapped_as_eks_maps_it(server, tmp_path):
    node_role = "arn:aws:iam::000000000000:role/eks-nodes"
    root = User(server, tmp_path, "root")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]})
    root.aws("iam", "create-role", "--role-name", "eks-nodes", "--assume-role-policy-document", trust)
    for name, mode in [("ng-api", "API"), ("ng-configmap", "CONFIG_MAP")]:
        create_cluster(server, name, "--access-config", f"authenticationMode={mode}")
        subnets = subnet_ids(server).split(",")
        server.aws("eks", "create-nodegroup", "--cluster-name", name, "--nodegroup-name", "workers", "--node-role", node_role,
                   "--subnets", *subnets, "--instance-types", "t3.medium", "--scaling-config", "minSize=1,maxSize=1,desiredSize=1")
    entry = server.aws("eks", "describe-access-entry", "--cluster-name", "ng-api", "--principal-arn", node_role)["accessEntry"]
    assert entry["type"] == "EC2_LINUX" and entry["username"] == "system:node:{{EC2PrivateDNSName}}"
    assert entry["kubernetesGroups"] == ["system:nodes"]

    root.update_kubeconfig("ng-configmap")
    deadline = time.time() + 10
    while True:
        found = root.kubectl("-n", "kube-system", "get", "configmap", "aws-auth", "-o", "json", check=False)
        if found.returncode == 0 or time.time() > deadline:
            break
        time.sleep(0.1)
    rows = json.loads(found.stdout)["data"]["mapRoles"]
    assert f"rolearn: {node_role}" in rows and "system:bootstrappers" in rows and "username: system:node:{{EC2PrivateDNSName}}" in rows

    # The role assumed by an instance (its session named after it) is that instance's node; any other session is nobody.
    instance = server.aws("ec2", "describe-instances", "--filters", "Name=tag:eks:cluster-name,Values=ng-api",
                          "Name=instance-state-name,Values=running")["Reservations"][0]["Instances"][0]
    cluster = server.aws("eks", "describe-cluster", "--name", "ng-api")["cluster"]
    for session, expected in [(instance["InstanceId"], 200), ("laptop", 401)]:
        credentials = root.aws("sts", "assume-role", "--role-arn", node_role, "--role-session-name", session)["Credentials"]
        node = User.with_keys(server, tmp_path, session, credentials["AccessKeyId"], credentials["SecretAccessKey"],
                              credentials["SessionToken"])
        assert api_status(cluster, node.token("ng-api"))[0] == expected
        if expected == 200:
            node.update_kubeconfig("ng-api")
            whoami = json.loads(node.kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
            assert whoami["username"] == f"system:node:{instance['PrivateDnsName']}" and "system:nodes" in whoami["groups"]
    # Each decision is a line of the cluster's authenticator log, in the aws-iam-authenticator's format.
    log = (server.data_dir / "clusters" / "ng-api" / "logs" / "authenticator.log").read_text()
    assert f'msg="access granted" arn="arn:aws:sts::000000000000:assumed-role/eks-nodes/{instance["InstanceId"]}"' in log
    assert f'username="system:node:{instance["PrivateDnsName"]}"' in log
    assert 'level=warning msg="access denied" arn="arn:aws:sts::000000000000:assumed-role/eks-nodes/laptop"' in log
    assert "private DNS name of instance laptop" in log

    for name in ["ng-api", "ng-configmap"]:
        server.aws("eks", "delete-nodegroup", "--cluster-name", name, "--nodegroup-name", "workers")
        server.aws("eks", "wait", "nodegroup-deleted", "--cluster-name", name, "--nodegroup-name", "workers")
    gone = server.aws("eks", "describe-access-entry", "--cluster-name", "ng-api", "--principal-arn", node_role, check=False)
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr


def test_tokens_that_prove_nothing_are_refused_with_401(server, tmp_path):
    one = create_cluster(server, "one", "--access-config", "authenticationMode=API")
    other = create_cluster(server, "other", "--access-config", "authenticationMode=API")
    root = User(server, tmp_path, "root")
    status, body = api_status(one, root.token("one"))
    assert status == 200 and body["kind"] == "APIVersions"

    def refused(token, cluster=one):
        status, body = api_status(cluster, token)
        assert status == 401 and body["kind"] == "Status" and body["reason"] == "Unauthorized", body

    # A token for cluster one, replayed against the other.
    refused(root.token("one"), cluster=other)
    token = root.token("one")
    url = base64.urlsafe_b64decode(token[len("k8s-aws-v1."):] + "==").decode()
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    refused("k8s-aws-v1." + base64.urlsafe_b64encode(tampered.encode()).decode().rstrip("="))
    sixteen_minutes_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    refused(root.token("one", at=sixteen_minutes_ago))
    fourteen_minutes_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=14)
    assert api_status(one, root.token("one", at=fourteen_minutes_ago))[0] == 200
    stranger = User(server, tmp_path, "root")
    stranger.key, stranger.secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    refused(stranger.token("one"))
    refused("k8s-aws-v1.bm90LWEtdXJs")


def test_made_up_keys_work_only_with_accept_any_access_key(tmp_path):
    lenient = Skiff(tmp_path / "lenient", extra_args=["--accept-any-access-key"]).start()
    strict = Skiff(tmp_path / "strict").start()
    try:
        identity = lenient.aws("sts", "get-caller-identity", key="AKIAIOSFODNN7EXAMPLE", secret="made-up")
        assert identity["Arn"] == "arn:aws:iam::000000000000:root"
        assert lenient.aws("sts", "get-caller-identity", key="123456789012", secret="x")["Account"] == "123456789012"
        # Known keys are still verified.
        assert lenient.aws("sts", "get-caller-identity", key="test", secret="wrong", check=False).returncode != 0
        with urllib.request.urlopen(lenient.url + "/_skiff/health") as response:
            assert json.loads(response.read())["acceptAnyAccessKey"] is True
        with urllib.request.urlopen(strict.url + "/_skiff/health") as response:
            assert json.loads(response.read())["acceptAnyAccessKey"] is False
        refused = strict.aws("sts", "get-caller-identity", key="AKIAIOSFODNN7EXAMPLE", secret="made-up", check=False)
        assert refused.returncode != 0 and "InvalidClientTokenId" in refused.stderr
    finally:
        lenient.stop()
        strict.stop()

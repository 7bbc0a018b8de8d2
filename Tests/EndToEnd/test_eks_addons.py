"""EKS add-ons: the versions and configuration schemas EKS lists, and add-ons as the objects they are in the
cluster. Created, configured, updated and deleted with the real `aws` CLI; their objects read and edited with
kubectl, so that a user's edit meets `resolveConflicts` as on EKS."""
import json

import pytest

from conftest import NODE_ROLE, module_server, wait_for
from kube import Cluster



server = module_server("addons", provisioning_delay=0.1)


@pytest.fixture(scope="module")
def cluster(server, tmp_path_factory):
    cluster = Cluster(server, "addons", tmp_path_factory.mktemp("kubeconfig"))
    subnets = cluster.description["resourcesVpcConfig"]["subnetIds"]
    server.aws("eks", "create-nodegroup", "--cluster-name", "addons", "--nodegroup-name", "workers", "--subnets", *subnets,
               "--node-role", NODE_ROLE, "--instance-types", "t3.large", "--scaling-config", "minSize=2,maxSize=3,desiredSize=2")
    assert wait_for(lambda: server.aws("eks", "describe-nodegroup", "--cluster-name", "addons", "--nodegroup-name", "workers")
                    ["nodegroup"]["status"] == "ACTIVE")
    return cluster


def addon(server, name, cluster="addons"):
    return server.aws("eks", "describe-addon", "--cluster-name", cluster, "--addon-name", name)["addon"]


def wait_status(server, name, *statuses, cluster="addons"):
    return wait_for(lambda: addon(server, name, cluster)["status"] in statuses and addon(server, name, cluster))


def wait_update(server, name, update_id, cluster="addons"):
    def finished():
        update = server.aws("eks", "describe-update", "--name", cluster, "--update-id", update_id, "--addon-name", name)["update"]
        return update["status"] != "InProgress" and update
    return wait_for(finished)


def failure(result):
    assert result.returncode != 0
    return result.stderr


def container(obj, name):
    return next(c for c in obj["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def test_addon_versions_list_each_addon_with_its_compatible_versions(server):
    addons = server.aws("eks", "describe-addon-versions", "--kubernetes-version", "1.34")["addons"]
    names = {a["addonName"] for a in addons}
    assert {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent", "metrics-server"} <= names
    kube_proxy = next(a for a in addons if a["addonName"] == "kube-proxy")
    assert kube_proxy["owner"] == "aws" and kube_proxy["publisher"] == "eks" and kube_proxy["type"] == "networking"
    assert all(c["clusterVersion"] == "1.34" for v in kube_proxy["addonVersions"] for c in v["compatibilities"])
    defaults = [v["addonVersion"] for v in kube_proxy["addonVersions"] if any(c["defaultVersion"] for c in v["compatibilities"])]
    assert defaults == ["v1.34.0-eksbuild.4"]

    community = server.aws("eks", "describe-addon-versions", "--owners", "community")["addons"]
    assert [a["addonName"] for a in community] == ["metrics-server"]

    first = server.aws("eks", "describe-addon-versions", "--max-items", "2")
    assert len(first["addons"]) == 2 and first["NextToken"]
    rest = server.aws("eks", "describe-addon-versions", "--starting-token", first["NextToken"])["addons"]
    assert {a["addonName"] for a in first["addons"]}.isdisjoint({a["addonName"] for a in rest})
    assert len(first["addons"]) + len(rest) == len(server.aws("eks", "describe-addon-versions")["addons"])


def test_addon_configuration_schema_is_json_schema(server):
    answer = server.aws("eks", "describe-addon-configuration", "--addon-name", "vpc-cni", "--addon-version", "v1.20.4-eksbuild.1")
    schema = json.loads(answer["configurationSchema"])
    assert schema["$schema"].startswith("http://json-schema.org/draft-07")
    assert "ENABLE_PREFIX_DELEGATION" in schema["properties"]["env"]["properties"]
    assert answer["podIdentityConfiguration"][0]["serviceAccount"] == "aws-node"
    missing = server.aws("eks", "describe-addon-configuration", "--addon-name", "vpc-cni", "--addon-version", "v9.9.9", check=False)
    assert "ResourceNotFoundException" in failure(missing)


def test_create_addon_lands_configuration_in_its_objects(server, cluster):
    created = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "vpc-cni",
                         "--configuration-values", '{"env":{"ENABLE_PREFIX_DELEGATION":"true","WARM_PREFIX_TARGET":"2"}}')["addon"]
    assert created["status"] == "CREATING" and created["addonVersion"] == "v1.20.4-eksbuild.1"
    assert created["addonArn"].startswith("arn:aws:eks:us-east-1:000000000000:addon/addons/vpc-cni/")
    active = wait_status(server, "vpc-cni", "ACTIVE")
    assert active and active["health"]["issues"] == []
    assert json.loads(active["configurationValues"])["env"]["ENABLE_PREFIX_DELEGATION"] == "true"
    env = {e["name"]: e.get("value") for e in container(cluster.json("get", "daemonset", "aws-node", "-n", "kube-system"), "aws-node")["env"]}
    assert env["ENABLE_PREFIX_DELEGATION"] == "true" and env["WARM_PREFIX_TARGET"] == "2" and env["CLUSTER_NAME"] == "addons"
    assert "vpc-cni" in server.aws("eks", "list-addons", "--cluster-name", "addons")["addons"]

    again = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "vpc-cni", check=False)
    assert "ResourceInUseException" in failure(again)


def test_bad_addon_requests_are_refused_and_change_nothing(server, cluster):
    unknown_key = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "kube-proxy",
                             "--configuration-values", '{"env":{"FOO":"1"}}', check=False)
    assert "InvalidParameterException" in failure(unknown_key)
    assert "$.env: is not defined in the schema and the schema does not allow additional properties" in unknown_key.stderr
    wrong_type = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "coredns",
                            "--configuration-values", "replicaCount: two", check=False)
    assert "$.replicaCount: string found, integer expected" in failure(wrong_type)
    not_yaml = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "coredns",
                          "--configuration-values", "{unbalanced", check=False)
    assert "InvalidParameterException" in failure(not_yaml)
    unsupported = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "no-such-addon", check=False)
    assert "InvalidParameterException" in failure(unsupported)
    old_version = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "kube-proxy",
                             "--addon-version", "v1.29.15-eksbuild.16", check=False)
    assert "Addon version specified is not supported" in failure(old_version)
    namespace = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "coredns",
                           "--namespace-config", "namespace=dns", check=False)
    assert "InvalidParameterException" in failure(namespace)
    missing = server.aws("eks", "describe-addon", "--cluster-name", "addons", "--addon-name", "coredns", check=False)
    assert "No addon: coredns found in cluster: addons" in failure(missing)
    no_cluster = server.aws("eks", "create-addon", "--cluster-name", "nope", "--addon-name", "coredns", check=False)
    assert "ResourceNotFoundException" in failure(no_cluster)
    listed = server.aws("eks", "list-addons", "--cluster-name", "addons")["addons"]
    assert "kube-proxy" not in listed and "coredns" not in listed


def test_user_edits_meet_resolve_conflicts(server, cluster):
    """A user's `kubectl set image` makes the image someone else's: NONE fails naming it, PRESERVE keeps it and
    applies the rest, OVERWRITE takes it back."""
    server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "coredns")
    assert wait_status(server, "coredns", "ACTIVE", "DEGRADED")
    cluster.kubectl("set", "image", "deployment/coredns", "coredns=example.com/coredns:custom", "-n", "kube-system")

    update = server.aws("eks", "update-addon", "--cluster-name", "addons", "--addon-name", "coredns",
                        "--addon-version", "v1.12.1-eksbuild.2", "--resolve-conflicts", "NONE")["update"]
    assert update["type"] == "AddonUpdate" and update["status"] == "InProgress"
    failed = wait_update(server, "coredns", update["id"])
    assert failed["status"] == "Failed"
    assert failed["errors"][0]["errorCode"] == "ConfigurationConflict"
    assert 'Deployment.apps coredns - .spec.template.spec.containers[name="coredns"].image' in failed["errors"][0]["errorMessage"]
    assert addon(server, "coredns")["addonVersion"] == "v1.12.3-eksbuild.1"
    assert update["id"] in server.aws("eks", "list-updates", "--name", "addons", "--addon-name", "coredns")["updateIds"]

    update = server.aws("eks", "update-addon", "--cluster-name", "addons", "--addon-name", "coredns", "--addon-version", "v1.12.1-eksbuild.2",
                        "--configuration-values", '{"replicaCount": 3}', "--resolve-conflicts", "PRESERVE")["update"]
    finished = wait_update(server, "coredns", update["id"])
    assert finished["status"] == "Successful", finished["errors"]
    deployment = cluster.json("get", "deployment", "coredns", "-n", "kube-system")
    assert container(deployment, "coredns")["image"] == "example.com/coredns:custom"
    assert deployment["spec"]["replicas"] == 3
    assert addon(server, "coredns")["addonVersion"] == "v1.12.1-eksbuild.2"

    update = server.aws("eks", "update-addon", "--cluster-name", "addons", "--addon-name", "coredns",
                        "--resolve-conflicts", "OVERWRITE")["update"]
    finished = wait_update(server, "coredns", update["id"])
    assert finished["status"] == "Successful", finished["errors"]
    deployment = cluster.json("get", "deployment", "coredns", "-n", "kube-system")
    assert container(deployment, "coredns")["image"].endswith("/eks/coredns:v1.12.1-eksbuild.2")


def test_create_over_edited_self_managed_addon(server, cluster):
    cluster.kubectl("set", "image", "daemonset/kube-proxy", "kube-proxy=example.com/kube-proxy:mine", "-n", "kube-system")
    server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "kube-proxy")
    failed = wait_status(server, "kube-proxy", "CREATE_FAILED")
    assert failed["health"]["issues"][0]["code"] == "ConfigurationConflict"
    assert "DaemonSet.apps kube-proxy" in failed["health"]["issues"][0]["message"]
    image = container(cluster.json("get", "daemonset", "kube-proxy", "-n", "kube-system"), "kube-proxy")["image"]
    assert image == "example.com/kube-proxy:mine"

    server.aws("eks", "delete-addon", "--cluster-name", "addons", "--addon-name", "kube-proxy", "--preserve")
    assert wait_for(lambda: "kube-proxy" not in server.aws("eks", "list-addons", "--cluster-name", "addons")["addons"])
    server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "kube-proxy", "--resolve-conflicts", "OVERWRITE",
               "--configuration-values", "mode: ipvs")
    assert wait_status(server, "kube-proxy", "ACTIVE", "DEGRADED")
    image = container(cluster.json("get", "daemonset", "kube-proxy", "-n", "kube-system"), "kube-proxy")["image"]
    assert image.endswith("/eks/kube-proxy:v1.34.0-eksbuild.4")
    config = cluster.json("get", "configmap", "kube-proxy-config", "-n", "kube-system")["data"]["config"]
    assert 'mode: "ipvs"' in config


def test_delete_with_and_without_preserve(server, cluster):
    server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "metrics-server")
    assert wait_status(server, "metrics-server", "ACTIVE", "DEGRADED")
    assert cluster.json("get", "deployment", "metrics-server", "-n", "kube-system")["spec"]["replicas"] == 2
    deleting = server.aws("eks", "delete-addon", "--cluster-name", "addons", "--addon-name", "metrics-server", "--preserve")["addon"]
    assert deleting["status"] == "DELETING"
    assert wait_for(lambda: "metrics-server" not in server.aws("eks", "list-addons", "--cluster-name", "addons")["addons"])
    assert cluster.kubectl("get", "deployment", "metrics-server", "-n", "kube-system", check=False).returncode == 0

    server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "metrics-server", "--resolve-conflicts", "OVERWRITE")
    assert wait_status(server, "metrics-server", "ACTIVE", "DEGRADED")
    server.aws("eks", "delete-addon", "--cluster-name", "addons", "--addon-name", "metrics-server")
    assert wait_for(lambda: "metrics-server" not in server.aws("eks", "list-addons", "--cluster-name", "addons")["addons"])
    assert wait_for(lambda: cluster.kubectl("get", "deployment", "metrics-server", "-n", "kube-system", check=False).returncode != 0)


def test_addon_service_account_role_and_pod_identity(server, cluster):
    role = "arn:aws:iam::000000000000:role/ebs-csi"
    created = server.aws("eks", "create-addon", "--cluster-name", "addons", "--addon-name", "aws-ebs-csi-driver",
                         "--service-account-role-arn", role,
                         "--pod-identity-associations", "serviceAccount=ebs-csi-controller-sa,roleArn=" + role)["addon"]
    assert len(created["podIdentityAssociations"]) == 1
    assert wait_status(server, "aws-ebs-csi-driver", "ACTIVE", "DEGRADED")
    assert cluster.json("get", "csidriver", "ebs.csi.aws.com")["spec"]["attachRequired"] is True
    account = cluster.json("get", "serviceaccount", "ebs-csi-controller-sa", "-n", "kube-system")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role
    associations = server.aws("eks", "list-pod-identity-associations", "--cluster-name", "addons",
                              "--service-account", "ebs-csi-controller-sa")["associations"]
    assert len(associations) == 1
    association = server.aws("eks", "describe-pod-identity-association", "--cluster-name", "addons",
                             "--association-id", associations[0]["associationId"])["association"]
    assert association["ownerArn"] == created["addonArn"]
    owned = server.aws("eks", "delete-pod-identity-association", "--cluster-name", "addons",
                       "--association-id", associations[0]["associationId"], check=False)
    assert "InvalidRequestException" in failure(owned)
    wrong_account = server.aws("eks", "update-addon", "--cluster-name", "addons", "--addon-name", "aws-ebs-csi-driver",
                               "--pod-identity-associations", "serviceAccount=default,roleArn=" + role, check=False)
    assert "InvalidParameterException" in failure(wrong_account)

    server.aws("eks", "delete-addon", "--cluster-name", "addons", "--addon-name", "aws-ebs-csi-driver")
    assert wait_for(lambda: server.aws("eks", "list-pod-identity-associations", "--cluster-name", "addons")["associations"] == [])


def test_cluster_without_self_managed_addons_and_health(server, tmp_path_factory):
    bare = Cluster(server, "bare", tmp_path_factory.mktemp("bare"), bootstrapSelfManagedAddons=False)
    daemonsets = [d["metadata"]["name"] for d in bare.json("get", "daemonsets", "-n", "kube-system")["items"]]
    assert daemonsets == []
    assert bare.kubectl("get", "deployment", "coredns", "-n", "kube-system", check=False).returncode != 0
    server.aws("eks", "create-addon", "--cluster-name", "bare", "--addon-name", "coredns")
    # No nodes: its pods cannot run, and the add-on says so.
    degraded = wait_status(server, "coredns", "DEGRADED", cluster="bare")
    assert degraded["health"]["issues"][0]["code"] == "InsufficientNumberOfReplicas"
    assert bare.json("get", "deployment", "coredns", "-n", "kube-system")["spec"]["replicas"] == 2

"""Fargate profiles with the real `aws` CLI, and a pod they match getting a Fargate node of its own (named, labelled
and tainted as on EKS, its address from the profile's private subnet, sized up to a Fargate combination), which
goes when the pod does."""
import ipaddress


from conftest import module_server, wait_for
from kube import Cluster

ROLE = "arn:aws:iam::000000000000:role/fargate-pods"
POD = """apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: serverless
  labels: {app: api}
spec:
  containers:
  - name: api
    image: nginx:1.27
    resources:
      requests: {cpu: 500m, memory: 1Gi}
"""
DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: serverless}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      tolerations: [{operator: Exists}]
      containers: [{name: agent, image: busybox}]
"""



server = module_server("fargate", provisioning_delay=0.1)


def test_fargate_profile_gives_a_pod_a_node_of_its_own(server, tmp_path_factory):
    cluster = Cluster(server, "serverless", tmp_path_factory.mktemp("kubeconfig"))
    vpc = cluster.description["resourcesVpcConfig"]["vpcId"]
    public = cluster.description["resourcesVpcConfig"]["subnetIds"][0]
    private = server.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "172.31.128.0/24",
                         "--availability-zone", "us-east-1a")["Subnet"]
    free_before = private["AvailableIpAddressCount"]

    refused = server.aws("eks", "create-fargate-profile", "--cluster-name", "serverless", "--fargate-profile-name", "p",
                         "--pod-execution-role-arn", ROLE, "--subnets", public, "--selectors", "namespace=serverless", check=False)
    assert refused.returncode != 0 and "is not a private subnet" in refused.stderr
    no_namespace = server.aws("eks", "create-fargate-profile", "--cluster-name", "serverless", "--fargate-profile-name", "p",
                              "--pod-execution-role-arn", ROLE, "--subnets", private["SubnetId"], "--selectors", "labels={a=b}", check=False)
    assert no_namespace.returncode != 0 and "InvalidParameterException" in no_namespace.stderr
    too_many = server.aws("eks", "create-fargate-profile", "--cluster-name", "serverless", "--fargate-profile-name", "p",
                          "--pod-execution-role-arn", ROLE, "--subnets", private["SubnetId"],
                          "--selectors", *[f"namespace=n{i}" for i in range(6)], check=False)
    assert too_many.returncode != 0 and "at most 5 selectors" in too_many.stderr

    profile = server.aws("eks", "create-fargate-profile", "--cluster-name", "serverless", "--fargate-profile-name", "apps",
                         "--pod-execution-role-arn", ROLE, "--subnets", private["SubnetId"],
                         "--selectors", "namespace=serverless,labels={app=api}")["fargateProfile"]
    assert profile["status"] == "CREATING" and profile["subnets"] == [private["SubnetId"]]
    assert wait_for(lambda: server.aws("eks", "describe-fargate-profile", "--cluster-name", "serverless",
                                       "--fargate-profile-name", "apps")["fargateProfile"]["status"] == "ACTIVE")
    assert server.aws("eks", "list-fargate-profiles", "--cluster-name", "serverless")["fargateProfileNames"] == ["apps"]

    cluster.kubectl("create", "namespace", "serverless")
    cluster.kubectl("apply", "-f", "-", stdin=DAEMONSET)
    cluster.kubectl("apply", "-f", "-", stdin=POD)
    pod = wait_for(lambda: (lambda p: p["status"].get("phase") == "Running" and p)(
        cluster.json("get", "pod", "api", "-n", "serverless")))
    assert pod, cluster.json("get", "pod", "api", "-n", "serverless")
    assert pod["spec"]["schedulerName"] == "fargate-scheduler"
    assert pod["metadata"]["labels"]["eks.amazonaws.com/fargate-profile"] == "apps"
    assert pod["metadata"]["annotations"]["CapacityProvisioned"] == "0.5vCPU 2GB"
    node_name = pod["spec"]["nodeName"]
    assert node_name.startswith("fargate-ip-172-31-128-") and node_name.endswith(".ec2.internal")
    node = cluster.json("get", "node", node_name)
    assert node["metadata"]["labels"]["eks.amazonaws.com/compute-type"] == "fargate"
    assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == "us-east-1a"
    assert {"key": "eks.amazonaws.com/compute-type", "value": "fargate", "effect": "NoSchedule"} in node["spec"]["taints"]
    internal = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    assert pod["status"]["podIP"] == internal
    assert ipaddress.ip_address(internal) in ipaddress.ip_network("172.31.128.0/24")
    in_use = server.aws("ec2", "describe-subnets", "--subnet-ids", private["SubnetId"])["Subnets"][0]["AvailableIpAddressCount"]
    assert in_use == free_before - 1
    # No daemon pod lands on a Fargate node, whatever it tolerates.
    assert cluster.json("get", "daemonset", "agent", "-n", "serverless")["status"].get("desiredNumberScheduled", 0) == 0

    cluster.kubectl("delete", "pod", "api", "-n", "serverless", "--wait=false")
    assert wait_for(lambda: cluster.kubectl("get", "node", node_name, check=False).returncode != 0)
    assert wait_for(lambda: server.aws("ec2", "describe-subnets", "--subnet-ids", private["SubnetId"])["Subnets"][0]
                    ["AvailableIpAddressCount"] == free_before)

    deleting = server.aws("eks", "delete-fargate-profile", "--cluster-name", "serverless", "--fargate-profile-name", "apps")
    assert deleting["fargateProfile"]["status"] == "DELETING"
    assert wait_for(lambda: server.aws("eks", "list-fargate-profiles", "--cluster-name", "serverless")["fargateProfileNames"] == [])

"""Clusters that run workloads: a managed node group's EC2 instances become Nodes, the scheduler places
pods, controllers roll Deployments out, pods get addresses from the nodes' subnets. Driven with the
real `aws` CLI and kubectl only."""
import ipaddress
import json

import pytest

from conftest import NODE_ROLE, Skiff, module_server, wait_for
from kube import Cluster



server = module_server("workloads", provisioning_delay=0.1)


@pytest.fixture(scope="module")
def cluster(server, tmp_path_factory):
    cluster = Cluster(server, "work", tmp_path_factory.mktemp("kubeconfig"))
    subnets = cluster.description["resourcesVpcConfig"]["subnetIds"]
    server.aws("eks", "create-nodegroup", "--cluster-name", "work", "--nodegroup-name", "workers", "--subnets", *subnets,
               "--node-role", NODE_ROLE, "--instance-types", "t3.medium", "--labels", "team=web",
               "--scaling-config", "minSize=1,maxSize=4,desiredSize=2")
    assert wait_for(lambda: server.aws("eks", "describe-nodegroup", "--cluster-name", "work", "--nodegroup-name", "workers")
                    ["nodegroup"]["status"] == "ACTIVE")
    assert wait_for(lambda: len(ready_nodes(cluster)) == 2)
    return cluster


def ready_nodes(cluster):
    nodes = cluster.json("get", "nodes")["items"]
    return [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))]


def instances(server, *filters):
    reservations = server.aws("ec2", "describe-instances", "--filters", "Name=tag:eks:nodegroup-name,Values=workers", *filters)
    return [i for r in reservations["Reservations"] for i in r["Instances"]]


def phases(cluster, namespace):
    pods = cluster.json("get", "pods", "-n", namespace)["items"]
    counts = {}
    for pod in pods:
        counts[pod["status"]["phase"]] = counts.get(pod["status"]["phase"], 0) + 1
    return counts


def test_node_group_instances_are_nodes_as_eks_registers_them(server, cluster):
    running = instances(server, "Name=instance-state-name,Values=running")
    assert len(running) == 2 and {i["InstanceType"] for i in running} == {"t3.medium"}
    assert len({i["Placement"]["AvailabilityZone"] for i in running}) == 2
    tags = {t["Key"]: t["Value"] for t in running[0]["Tags"]}
    assert tags["eks:cluster-name"] == "work" and tags["aws:autoscaling:groupName"].startswith("eks-workers-")
    group = server.aws("eks", "describe-nodegroup", "--cluster-name", "work", "--nodegroup-name", "workers")["nodegroup"]
    assert group["resources"]["autoScalingGroups"][0]["name"] == tags["aws:autoscaling:groupName"]
    by_name = {n["metadata"]["name"]: n for n in cluster.json("get", "nodes")["items"]}
    for instance in running:
        node = by_name[instance["PrivateDnsName"]]
        assert instance["PrivateDnsName"] == "ip-" + instance["PrivateIpAddress"].replace(".", "-") + ".ec2.internal"
        labels = node["metadata"]["labels"]
        assert labels["eks.amazonaws.com/nodegroup"] == "workers" and labels["eks.amazonaws.com/capacityType"] == "ON_DEMAND"
        assert labels["node.kubernetes.io/instance-type"] == "t3.medium" and labels["team"] == "web"
        assert labels["topology.kubernetes.io/zone"] == instance["Placement"]["AvailabilityZone"]
        assert labels["eks.amazonaws.com/nodegroup-image"] == instance["ImageId"]
        assert node["spec"]["providerID"] == f"aws:///{instance['Placement']['AvailabilityZone']}/{instance['InstanceId']}"
        # t3.medium: 3 interfaces of 6 addresses → 17 pods; 2 vCPUs less the EKS AMI's 70m.
        assert node["status"]["allocatable"]["pods"] == "17" and node["status"]["allocatable"]["cpu"] == "1930m"
    leases = cluster.json("get", "leases", "-n", "kube-node-lease")["items"]
    assert {lease["metadata"]["name"] for lease in leases} == set(by_name)


def test_a_new_cluster_runs_the_eks_system_pods(server, cluster):
    assert wait_for(lambda: all(p["status"]["phase"] == "Running" for p in cluster.json("get", "pods", "-n", "kube-system")["items"])
                    and len(cluster.json("get", "pods", "-n", "kube-system")["items"]) == 6)
    pods = cluster.json("get", "pods", "-n", "kube-system")["items"]
    by_app = {}
    for pod in pods:
        by_app.setdefault(pod["metadata"]["labels"]["k8s-app"], []).append(pod)
    assert {app: len(p) for app, p in by_app.items()} == {"aws-node": 2, "kube-proxy": 2, "kube-dns": 2}
    nodes = {n["metadata"]["name"]: n for n in cluster.json("get", "nodes")["items"]}
    for pod in by_app["aws-node"] + by_app["kube-proxy"]:
        # Host-network daemons take their node's address.
        assert pod["status"]["podIP"] == nodes[pod["spec"]["nodeName"]]["status"]["addresses"][0]["address"]
    assert {p["spec"]["nodeName"] for p in by_app["aws-node"]} == set(nodes)
    assert by_app["aws-node"][0]["spec"]["containers"][0]["image"].startswith("602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v")
    dns = cluster.json("get", "service", "kube-dns", "-n", "kube-system")
    assert dns["spec"]["clusterIP"] == "10.100.0.10" and [p["port"] for p in dns["spec"]["ports"]] == [53, 53, 9153]
    daemonsets = cluster.json("get", "daemonsets", "-n", "kube-system")["items"]
    assert {d["metadata"]["name"]: d["status"]["numberReady"] for d in daemonsets} == {"aws-node": 2, "kube-proxy": 2}


def test_a_deployment_runs_with_addresses_from_the_nodes_subnets(server, cluster, tmp_path):
    namespace = "web"
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=20", "-n", namespace)
    cluster.kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s", timeout=90)
    pods = cluster.json("get", "pods", "-n", namespace)["items"]
    assert len(pods) == 20 and all(p["status"]["phase"] == "Running" for p in pods)
    subnets = {s["SubnetId"]: ipaddress.ip_network(s["CidrBlock"]) for s in server.aws("ec2", "describe-subnets")["Subnets"]}
    node_subnet = {i["PrivateDnsName"]: subnets[i["SubnetId"]] for i in instances(server)}
    addresses = [p["status"]["podIP"] for p in pods]
    assert len(set(addresses)) == 20
    for pod in pods:
        assert ipaddress.ip_address(pod["status"]["podIP"]) in node_subnet[pod["spec"]["nodeName"]]
    before = {s["SubnetId"]: s["AvailableIpAddressCount"] for s in server.aws("ec2", "describe-subnets")["Subnets"]}
    # Each t3.medium holds its address and its interfaces' 15 secondary addresses.
    assert sum(4091 - count for count in before.values()) == 2 * 16

    # Rolling update, history, undo, restart.
    cluster.kubectl("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", namespace)
    cluster.kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s", timeout=90)
    assert "2" in cluster.kubectl("rollout", "history", "deployment/web", "-n", namespace).stdout
    cluster.kubectl("rollout", "undo", "deployment/web", "-n", namespace)
    cluster.kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s", timeout=90)
    deployment = cluster.json("get", "deployment", "web", "-n", namespace)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert {c["type"]: c["reason"] for c in deployment["status"]["conditions"]} == {
        "Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}
    cluster.kubectl("rollout", "restart", "deployment/web", "-n", namespace)
    cluster.kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s", timeout=90)
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.27" for p in cluster.json("get", "pods", "-n", namespace)["items"])
    cluster.kubectl("delete", "namespace", namespace, timeout=60)


def test_services_get_endpoints_and_endpoint_slices_of_their_ready_pods(server, cluster):
    cluster.kubectl("create", "namespace", "svc")
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "svc"},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "api"}},
                         "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [
                             {"name": "main", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 8080}]}]}}}}
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    cluster.kubectl("-n", "svc", "expose", "deployment", "api", "--port=80", "--target-port=http", "--name=api")
    cluster.kubectl("-n", "svc", "rollout", "status", "deployment/api", "--timeout=60s")
    pod_ips = sorted(p["status"]["podIP"] for p in cluster.json("get", "pods", "-n", "svc", "-l", "app=api")["items"])

    def addresses():
        endpoints = cluster.json("get", "endpoints", "api", "-n", "svc")
        subsets = endpoints.get("subsets", [])
        return sorted(a["ip"] for s in subsets for a in s.get("addresses", [])) == pod_ips and subsets
    subsets = wait_for(addresses)
    assert subsets and subsets[0]["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert subsets[0]["addresses"][0]["targetRef"]["kind"] == "Pod" and subsets[0]["addresses"][0]["nodeName"].endswith(".ec2.internal")

    slices = cluster.json("get", "endpointslices", "-n", "svc", "-l", "kubernetes.io/service-name=api")["items"]
    assert len(slices) == 1
    slice_ = slices[0]
    assert slice_["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert slice_["metadata"]["ownerReferences"][0]["kind"] == "Service" and slice_["addressType"] == "IPv4"
    assert sorted(e["addresses"][0] for e in slice_["endpoints"]) == pod_ips
    assert all(e["conditions"]["ready"] and e["zone"].startswith("us-east-1") for e in slice_["endpoints"])

    cluster.kubectl("-n", "svc", "scale", "deployment/api", "--replicas=1")
    assert wait_for(lambda: len([a for s in cluster.json("get", "endpoints", "api", "-n", "svc").get("subsets", [])
                                 for a in s.get("addresses", [])]) == 1)
    cluster.kubectl("-n", "svc", "delete", "service", "api")
    assert wait_for(lambda: cluster.kubectl("-n", "svc", "get", "endpoints", "api", check=False).returncode != 0)
    assert wait_for(lambda: cluster.json("get", "endpointslices", "-n", "svc")["items"] == [])
    cluster.kubectl("delete", "namespace", "svc", "--wait=false")


def test_a_replication_controller_defaults_its_selector_from_its_template(server, cluster):
    manifest = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy", "namespace": "default"},
                "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "legacy"}},
                                                     "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}}}
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    created = cluster.json("get", "rc", "legacy")
    assert created["spec"]["selector"] == {"app": "legacy"} and created["metadata"]["labels"] == {"app": "legacy"}
    assert wait_for(lambda: cluster.json("get", "rc", "legacy").get("status", {}).get("readyReplicas") == 2)
    assert "app=legacy" in cluster.kubectl("get", "rc", "legacy", "-o", "wide").stdout
    mismatched = dict(manifest, metadata={"name": "odd", "namespace": "default"})
    mismatched["spec"] = dict(manifest["spec"], selector={"app": "other"})
    refused = cluster.kubectl("apply", "-f", "-", stdin=json.dumps(mismatched), check=False)
    assert "`selector` does not match template `labels`" in refused.stderr
    cluster.kubectl("delete", "rc", "legacy")


def test_a_disruption_budget_reports_what_may_be_evicted(server, cluster):
    cluster.kubectl("create", "deployment", "guarded", "--image=nginx:1.27", "--replicas=3")
    cluster.kubectl("create", "pdb", "guarded", "--selector=app=guarded", "--min-available=2")
    cluster.kubectl("rollout", "status", "deployment/guarded", "--timeout=60s")

    def status():
        found = cluster.json("get", "pdb", "guarded").get("status", {})
        return found if found.get("currentHealthy") == 3 else None
    found = wait_for(status)
    assert found["desiredHealthy"] == 2 and found["expectedPods"] == 3 and found["disruptionsAllowed"] == 1
    condition = next(c for c in found["conditions"] if c["type"] == "DisruptionAllowed")
    assert condition["status"] == "True" and condition["reason"] == "SufficientPods"
    row = cluster.kubectl("get", "pdb", "guarded").stdout.splitlines()[1].split()
    assert row[:4] == ["guarded", "2", "N/A", "1"]
    cluster.kubectl("delete", "deployment", "guarded")
    assert wait_for(lambda: cluster.json("get", "pdb", "guarded").get("status", {}).get("disruptionsAllowed") == 0)
    cluster.kubectl("delete", "pdb", "guarded")


def test_logs_exec_and_port_forward_say_the_node_is_simulated(server, cluster):
    cluster.kubectl("run", "quiet", "--image=nginx:1.27")
    assert wait_for(lambda: cluster.json("get", "pod", "quiet")["status"].get("phase") == "Running")
    pod = cluster.json("get", "pod", "quiet")
    node = pod["spec"]["nodeName"]
    # DefaultTolerationSeconds: five minutes on a node gone not-ready or unreachable.
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]:
        assert {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300} in pod["spec"]["tolerations"]
    for args in [("logs", "quiet"), ("exec", "quiet", "--", "ls"), ("attach", "quiet"),
                 ("port-forward", "pod/quiet", "18080:80")]:
        result = cluster.kubectl(*args, check=False, timeout=30)
        assert result.returncode != 0, args
        assert f"runs on {node}, a node Skiff simulates" in result.stderr, (args, result.stderr)
    wrong = cluster.kubectl("logs", "quiet", "-c", "sidecar", check=False)
    assert "container sidecar is not valid for pod quiet" in wrong.stderr
    cluster.kubectl("delete", "pod", "quiet", "--grace-period=0", "--force")


def test_what_does_not_fit_waits_until_the_node_group_grows(server, cluster):
    namespace = "full"
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("create", "deployment", "big", "--image=nginx", "--replicas=40", "-n", namespace)
    # 2 nodes × 17 pods, less aws-node, kube-proxy and a coredns on each: 28 run, 12 are left Pending.
    assert wait_for(lambda: phases(cluster, namespace).get("Running") == 28)
    unscheduled = [p for p in cluster.json("get", "pods", "-n", namespace)["items"] if not p["spec"].get("nodeName")]
    assert len(unscheduled) == 12
    condition = next(c for c in unscheduled[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert condition["status"] == "False" and condition["reason"] == "Unschedulable"
    assert condition["message"] == ("0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: "
                                    "2 No preemption victims found for incoming pod.")
    described = cluster.kubectl("describe", "pod", unscheduled[0]["metadata"]["name"], "-n", namespace).stdout
    assert "FailedScheduling" in described and "default-scheduler" in described
    # A third node (its own daemons first) takes the twelve.
    server.aws("eks", "update-nodegroup-config", "--cluster-name", "work", "--nodegroup-name", "workers",
               "--scaling-config", "minSize=1,maxSize=4,desiredSize=3")
    assert wait_for(lambda: len(ready_nodes(cluster)) == 3)
    assert wait_for(lambda: phases(cluster, namespace).get("Running") == 40)
    cluster.kubectl("delete", "namespace", namespace, timeout=60)
    assert wait_for(lambda: not cluster.json("get", "pods", "-n", namespace)["items"])


def test_a_lost_instance_is_replaced_and_a_drained_node_keeps_its_pods_away(server, cluster):
    namespace = "resilient"
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("create", "deployment", "api", "--image=nginx", "--replicas=6", "-n", namespace)
    cluster.kubectl("rollout", "status", "deployment/api", "-n", namespace, "--timeout=60s", timeout=90)
    count = len(instances(server, "Name=instance-state-name,Values=running"))
    victim = instances(server, "Name=instance-state-name,Values=running")[0]
    terminated = server.aws("ec2", "terminate-instances", "--instance-ids", victim["InstanceId"])
    assert terminated["TerminatingInstances"][0]["CurrentState"]["Name"] == "terminated"
    # Its Node and pods go; the Auto Scaling group launches a replacement.
    assert wait_for(lambda: victim["PrivateDnsName"] not in {n["metadata"]["name"] for n in cluster.json("get", "nodes")["items"]}, timeout=40)
    assert wait_for(lambda: len(instances(server, "Name=instance-state-name,Values=running")) == count, timeout=40)
    assert wait_for(lambda: len(ready_nodes(cluster)) == count, timeout=40)
    cluster.kubectl("rollout", "status", "deployment/api", "-n", namespace, "--timeout=60s", timeout=90)
    node = cluster.json("get", "pods", "-n", namespace)["items"][0]["spec"]["nodeName"]
    cluster.kubectl("drain", node, "--ignore-daemonsets", "--timeout=60s", timeout=90)
    assert wait_for(lambda: all(p["spec"].get("nodeName") != node and p["status"]["phase"] == "Running"
                                for p in cluster.json("get", "pods", "-n", namespace)["items"])
                    and len(cluster.json("get", "pods", "-n", namespace)["items"]) == 6)
    assert cluster.json("get", "node", node)["spec"]["unschedulable"] is True
    cluster.kubectl("uncordon", node)


def test_deleting_the_node_group_removes_its_nodes_and_gives_the_addresses_back(server, cluster):
    server.aws("eks", "delete-nodegroup", "--cluster-name", "work", "--nodegroup-name", "workers")
    assert wait_for(lambda: not cluster.json("get", "nodes")["items"], timeout=40)
    assert wait_for(lambda: not instances(server, "Name=instance-state-name,Values=running"))
    assert all(s["AvailableIpAddressCount"] == 4091 for s in server.aws("ec2", "describe-subnets")["Subnets"])

"""Restarting `skiff up` on the same data dir brings everything back; acknowledged writes survive `kill -9`."""
import json
import subprocess

from conftest import BINARY, NODE_ROLE, ROLE, Skiff, create_active_cluster, fast_waiter


def snapshot(server):
    eks, ec2 = server.client("eks"), server.client("ec2")
    clusters = {name: eks.describe_cluster(name=name)["cluster"] for name in eks.list_clusters()["clusters"]}
    for cluster in clusters.values():
        cluster.pop("status")
    nodegroups = {(c, n): eks.describe_nodegroup(clusterName=c, nodegroupName=n)["nodegroup"]
                  for c in clusters for n in eks.list_nodegroups(clusterName=c)["nodegroups"]}
    updates = {c: eks.list_updates(name=c)["updateIds"] for c in clusters}
    return {
        "clusters": clusters,
        "nodegroups": {k: (v["nodegroupArn"], v["scalingConfig"], v["labels"]) for k, v in nodegroups.items()},
        "updates": updates,
        "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]),
        "subnets": sorted((s["SubnetId"], s["CidrBlock"]) for s in ec2.describe_subnets()["Subnets"]),
        "groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
    }


def populate(server):
    eks, ec2 = server.client("eks"), server.client("ec2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
    create_active_cluster(eks, subnets, name="keep", tags={"k": "v"})
    eks.create_nodegroup(clusterName="keep", nodegroupName="ng", subnets=subnets, nodeRole=NODE_ROLE, labels={"l": "1"})
    fast_waiter(eks, "nodegroup_active", clusterName="keep", nodegroupName="ng")
    eks.update_cluster_config(name="keep", logging={"clusterLogging": [{"types": ["audit"], "enabled": True}]})
    fast_waiter(eks, "cluster_active", name="keep")
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.5.1.0/24")


def test_restart_keeps_everything(tmp_path):
    server = Skiff(tmp_path / "data").start()
    populate(server)
    output = subprocess.run([str(BINARY), "iam", "create-access-key", "--user", "bob", "--data-dir", str(server.data_dir)],
                            capture_output=True, text=True, check=True).stdout
    key = json.loads(output)["AccessKey"]
    before = snapshot(server)
    server.stop()

    server.start()
    try:
        assert snapshot(server) == before
        assert server.client("eks").describe_cluster(name="keep")["cluster"]["status"] == "ACTIVE"
        identity = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
        assert identity["Arn"] == "arn:aws:iam::000000000000:user/bob"
    finally:
        server.stop()


def test_acknowledged_writes_survive_kill_9(tmp_path):
    server = Skiff(tmp_path / "data").start()
    populate(server)
    eks, ec2 = server.client("eks"), server.client("ec2")
    # The last writes are acknowledged and then the process dies at once.
    vpc = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.5.0.0/16"]}])["Vpcs"][0]["VpcId"]
    last_subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.5.2.0/24")["Subnet"]["SubnetId"]
    eks.tag_resource(resourceArn=eks.describe_cluster(name="keep")["cluster"]["arn"], tags={"last": "write"})
    before = snapshot(server)
    server.kill()

    server.start()
    try:
        after = snapshot(server)
        assert after == before
        assert last_subnet in [s for s, _ in after["subnets"]]
        assert after["clusters"]["keep"]["tags"] == {"k": "v", "last": "write"}
    finally:
        server.stop()


def test_cluster_caught_creating_finishes_after_restart(tmp_path, ):
    server = Skiff(tmp_path / "data", provisioning_delay=2).start()
    eks = server.client("eks")
    subnets = [s["SubnetId"] for s in server.client("ec2").describe_subnets()["Subnets"]]
    eks.create_cluster(name="midway", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})
    eks.create_cluster(name="goner", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})
    server.kill()

    server.start()
    try:
        eks = server.client("eks")
        assert eks.describe_cluster(name="midway")["cluster"]["status"] == "CREATING"
        fast_waiter(eks, "cluster_active", name="midway")
        fast_waiter(eks, "cluster_active", name="goner")
        eks.delete_cluster(name="goner")
        server.kill()
        server.start()
        fast_waiter(server.client("eks"), "cluster_deleted", name="goner")
        assert server.client("eks").list_clusters()["clusters"] == ["midway"]
    finally:
        server.stop()

"""EKS clusters, updates, versions and tags, through boto3 and the `aws` CLI."""
import base64
import json
import subprocess

import botocore.exceptions
import pytest

from conftest import ROLE, create_active_cluster, fast_waiter


def eks_error(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call(*args, **kwargs)
    return error.value.response


def test_cluster_goes_from_creating_to_active_with_every_field(eks, default_subnets):
    created = eks.create_cluster(name="demo", roleArn=ROLE, resourcesVpcConfig={"subnetIds": default_subnets},
                                 tags={"env": "dev"})["cluster"]
    assert created["status"] == "CREATING"
    assert "endpoint" not in created
    fast_waiter(eks, "cluster_active", name="demo")
    cluster = eks.describe_cluster(name="demo")["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["arn"] == "arn:aws:eks:us-east-1:000000000000:cluster/demo"
    assert cluster["version"] == "1.34" and cluster["platformVersion"] == "eks.9"
    assert cluster["endpoint"].startswith("https://127.0.0.1:")
    assert cluster["roleArn"] == ROLE
    assert cluster["createdAt"].year >= 2025
    vpc = cluster["resourcesVpcConfig"]
    assert vpc["subnetIds"] == default_subnets
    assert vpc["vpcId"].startswith("vpc-") and vpc["clusterSecurityGroupId"].startswith("sg-")
    assert vpc["endpointPublicAccess"] is True and vpc["endpointPrivateAccess"] is False
    assert vpc["publicAccessCidrs"] == ["0.0.0.0/0"]
    assert cluster["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4",
                                                  "elasticLoadBalancing": {"enabled": False}}
    assert cluster["logging"] == {"clusterLogging": [{"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
                                                      "enabled": False}]}
    issuer = cluster["identity"]["oidc"]["issuer"]
    assert issuer.startswith(cluster["endpoint"] + "/id/") and len(issuer) == len(cluster["endpoint"] + "/id/") + 32
    pem = base64.b64decode(cluster["certificateAuthority"]["data"]).decode()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    subject = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, capture_output=True, text=True).stdout
    assert "kubernetes" in subject
    assert cluster["accessConfig"] == {"bootstrapClusterCreatorAdminPermissions": True, "authenticationMode": "CONFIG_MAP"}
    assert cluster["upgradePolicy"] == {"supportType": "EXTENDED"}
    assert cluster["tags"] == {"env": "dev"}
    assert cluster["health"] == {"issues": []}
    # The CA is the cluster's for life.
    assert eks.describe_cluster(name="demo")["cluster"]["certificateAuthority"] == cluster["certificateAuthority"]


def test_cli_create_wait_and_delete(skiff, default_subnets):
    skiff.aws("eks", "create-cluster", "--name", "cli", "--role-arn", ROLE,
              "--resources-vpc-config", f"subnetIds={','.join(default_subnets)}", "--kubernetes-version", "1.33")
    skiff.aws("eks", "wait", "cluster-active", "--name", "cli")
    cluster = skiff.aws("eks", "describe-cluster", "--name", "cli")["cluster"]
    assert cluster["status"] == "ACTIVE" and cluster["version"] == "1.33"
    assert skiff.aws("eks", "list-clusters")["clusters"] == ["cli"]
    assert skiff.aws("eks", "delete-cluster", "--name", "cli")["cluster"]["status"] == "DELETING"
    skiff.aws("eks", "wait", "cluster-deleted", "--name", "cli")
    result = skiff.aws("eks", "describe-cluster", "--name", "cli", check=False)
    assert result.returncode != 0 and "ResourceNotFoundException" in result.stderr


def test_error_bodies_are_as_eks_sends_them(skiff, eks):
    captured = {}
    eks.meta.events.register("after-call.eks.DescribeCluster",
                             lambda http_response, **_: captured.update(response=http_response))
    response = eks_error(eks.describe_cluster, name="missing")
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    assert response["Error"]["Message"] == "No cluster found for name: missing."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    raw = captured["response"]
    assert raw.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert raw.headers["Content-Type"] == "application/json"
    assert raw.headers["x-amzn-RequestId"]
    assert json.loads(raw.content) == {"message": "No cluster found for name: missing.", "clusterName": "missing"}


def test_create_cluster_validation(eks, ec2, default_subnets):
    def code(**kwargs):
        base = {"name": "bad", "roleArn": ROLE, "resourcesVpcConfig": {"subnetIds": default_subnets}}
        base.update(kwargs)
        response = eks_error(eks.create_cluster, **base)
        return response["Error"]["Code"], response["Error"]["Message"]

    assert code(resourcesVpcConfig={"subnetIds": default_subnets[:1]}) == (
        "InvalidParameterException", "Subnets specified must be in at least two different AZs")
    assert code(resourcesVpcConfig={"subnetIds": [default_subnets[0], "subnet-0123456789abcdef0"]}) == (
        "InvalidParameterException", "The subnet ID 'subnet-0123456789abcdef0' does not exist")
    assert code(version="1.28")[0] == "InvalidParameterException"
    assert code(version="1.99")[0] == "InvalidParameterException"
    assert code(roleArn="not-an-arn")[0] == "InvalidParameterException"
    assert code(name="has spaces")[0] == "InvalidParameterException"
    other_vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.7.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    assert code(resourcesVpcConfig={"subnetIds": [default_subnets[1], other_subnet]}) == (
        "InvalidParameterException", "Subnets specified must be in the same VPC")
    assert code(kubernetesNetworkConfig={"serviceIpv4Cidr": "172.31.0.0/16"})[0] == "InvalidParameterException"
    assert eks.list_clusters()["clusters"] == []

    eks.create_cluster(name="dup", roleArn=ROLE, resourcesVpcConfig={"subnetIds": default_subnets})
    response = eks_error(eks.create_cluster, name="dup", roleArn=ROLE, resourcesVpcConfig={"subnetIds": default_subnets})
    assert response["Error"]["Code"] == "ResourceInUseException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_service_cidr_avoids_a_ten_dot_vpc(eks, ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(["us-east-1a", "us-east-1b"])]
    cluster = eks.create_cluster(name="ten", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})["cluster"]
    assert cluster["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    assert cluster["resourcesVpcConfig"]["vpcId"] == vpc_id
    # The cluster's network interfaces hold its subnets.
    assert eks_error(ec2.delete_subnet, SubnetId=subnets[0])["Error"]["Code"] == "DependencyViolation"


def test_list_clusters_paginates(eks, default_subnets):
    names = [f"c{i:02d}" for i in range(7)]
    for name in names:
        eks.create_cluster(name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": default_subnets})
    pages = list(eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 3}))
    assert [p["clusters"] for p in pages] == [names[0:3], names[3:6], names[6:7]]
    assert eks_error(eks.list_clusters, maxResults=101)["Error"]["Code"] == "InvalidParameterException"


def test_version_update_moves_one_minor_and_blocks_a_second_update(eks, default_subnets):
    create_active_cluster(eks, default_subnets, name="up", version="1.32")
    skip = eks_error(eks.update_cluster_version, name="up", version="1.34")
    assert skip["Error"] == {"Code": "InvalidParameterException", "Message": "Unsupported Kubernetes minor version update from 1.32 to 1.34"}
    down = eks_error(eks.update_cluster_version, name="up", version="1.31")
    assert down["Error"]["Code"] == "InvalidParameterException"

    update = eks.update_cluster_version(name="up", version="1.33")["update"]
    assert update["status"] == "InProgress" and update["type"] == "VersionUpdate"
    assert {"type": "Version", "value": "1.33"} in update["params"]
    assert eks.describe_cluster(name="up")["cluster"]["status"] == "UPDATING"
    second = eks_error(eks.update_cluster_config, name="up",
                       logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert second["Error"]["Code"] == "ResourceInUseException"

    fast_waiter(eks, "cluster_active", name="up")
    assert eks.describe_update(name="up", updateId=update["id"])["update"]["status"] == "Successful"
    cluster = eks.describe_cluster(name="up")["cluster"]
    assert cluster["version"] == "1.33" and cluster["platformVersion"] == "eks.21"
    assert eks.list_updates(name="up")["updateIds"] == [update["id"]]
    missing = eks_error(eks.describe_update, name="up", updateId="00000000-0000-0000-0000-000000000000")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"


def test_config_updates_apply_when_they_succeed(eks, default_subnets):
    create_active_cluster(eks, default_subnets, name="cfg")
    update = eks.update_cluster_config(name="cfg", logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]})["update"]
    assert update["type"] == "LoggingUpdate"
    fast_waiter(eks, "cluster_active", name="cfg")
    assert eks.describe_cluster(name="cfg")["cluster"]["logging"]["clusterLogging"] == [
        {"types": ["api", "audit"], "enabled": True},
        {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False}]
    same = eks_error(eks.update_cluster_config, name="cfg", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert same["Error"]["Code"] == "InvalidParameterException"

    update = eks.update_cluster_config(name="cfg", resourcesVpcConfig={"endpointPrivateAccess": True,
                                                                         "publicAccessCidrs": ["203.0.113.0/24"]})["update"]
    assert update["type"] == "EndpointAccessUpdate"
    fast_waiter(eks, "cluster_active", name="cfg")
    vpc = eks.describe_cluster(name="cfg")["cluster"]["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]

    assert eks.update_cluster_config(name="cfg", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]["type"] == "AccessConfigUpdate"
    fast_waiter(eks, "cluster_active", name="cfg")
    back = eks_error(eks.update_cluster_config, name="cfg", accessConfig={"authenticationMode": "CONFIG_MAP"})
    assert back["Error"]["Code"] == "InvalidParameterException"
    both = eks_error(eks.update_cluster_config, name="cfg", logging={"clusterLogging": []},
                     accessConfig={"authenticationMode": "API"})
    assert both["Error"]["Code"] == "InvalidParameterException"


def test_deletion_protection_blocks_delete(eks, default_subnets):
    create_active_cluster(eks, default_subnets, name="kept", deletionProtection=True)
    assert eks_error(eks.delete_cluster, name="kept")["Error"]["Code"] == "InvalidRequestException"
    eks.update_cluster_config(name="kept", deletionProtection=False)
    fast_waiter(eks, "cluster_active", name="kept")
    assert eks.delete_cluster(name="kept")["cluster"]["status"] == "DELETING"


def test_describe_cluster_versions(skiff, eks):
    versions = eks.describe_cluster_versions()["clusterVersions"]
    assert [v["clusterVersion"] for v in versions] == ["1.34", "1.33", "1.32", "1.31", "1.30", "1.29"]
    assert [v["clusterVersion"] for v in versions if v["versionStatus"] == "STANDARD_SUPPORT"] == ["1.34", "1.33", "1.32"]
    assert [v["clusterVersion"] for v in versions if v["defaultVersion"]] == ["1.34"]
    assert all(v["releaseDate"] < v["endOfStandardSupportDate"] < v["endOfExtendedSupportDate"] for v in versions)
    assert eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"][0]["clusterVersion"] == "1.34"
    extended = skiff.aws("eks", "describe-cluster-versions", "--version-status", "EXTENDED_SUPPORT")["clusterVersions"]
    assert [v["clusterVersion"] for v in extended] == ["1.31", "1.30", "1.29"]
    pages = list(eks.get_paginator("describe_cluster_versions").paginate(PaginationConfig={"PageSize": 4}))
    assert [len(p["clusterVersions"]) for p in pages] == [4, 2]


def test_tags_on_clusters(skiff, eks, default_subnets):
    arn = eks.create_cluster(name="tagged", roleArn=ROLE, resourcesVpcConfig={"subnetIds": default_subnets},
                             tags={"team": "platform"})["cluster"]["arn"]
    skiff.aws("eks", "tag-resource", "--resource-arn", arn, "--tags", "env=dev,cost=42")
    eks.untag_resource(resourceArn=arn, tagKeys=["cost"])
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "platform", "env": "dev"}
    assert eks.describe_cluster(name="tagged")["cluster"]["tags"] == {"team": "platform", "env": "dev"}
    missing = eks_error(eks.list_tags_for_resource, resourceArn="arn:aws:eks:us-east-1:000000000000:cluster/none")
    assert missing["Error"]["Code"] == "NotFoundException"
    assert missing["ResponseMetadata"]["HTTPStatusCode"] == 404
    bad = eks_error(eks.tag_resource, resourceArn="arn:aws:s3:::bucket", tags={"a": "b"})
    assert bad["Error"]["Code"] == "BadRequestException"
    reserved = eks_error(eks.tag_resource, resourceArn=arn, tags={"aws:owner": "x"})
    assert reserved["Error"]["Code"] == "BadRequestException"

"""EKS managed node groups, through boto3 and the `aws` CLI."""
import botocore.exceptions
import pytest

from conftest import NODE_ROLE, create_active_cluster, fast_waiter


def eks_error(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call(*args, **kwargs)
    return error.value.response["Error"]


@pytest.fixture
def cluster(eks, default_subnets):
    return create_active_cluster(eks, default_subnets, name="prod", version="1.33")


def create_nodegroup(eks, subnets, name="ng", **kwargs):
    return eks.create_nodegroup(clusterName="prod", nodegroupName=name, subnets=subnets, nodeRole=NODE_ROLE, **kwargs)["nodegroup"]


def test_nodegroup_lifecycle_with_defaults(eks, cluster, default_subnets):
    created = create_nodegroup(eks, default_subnets, tags={"team": "a"})
    assert created["status"] == "CREATING"
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="ng")
    nodegroup = eks.describe_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]
    assert nodegroup["status"] == "ACTIVE"
    assert nodegroup["nodegroupArn"].startswith("arn:aws:eks:us-east-1:000000000000:nodegroup/prod/ng/")
    assert nodegroup["version"] == "1.33" and nodegroup["releaseVersion"].startswith("1.33.")
    assert nodegroup["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 2}
    assert nodegroup["instanceTypes"] == ["t3.medium"] and nodegroup["amiType"] == "AL2023_x86_64_STANDARD"
    assert nodegroup["capacityType"] == "ON_DEMAND" and nodegroup["diskSize"] == 20
    assert nodegroup["updateConfig"] == {"maxUnavailable": 1}
    assert nodegroup["resources"]["autoScalingGroups"][0]["name"].startswith("eks-ng-")
    assert nodegroup["subnets"] == default_subnets and nodegroup["nodeRole"] == NODE_ROLE
    assert nodegroup["tags"] == {"team": "a"} and nodegroup["health"] == {"issues": []}
    assert eks.list_nodegroups(clusterName="prod")["nodegroups"] == ["ng"]

    assert eks.delete_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]["status"] == "DELETING"
    fast_waiter(eks, "nodegroup_deleted", clusterName="prod", nodegroupName="ng")
    assert eks.list_nodegroups(clusterName="prod")["nodegroups"] == []
    assert eks_error(eks.describe_nodegroup, clusterName="prod", nodegroupName="ng") == {
        "Code": "ResourceNotFoundException", "Message": "No node group found for name: ng."}


def test_cli_nodegroup_with_labels_and_taints(skiff, cluster, default_subnets):
    skiff.aws("eks", "create-nodegroup", "--cluster-name", "prod", "--nodegroup-name", "gpu", "--subnets", *default_subnets,
              "--node-role", NODE_ROLE, "--scaling-config", "minSize=0,maxSize=4,desiredSize=1",
              "--instance-types", "g5.xlarge", "--labels", "accelerator=nvidia",
              "--taints", "key=nvidia.com/gpu,value=true,effect=NO_SCHEDULE")
    skiff.aws("eks", "wait", "nodegroup-active", "--cluster-name", "prod", "--nodegroup-name", "gpu")
    nodegroup = skiff.aws("eks", "describe-nodegroup", "--cluster-name", "prod", "--nodegroup-name", "gpu")["nodegroup"]
    assert nodegroup["labels"] == {"accelerator": "nvidia"}
    assert nodegroup["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert nodegroup["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 1}


def test_config_update_changes_scaling_labels_and_taints(eks, cluster, default_subnets):
    create_nodegroup(eks, default_subnets, labels={"team": "a", "tier": "web"},
                     taints=[{"key": "dedicated", "value": "web", "effect": "NO_SCHEDULE"}])
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="ng")
    update = eks.update_nodegroup_config(
        clusterName="prod", nodegroupName="ng", scalingConfig={"maxSize": 5, "desiredSize": 4},
        labels={"addOrUpdateLabels": {"team": "b"}, "removeLabels": ["tier"]},
        taints={"removeTaints": [{"key": "dedicated", "effect": "NO_SCHEDULE"}]})["update"]
    assert update["type"] == "ConfigUpdate" and update["status"] == "InProgress"
    assert {"type": "DesiredSize", "value": "4"} in update["params"]
    assert eks.describe_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]["status"] == "UPDATING"
    assert eks_error(eks.update_nodegroup_config, clusterName="prod", nodegroupName="ng",
                     scalingConfig={"desiredSize": 1})["Code"] == "ResourceInUseException"
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="ng")
    nodegroup = eks.describe_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]
    assert nodegroup["scalingConfig"] == {"minSize": 1, "maxSize": 5, "desiredSize": 4}
    assert nodegroup["labels"] == {"team": "b"}
    assert "taints" not in nodegroup
    assert eks.describe_update(name="prod", updateId=update["id"], nodegroupName="ng")["update"]["status"] == "Successful"
    assert eks.list_updates(name="prod", nodegroupName="ng")["updateIds"] == [update["id"]]
    assert eks.list_updates(name="prod")["updateIds"] == []


def test_scaling_validation(eks, cluster, default_subnets):
    assert eks_error(create_nodegroup, eks, default_subnets, scalingConfig={"minSize": 3, "maxSize": 5, "desiredSize": 2}) == {
        "Code": "InvalidParameterException", "Message": "Minimum capacity 3 can't be greater than desired size 2"}
    assert eks_error(create_nodegroup, eks, default_subnets, scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 5}) == {
        "Code": "InvalidParameterException", "Message": "Desired capacity 5 can't be greater than max size 3"}
    create_nodegroup(eks, default_subnets)
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="ng")
    assert eks_error(eks.update_nodegroup_config, clusterName="prod", nodegroupName="ng",
                     scalingConfig={"desiredSize": 9})["Code"] == "InvalidParameterException"
    assert eks_error(eks.update_nodegroup_config, clusterName="prod", nodegroupName="ng",
                     labels={"addOrUpdateLabels": {"a": "1"}, "removeLabels": ["a"]})["Code"] == "InvalidParameterException"
    assert eks.describe_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE"


def test_nodegroup_errors(eks, cluster, default_subnets):
    create_nodegroup(eks, default_subnets)
    duplicate = eks_error(create_nodegroup, eks, default_subnets)
    assert duplicate["Code"] == "ResourceInUseException"
    assert eks_error(eks.describe_nodegroup, clusterName="nope", nodegroupName="ng")["Code"] == "ResourceNotFoundException"
    assert eks_error(eks.list_nodegroups, clusterName="nope")["Code"] == "ResourceNotFoundException"
    assert eks_error(create_nodegroup, eks, ["subnet-0123456789abcdef0"], name="ghost")["Code"] == "InvalidParameterException"
    assert eks_error(create_nodegroup, eks, default_subnets, name="al2", amiType="AL2_x86_64")["Message"] == (
        "AMI Type AL2_x86_64 is only supported for kubernetes versions 1.32 or earlier")
    assert eks_error(create_nodegroup, eks, default_subnets, name="newer", version="1.34")["Code"] == "InvalidParameterException"
    # A cluster with node groups cannot be deleted.
    assert eks_error(eks.delete_cluster, name="prod") == {"Code": "ResourceInUseException", "Message": "Cluster has nodegroups attached"}


def test_version_update_follows_the_cluster(eks, cluster, default_subnets):
    create_nodegroup(eks, default_subnets, version="1.32")
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="ng")
    assert eks_error(eks.update_nodegroup_version, clusterName="prod", nodegroupName="ng", version="1.34")["Code"] == "InvalidParameterException"
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="ng")["update"]
    assert update["type"] == "VersionUpdate" and {"type": "Version", "value": "1.33"} in update["params"]
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="ng")
    nodegroup = eks.describe_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]
    assert nodegroup["version"] == "1.33" and nodegroup["releaseVersion"].startswith("1.33.")


def test_tags_on_nodegroups(eks, cluster, default_subnets):
    arn = create_nodegroup(eks, default_subnets, tags={"a": "1"})["nodegroupArn"]
    eks.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    eks.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert eks.describe_nodegroup(clusterName="prod", nodegroupName="ng")["nodegroup"]["tags"] == {"b": "2"}


def test_list_nodegroups_paginates(eks, cluster, default_subnets):
    for index in range(5):
        create_nodegroup(eks, default_subnets, name=f"ng{index}")
    pages = list(eks.get_paginator("list_nodegroups").paginate(clusterName="prod", PaginationConfig={"PageSize": 2}))
    assert [p["nodegroups"] for p in pages] == [["ng0", "ng1"], ["ng2", "ng3"], ["ng4"]]


def test_launch_templates(skiff, eks, cluster, default_subnets):
    ec2 = skiff.client("ec2")
    template = ec2.create_launch_template(LaunchTemplateName="workers", VersionDescription="first",
                                          LaunchTemplateData={"InstanceType": "m5.large", "UserData": "IyEvYmluL2Jhc2g="})["LaunchTemplate"]
    assert template["LaunchTemplateId"].startswith("lt-") and template["LatestVersionNumber"] == 1
    assert ec2.describe_launch_templates(LaunchTemplateNames=["workers"])["LaunchTemplates"][0]["LaunchTemplateId"] == template["LaunchTemplateId"]
    version = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"],
                                                    Versions=["$Latest"])["LaunchTemplateVersions"][0]
    assert version["LaunchTemplateData"]["InstanceType"] == "m5.large" and version["DefaultVersion"] is True
    with pytest.raises(botocore.exceptions.ClientError) as duplicate:
        ec2.create_launch_template(LaunchTemplateName="workers", LaunchTemplateData={})
    assert duplicate.value.response["Error"]["Code"] == "InvalidLaunchTemplateName.AlreadyExistsException"

    created = create_nodegroup(eks, default_subnets, name="lt", launchTemplate={"name": "workers"})
    assert created["launchTemplate"] == {"name": "workers", "version": "1", "id": template["LaunchTemplateId"]}
    assert created.get("instanceTypes") is None and "diskSize" not in created
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="lt")
    instances = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:eks:nodegroup-name", "Values": ["lt"]}])["Reservations"]
                 for i in r["Instances"]]
    assert instances and all(i["InstanceType"] == "m5.large" for i in instances)

    both = eks_error(create_nodegroup, eks, default_subnets, name="both",
                     launchTemplate={"name": "workers", "id": template["LaunchTemplateId"]})
    assert both["Code"] == "InvalidParameterException"
    missing = eks_error(create_nodegroup, eks, default_subnets, name="missing", launchTemplate={"name": "nope"})
    assert missing["Code"] == "InvalidParameterException" and "does not exist" in missing["Message"]
    no_version = eks_error(create_nodegroup, eks, default_subnets, name="v9", launchTemplate={"name": "workers", "version": "9"})
    assert no_version["Code"] == "InvalidParameterException"
    twice = eks_error(create_nodegroup, eks, default_subnets, name="twice", launchTemplate={"name": "workers"}, instanceTypes=["t3.small"])
    assert twice["Code"] == "InvalidParameterException"
    create_nodegroup(eks, default_subnets, name="plain")
    fast_waiter(eks, "nodegroup_active", clusterName="prod", nodegroupName="plain")
    without = eks_error(eks.update_nodegroup_version, clusterName="prod", nodegroupName="plain", launchTemplate={"name": "workers"})
    assert without["Code"] == "InvalidParameterException"


def test_remote_access_needs_an_existing_key(skiff, eks, cluster, default_subnets):
    missing = eks_error(create_nodegroup, eks, default_subnets, name="ssh", remoteAccess={"ec2SshKey": "nope"})
    assert missing["Code"] == "InvalidParameterException" and "nope" in missing["Message"]
    skiff.client("ec2").create_key_pair(KeyName="admins")
    created = create_nodegroup(eks, default_subnets, name="ssh", remoteAccess={"ec2SshKey": "admins"})
    assert created["remoteAccess"]["ec2SshKey"] == "admins"


def test_errors_name_the_cluster_and_node_group(eks, cluster, default_subnets):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        create_nodegroup(eks, default_subnets, name="odd", releaseVersion="1.33.0-20200101")
    response = error.value.response
    assert response["Error"]["Code"] == "InvalidParameterException"
    assert "is not valid for kubernetes version 1.33" in response["Error"]["Message"]
    assert response["clusterName"] == "prod" and response["nodegroupName"] == "odd"

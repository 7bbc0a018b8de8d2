"""The EC2 calls an EKS user makes, through boto3 and the `aws` CLI."""
import botocore.exceptions
import pytest


def error_code(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        call(*args, **kwargs)
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def test_default_vpc_has_a_default_subnet_per_zone(skiff):
    vpcs = skiff.aws("ec2", "describe-vpcs")["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    assert vpc["IsDefault"] is True and vpc["CidrBlock"] == "172.31.0.0/16" and vpc["State"] == "available"
    assert vpc["VpcId"].startswith("vpc-") and vpc["OwnerId"] == "000000000000"
    subnets = skiff.aws("ec2", "describe-subnets", "--filters", f"Name=vpc-id,Values={vpc['VpcId']}")["Subnets"]
    by_zone = {s["AvailabilityZone"]: s for s in subnets}
    assert sorted(by_zone) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"]
    for subnet in subnets:
        assert subnet["DefaultForAz"] is True and subnet["MapPublicIpOnLaunch"] is True
        assert subnet["AvailableIpAddressCount"] == 4091
        assert subnet["SubnetArn"] == f"arn:aws:ec2:us-east-1:000000000000:subnet/{subnet['SubnetId']}"
    assert by_zone["us-east-1b"]["AvailabilityZoneId"] == "use1-az2"


def test_availability_zones(skiff):
    zones = skiff.aws("ec2", "describe-availability-zones")["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"], z["State"]) for z in zones] == [
        ("us-east-1a", "use1-az1", "available"), ("us-east-1b", "use1-az2", "available"),
        ("us-east-1c", "use1-az3", "available")]
    assert zones[0]["RegionName"] == "us-east-1"
    named = skiff.aws("ec2", "describe-availability-zones", "--zone-names", "us-east-1c")["AvailabilityZones"]
    assert [z["ZoneId"] for z in named] == ["use1-az3"]
    filtered = skiff.aws("ec2", "describe-availability-zones", "--filters", "Name=zone-id,Values=use1-az1,use1-az2")
    assert len(filtered["AvailabilityZones"]) == 2


def test_default_security_group_per_vpc(ec2):
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]
    group = groups[0]
    assert group["Description"] == "default VPC security group"
    assert group["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == group["GroupId"]
    assert group["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    by_name = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]
    assert by_name[0]["GroupId"] == group["GroupId"]
    assert error_code(ec2.describe_security_groups, GroupIds=["sg-0000000000000000a"])[0] == "InvalidGroup.NotFound"


def test_create_vpc_and_subnets_with_tags(skiff, ec2):
    vpc = skiff.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16",
                    "--tag-specifications", "ResourceType=vpc,Tags=[{Key=Name,Value=lab}]")["Vpc"]
    assert vpc["CidrBlock"] == "10.0.0.0/16" and vpc["IsDefault"] is False
    assert vpc["Tags"] == [{"Key": "Name", "Value": "lab"}]
    # Every VPC gets its default security group.
    assert ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]

    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a",
                               TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "private"}]}])["Subnet"]
    assert subnet["AvailableIpAddressCount"] == 251 and subnet["DefaultForAz"] is False
    by_zone_id = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.2.0/24", AvailabilityZoneId="use1-az3")["Subnet"]
    assert by_zone_id["AvailabilityZone"] == "us-east-1c"

    tagged = ec2.describe_subnets(Filters=[{"Name": "tag:tier", "Values": ["priv*"]}])["Subnets"]
    assert [s["SubnetId"] for s in tagged] == [subnet["SubnetId"]]
    keyed = ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["Name"]}])["Vpcs"]
    assert [v["VpcId"] for v in keyed] == [vpc["VpcId"]]
    by_id = ec2.describe_subnets(SubnetIds=[by_zone_id["SubnetId"], subnet["SubnetId"]])["Subnets"]
    assert [s["SubnetId"] for s in by_id] == [by_zone_id["SubnetId"], subnet["SubnetId"]]


def test_subnet_errors_change_nothing(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.0.0/24")
    before = len(ec2.describe_subnets()["Subnets"])
    assert error_code(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.0.128/25") == (
        "InvalidSubnet.Conflict", "The CIDR '10.1.0.128/25' conflicts with another subnet")
    assert error_code(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.2.0.0/24") == (
        "InvalidSubnet.Range", "The CIDR '10.2.0.0/24' is invalid.")
    assert error_code(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.0.0/29x")[0] == "InvalidSubnet.Range"
    assert error_code(ec2.create_subnet, VpcId="vpc-00000000000000000", CidrBlock="10.1.1.0/24") == (
        "InvalidVpcID.NotFound", "The vpc ID 'vpc-00000000000000000' does not exist")
    code, message = error_code(ec2.create_subnet, VpcId=vpc_id, CidrBlock="10.1.1.0/24", AvailabilityZone="us-east-1z")
    assert code == "InvalidParameterValue" and "us-east-1a, us-east-1b, us-east-1c" in message
    assert error_code(ec2.create_vpc, CidrBlock="10.0.0.0/8")[0] == "InvalidVpc.Range"
    assert len(ec2.describe_subnets()["Subnets"]) == before


def test_delete_subnet_and_vpc(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.3.0.0/24")["Subnet"]["SubnetId"]
    assert error_code(ec2.delete_vpc, VpcId=vpc_id)[0] == "DependencyViolation"
    ec2.delete_subnet(SubnetId=subnet_id)
    assert error_code(ec2.describe_subnets, SubnetIds=[subnet_id]) == (
        "InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}' does not exist")
    assert error_code(ec2.delete_subnet, SubnetId=subnet_id)[0] == "InvalidSubnetID.NotFound"
    ec2.delete_vpc(VpcId=vpc_id)
    assert error_code(ec2.describe_vpcs, VpcIds=[vpc_id])[0] == "InvalidVpcID.NotFound"


def test_unknown_filter_and_dry_run(ec2):
    assert error_code(ec2.describe_subnets, Filters=[{"Name": "colour", "Values": ["red"]}]) == (
        "InvalidParameterValue", "The filter 'colour' is invalid")
    code, _ = error_code(ec2.create_vpc, CidrBlock="10.9.0.0/16", DryRun=True)
    assert code == "DryRunOperation"
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_describe_subnets_paginates(ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    for index in range(9):
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.4.{index}.0/24")
    pages = list(ec2.get_paginator("describe_subnets").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["Subnets"]) for p in pages] == [5, 5, 2]
    assert len({s["SubnetId"] for p in pages for s in p["Subnets"]}) == 12


def test_key_pairs(skiff, ec2):
    import base64
    import hashlib
    from cryptography.hazmat.primitives import serialization

    rsa = skiff.aws("ec2", "create-key-pair", "--key-name", "ops", "--tag-specifications",
                    "ResourceType=key-pair,Tags=[{Key=team,Value=ops}]")
    assert rsa["KeyPairId"].startswith("key-") and rsa["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    private = serialization.load_pem_private_key(rsa["KeyMaterial"].encode(), password=None)
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert rsa["KeyFingerprint"] == ":".join(f"{b:02x}" for b in hashlib.sha1(pkcs8).digest())

    ed = ec2.create_key_pair(KeyName="ed", KeyType="ed25519")
    assert ed["KeyMaterial"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    ed_key = serialization.load_ssh_private_key(ed["KeyMaterial"].encode(), password=None)
    public = ed_key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    described = {k["KeyName"]: k for k in ec2.describe_key_pairs(IncludePublicKey=True)["KeyPairs"]}
    assert described["ed"]["PublicKey"] == public and described["ed"]["KeyType"] == "ed25519"
    assert described["ed"]["KeyFingerprint"] == base64.b64encode(hashlib.sha256(base64.b64decode(public.split()[1])).digest()).decode()
    assert described["ops"]["KeyType"] == "rsa" and described["ops"]["Tags"] == [{"Key": "team", "Value": "ops"}]
    assert "KeyMaterial" not in described["ops"]

    assert error_code(ec2.create_key_pair, KeyName="ops")[0] == "InvalidKeyPair.Duplicate"
    assert error_code(ec2.describe_key_pairs, KeyNames=["nope"])[0] == "InvalidKeyPair.NotFound"
    ec2.delete_key_pair(KeyName="ed")
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["ops"]

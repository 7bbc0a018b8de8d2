"""CloudTrail with the real `aws cloudtrail lookup-events`: every call to the regional endpoint is a
management event with its caller, parameters, response and error; secrets are never in it."""
import json
import subprocess


from conftest import ROLE, module_server


server = module_server("trail", provisioning_delay=0)


def lookup(server, key, value, *extra, **credentials):
    found = server.aws("cloudtrail", "lookup-events", "--lookup-attributes", f"AttributeKey={key},AttributeValue={value}", *extra,
                       **credentials)
    return [dict(e, CloudTrailEvent=json.loads(e["CloudTrailEvent"])) for e in found["Events"]]


def test_calls_become_management_events_with_caller_parameters_and_errors(server):
    subnets = ",".join(s["SubnetId"] for s in server.client("ec2").describe_subnets()["Subnets"][:2])
    server.aws("eks", "create-cluster", "--name", "trailed", "--role-arn", ROLE, "--resources-vpc-config", f"subnetIds={subnets}")
    refused = server.aws("eks", "describe-cluster", "--name", "no-such-cluster", check=False)
    assert refused.returncode != 0

    created = lookup(server, "EventName", "CreateCluster")
    assert len(created) == 1
    event = created[0]
    assert event["EventSource"] == "eks.amazonaws.com" and event["ReadOnly"] == "false" and event["Username"] == "root"
    assert {"ResourceType": "AWS::EKS::Cluster", "ResourceName": "trailed"} in event["Resources"]
    body = event["CloudTrailEvent"]
    assert body["userIdentity"]["type"] == "Root" and body["userIdentity"]["arn"] == "arn:aws:iam::000000000000:root"
    assert body["userIdentity"]["accessKeyId"] == "test" and body["eventName"] == "CreateCluster"
    assert body["requestParameters"]["name"] == "trailed" and body["requestParameters"]["roleArn"] == ROLE
    assert body["responseElements"]["cluster"]["status"] == "CREATING"
    assert body["sourceIPAddress"] == "127.0.0.1" and body["userAgent"].startswith("aws-cli/")
    assert body["eventType"] == "AwsApiCall" and body["managementEvent"] is True and body["recipientAccountId"] == "000000000000"

    failed = [e["CloudTrailEvent"] for e in lookup(server, "EventName", "DescribeCluster")
              if e["CloudTrailEvent"]["requestParameters"].get("name") == "no-such-cluster"]
    assert failed and failed[0]["errorCode"] == "ResourceNotFoundException" and failed[0]["responseElements"] is None
    assert lookup(server, "ResourceName", "trailed")
    reads = lookup(server, "ReadOnly", "true")
    assert reads and all(e["ReadOnly"] == "true" for e in reads)


def test_secrets_are_hidden_and_assumed_roles_carry_their_session(server):
    server.aws("iam", "create-user", "--user-name", "carol")
    key = server.aws("iam", "create-access-key", "--user-name", "carol")["AccessKey"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/carol"}, "Action": "sts:AssumeRole"}]})
    server.aws("iam", "create-role", "--role-name", "auditor", "--assume-role-policy-document", trust)
    session = server.aws("sts", "assume-role", "--role-arn", "arn:aws:iam::000000000000:role/auditor", "--role-session-name", "nightly",
                         key=key["AccessKeyId"], secret=key["SecretAccessKey"])["Credentials"]
    env = server.env(session["AccessKeyId"], session["SecretAccessKey"])
    env["AWS_SESSION_TOKEN"] = session["SessionToken"]
    subprocess.run(["aws", "eks", "list-clusters"], env=env, capture_output=True, check=True)

    everything = json.dumps(server.aws("cloudtrail", "lookup-events", "--max-items", "1000"))
    assert key["SecretAccessKey"] not in everything and session["SecretAccessKey"] not in everything
    by_session = lookup(server, "Username", "nightly")
    listed = next(e for e in by_session if e["EventName"] == "ListClusters")["CloudTrailEvent"]
    identity = listed["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["arn"] == "arn:aws:sts::000000000000:assumed-role/auditor/nightly"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == "arn:aws:iam::000000000000:role/auditor"
    assert lookup(server, "AccessKeyId", session["AccessKeyId"])
    carol = lookup(server, "Username", "carol")
    assume = next(e for e in carol if e["EventName"] == "AssumeRole")["CloudTrailEvent"]
    assert assume["eventSource"] == "sts.amazonaws.com" and assume["requestParameters"]["roleSessionName"] == "nightly"

    # One lookup attribute at a time, as CloudTrail allows.
    two = server.aws("cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=AssumeRole",
                     "AttributeKey=Username,AttributeValue=carol", check=False)
    assert two.returncode != 0 and "InvalidLookupAttributesException" in two.stderr
    # Paging, newest first.
    page = server.aws("cloudtrail", "lookup-events", "--max-results", "2", "--no-paginate")
    assert len(page["Events"]) == 2 and "NextToken" in page
    assert page["Events"][0]["EventTime"] >= page["Events"][1]["EventTime"]

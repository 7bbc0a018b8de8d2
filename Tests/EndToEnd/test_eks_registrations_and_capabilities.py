"""Registered clusters (EKS Connector), EKS Anywhere subscriptions and EKS capabilities, with the real `aws` CLI;
a capability's kinds are in the cluster, as `kubectl api-resources` shows."""
import json


from conftest import module_server, wait_for
from kube import Cluster

ROLE = "arn:aws:iam::000000000000:role/connector"
IDC = "arn:aws:sso:::instance/ssoins-1234567890abcdef"



server = module_server("resources", provisioning_delay=0.1)


def failure(result, code):
    assert result.returncode != 0 and code in result.stderr, result.stderr
    return result.stderr


def test_registered_cluster_lifecycle(server):
    cluster = server.aws("eks", "register-cluster", "--name", "onprem", "--connector-config",
                         f"roleArn={ROLE},provider=EKS_ANYWHERE", "--tags", "site=basement")["cluster"]
    assert cluster["status"] == "PENDING"
    assert cluster["connectorConfig"]["provider"] == "EKS_ANYWHERE" and cluster["connectorConfig"]["activationId"]
    assert cluster["connectorConfig"]["activationCode"] and cluster["connectorConfig"]["activationExpiry"]
    described = server.aws("eks", "describe-cluster", "--name", "onprem")["cluster"]
    assert described["arn"] == "arn:aws:eks:us-east-1:000000000000:cluster/onprem" and described["status"] == "PENDING"
    assert "onprem" not in server.aws("eks", "list-clusters")["clusters"]
    assert "onprem" in server.aws("eks", "list-clusters", "--include", "all")["clusters"]
    assert server.aws("eks", "list-tags-for-resource", "--resource-arn", described["arn"])["tags"] == {"site": "basement"}

    failure(server.aws("eks", "register-cluster", "--name", "onprem", "--connector-config", f"roleArn={ROLE},provider=GKE", check=False),
            "ResourceInUseException")
    failure(server.aws("eks", "register-cluster", "--name", "bad", "--connector-config", "roleArn=nope,provider=GKE", check=False),
            "InvalidParameterException")
    failure(server.aws("eks", "delete-cluster", "--name", "onprem", check=False), "InvalidRequestException")
    failure(server.aws("eks", "list-nodegroups", "--cluster-name", "onprem", check=False), "ResourceNotFoundException")

    assert server.aws("eks", "deregister-cluster", "--name", "onprem")["cluster"]["status"] == "DELETING"
    assert wait_for(lambda: "onprem" not in server.aws("eks", "list-clusters", "--include", "all")["clusters"])
    failure(server.aws("eks", "deregister-cluster", "--name", "onprem", check=False), "ResourceNotFoundException")


def test_eks_anywhere_subscription_lifecycle(server):
    created = server.aws("eks", "create-eks-anywhere-subscription", "--name", "lab", "--term", "duration=12,unit=MONTHS",
                         "--license-quantity", "2", "--no-auto-renew")["subscription"]
    assert created["status"] == "CREATING" and created["licenseQuantity"] == 2 and len(created["licenses"]) == 2
    assert created["term"] == {"duration": 12, "unit": "MONTHS"} and created["licenseType"] == "Cluster"
    sid = created["id"]
    active = wait_for(lambda: (lambda s: s["status"] == "ACTIVE" and s)(
        server.aws("eks", "describe-eks-anywhere-subscription", "--id", sid)["subscription"]))
    assert active
    listed = server.aws("eks", "list-eks-anywhere-subscriptions", "--include-status", "ACTIVE")["subscriptions"]
    assert [s["id"] for s in listed] == [sid]
    assert server.aws("eks", "list-eks-anywhere-subscriptions", "--include-status", "EXPIRED")["subscriptions"] == []
    renewed = server.aws("eks", "update-eks-anywhere-subscription", "--id", sid, "--auto-renew")["subscription"]
    assert renewed["autoRenew"] is True
    failure(server.aws("eks", "delete-eks-anywhere-subscription", "--id", sid, check=False), "InvalidRequestException")
    failure(server.aws("eks", "create-eks-anywhere-subscription", "--name", "odd", "--term", "duration=7,unit=MONTHS", check=False),
            "InvalidParameterException")
    failure(server.aws("eks", "describe-eks-anywhere-subscription", "--id", "nope", check=False), "ResourceNotFoundException")


def test_capabilities_install_their_kinds(server, tmp_path_factory):
    cluster = Cluster(server, "caps", tmp_path_factory.mktemp("caps"))
    created = server.aws("eks", "create-capability", "--cluster-name", "caps", "--capability-name", "gitops", "--type", "ARGOCD",
                         "--role-arn", "arn:aws:iam::000000000000:role/argocd", "--delete-propagation-policy", "RETAIN",
                         "--configuration", json.dumps({"argoCd": {"awsIdc": {"idcInstanceArn": IDC}, "rbacRoleMappings": [
                             {"role": "ADMIN", "identities": [{"id": "u-1", "type": "SSO_USER"}]}]}}))["capability"]
    assert created["status"] == "CREATING" and created["type"] == "ARGOCD"
    assert created["configuration"]["argoCd"]["namespace"] == "argocd" and created["configuration"]["argoCd"]["serverUrl"].startswith("https://")
    assert wait_for(lambda: server.aws("eks", "describe-capability", "--cluster-name", "caps", "--capability-name", "gitops")
                    ["capability"]["status"] == "ACTIVE")
    resources = cluster.kubectl("api-resources", "--api-group", "argoproj.io", "-o", "name").stdout.split()
    assert sorted(resources) == ["applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io"]
    assert cluster.kubectl("get", "namespace", "argocd", check=False).returncode == 0

    server.aws("eks", "create-capability", "--cluster-name", "caps", "--capability-name", "graphs", "--type", "KRO",
               "--role-arn", "arn:aws:iam::000000000000:role/kro", "--delete-propagation-policy", "RETAIN")
    assert wait_for(lambda: "resourcegraphdefinitions.kro.run" in cluster.kubectl("api-resources", "-o", "name").stdout)
    summaries = server.aws("eks", "list-capabilities", "--cluster-name", "caps")["capabilities"]
    assert [(c["capabilityName"], c["type"]) for c in summaries] == [("gitops", "ARGOCD"), ("graphs", "KRO")]

    failure(server.aws("eks", "create-capability", "--cluster-name", "caps", "--capability-name", "again", "--type", "KRO",
                       "--role-arn", "arn:aws:iam::000000000000:role/kro", "--delete-propagation-policy", "RETAIN", check=False),
            "ResourceLimitExceededException")
    failure(server.aws("eks", "create-capability", "--cluster-name", "caps", "--capability-name", "argo2", "--type", "ACK",
                       "--role-arn", "arn:aws:iam::000000000000:role/ack", "--delete-propagation-policy", "RETAIN",
                       "--configuration", json.dumps({"argoCd": {"awsIdc": {"idcInstanceArn": IDC}}}), check=False),
            "InvalidParameterException")

    update = server.aws("eks", "update-capability", "--cluster-name", "caps", "--capability-name", "gitops",
                        "--configuration", '{"argoCd":{"rbacRoleMappings":{"addOrUpdateRoleMappings":'
                                           '[{"role":"VIEWER","identities":[{"id":"g-1","type":"SSO_GROUP"}]}]}}}')["update"]
    assert wait_for(lambda: server.aws("eks", "describe-update", "--name", "caps", "--update-id", update["id"],
                                       "--capability-name", "gitops")["update"]["status"] == "Successful")
    mappings = server.aws("eks", "describe-capability", "--cluster-name", "caps", "--capability-name", "gitops")[
        "capability"]["configuration"]["argoCd"]["rbacRoleMappings"]
    assert sorted(m["role"] for m in mappings) == ["ADMIN", "VIEWER"]

    assert server.aws("eks", "delete-capability", "--cluster-name", "caps", "--capability-name", "graphs")["capability"]["status"] == "DELETING"
    assert wait_for(lambda: [c["capabilityName"] for c in server.aws("eks", "list-capabilities", "--cluster-name", "caps")["capabilities"]]
                    == ["gitops"])
    # RETAIN: the kinds stay.
    assert "resourcegraphdefinitions.kro.run" in cluster.kubectl("api-resources", "-o", "name").stdout

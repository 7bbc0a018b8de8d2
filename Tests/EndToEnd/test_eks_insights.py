"""EKS upgrade insights from what the cluster really saw: a client calling an API version the next minor removes
(kube-apiserver warns it, the audit log marks it, the insight names it and the client), add-ons the next minor
does not run, and a refresh that recomputes them."""


from conftest import module_server, wait_for
from kube import Cluster

FLOWSCHEMA = """apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata:
  name: batch-jobs
spec:
  priorityLevelConfiguration:
    name: workload-low
  matchingPrecedence: 9000
"""



server = module_server("insights", provisioning_delay=0.1)


def insight_named(server, cluster, name):
    insights = server.aws("eks", "list-insights", "--cluster-name", cluster)["insights"]
    summary = next(i for i in insights if i["name"] == name)
    return server.aws("eks", "describe-insight", "--cluster-name", cluster, "--id", summary["id"])["insight"]


def test_deprecated_api_calls_become_an_upgrade_insight(server, tmp_path_factory):
    cluster = Cluster(server, "old", tmp_path_factory.mktemp("old"), version="1.31")
    before = insight_named(server, "old", "Deprecated APIs removed in Kubernetes v1.32")
    assert before["insightStatus"]["status"] == "PASSING" and before["kubernetesVersion"] == "1.32"
    assert before["category"] == "UPGRADE_READINESS"

    created = cluster.kubectl("apply", "-f", "-", stdin=FLOWSCHEMA)
    assert "is deprecated in v1.29+, unavailable in v1.32+; use flowcontrol.apiserver.k8s.io/v1 FlowSchema" in created.stderr
    stored = cluster.json("get", "flowschemas.v1.flowcontrol.apiserver.k8s.io", "batch-jobs")
    assert stored["apiVersion"] == "flowcontrol.apiserver.k8s.io/v1" and stored["spec"]["matchingPrecedence"] == 9000

    assert server.aws("eks", "start-insights-refresh", "--cluster-name", "old")["status"] == "IN_PROGRESS"
    refresh = wait_for(lambda: (lambda r: r["status"] == "COMPLETED" and r)(
        server.aws("eks", "describe-insights-refresh", "--cluster-name", "old")))
    assert refresh and refresh["endedAt"] >= refresh["startedAt"]

    after = insight_named(server, "old", "Deprecated APIs removed in Kubernetes v1.32")
    assert after["id"] == before["id"]
    assert after["insightStatus"]["status"] == "ERROR"
    details = {d["usage"]: d for d in after["categorySpecificSummary"]["deprecationDetails"]}
    flowschemas = details["/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"]
    assert flowschemas["replacedWith"] == "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas"
    assert flowschemas["stopServingVersion"] == "1.32" and flowschemas["startServingReplacementVersion"] == "1.29"
    assert any(s["userAgent"].startswith("kubectl") and s["numberOfRequestsLast30Days"] >= 1 for s in flowschemas["clientStats"])
    assert details["/apis/flowcontrol.apiserver.k8s.io/v1beta3/prioritylevelconfigurations"]["clientStats"] == []

    errors = server.aws("eks", "list-insights", "--cluster-name", "old", "--filter", "statuses=ERROR")["insights"]
    assert [i["name"] for i in errors] == ["Deprecated APIs removed in Kubernetes v1.32"]


def test_addon_compatibility_and_removed_versions(server, tmp_path_factory):
    cluster = Cluster(server, "new", tmp_path_factory.mktemp("new"), version="1.32")
    # Removed in 1.32: not served at all.
    missing = cluster.kubectl("get", "flowschemas.v1beta3.flowcontrol.apiserver.k8s.io", check=False)
    assert missing.returncode != 0
    server.aws("eks", "create-addon", "--cluster-name", "new", "--addon-name", "kube-proxy", "--resolve-conflicts", "OVERWRITE")
    assert wait_for(lambda: server.aws("eks", "describe-addon", "--cluster-name", "new", "--addon-name", "kube-proxy")
                    ["addon"]["status"] in ("ACTIVE", "DEGRADED"))
    server.aws("eks", "start-insights-refresh", "--cluster-name", "new")
    assert wait_for(lambda: server.aws("eks", "describe-insights-refresh", "--cluster-name", "new")["status"] == "COMPLETED")
    compatibility = insight_named(server, "new", "Amazon EKS add-on version compatibility")
    assert compatibility["kubernetesVersion"] == "1.33" and compatibility["insightStatus"]["status"] == "ERROR"
    detail = compatibility["categorySpecificSummary"]["addonCompatibilityDetails"]
    assert detail == [{"name": "kube-proxy", "compatibleVersions": ["v1.33.3-eksbuild.10", "v1.33.0-eksbuild.2"]}]
    assert insight_named(server, "new", "Kubelet version skew")["insightStatus"]["status"] == "PASSING"
    missing = server.aws("eks", "describe-insight", "--cluster-name", "new", "--id", "00000000-0000-0000-0000-000000000000", check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr

"""/metrics in Prometheus' text format: on each cluster's API server (for those RBAC lets read it) with
kube-apiserver's families and labels, and on the regional endpoint per operation."""
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import active_cluster_kubeconfig, kubectl_with as kubectl, module_server


server = module_server("metrics", provisioning_delay=0)


def families(text):
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_the_api_server_and_the_regional_endpoint_expose_prometheus_metrics(server, tmp_path):
    kubeconfig, _ = active_cluster_kubeconfig(server, "measured", tmp_path)
    kubectl(server, kubeconfig, "create", "configmap", "one", "--from-literal=a=b")
    kubectl(server, kubeconfig, "get", "configmaps")
    kubectl(server, kubeconfig, "get", "configmap", "missing", check=False)

    scraped = families(kubectl(server, kubeconfig, "get", "--raw", "/metrics").stdout)
    requests = scraped["apiserver_request"]  # the parser names counters without `_total`
    samples = [s for s in requests.samples if s.name == "apiserver_request_total"]
    assert any(s.labels["verb"] == "POST" and s.labels["resource"] == "configmaps" and s.labels["code"] == "201"
               and s.labels["scope"] == "namespace" for s in samples)
    assert any(s.labels["verb"] == "LIST" and s.labels["resource"] == "configmaps" for s in samples)
    assert any(s.labels["verb"] == "GET" and s.labels["code"] == "404" and s.labels["scope"] == "resource" for s in samples)
    durations = scraped["apiserver_request_duration_seconds"]
    assert durations.type == "histogram" and any(s.labels.get("le") == "0.005" for s in durations.samples)
    assert "apiserver_current_inflight_requests" in scraped
    store = scraped["etcd_request_duration_seconds"]
    assert store.type == "histogram"
    assert any(s.labels.get("operation") == "create" and s.labels.get("type") == "configmaps" for s in store.samples)
    stored = {s.labels["resource"]: s.value for s in scraped["apiserver_storage_objects"].samples}
    assert stored.get("configmaps", 0) >= 1

    # A user RBAC does not let read /metrics gets 403.
    refused = kubectl(server, kubeconfig, "get", "--raw", "/metrics", "--as", "nobody", check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower()

    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        regional = families(response.read().decode())
    calls = [s for s in regional["skiff_aws_requests"].samples if s.name == "skiff_aws_requests_total"]
    assert any(s.labels == {"service": "eks", "operation": "CreateCluster", "code": "200"} for s in calls)
    assert regional["skiff_aws_request_duration_seconds"].type == "histogram"

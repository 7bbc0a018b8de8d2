"""Control-plane logs the EKS way: `logging.clusterLogging` ships each enabled type to the log group
`/aws/eks/NAME/cluster` in streams named as EKS names them; audit events are kube-apiserver's, with
Secrets at Metadata only; every cluster keeps its audit log on disk whatever it enables."""
import json
import time


from conftest import ROLE, active_cluster_kubeconfig, kubectl_with as kubectl, module_server


server = module_server("cplogs", provisioning_delay=0)


def events(server, cluster, stream_prefix, pattern=""):
    found = server.aws("logs", "filter-log-events", "--log-group-name", f"/aws/eks/{cluster}/cluster",
                       "--log-stream-name-prefix", stream_prefix, "--filter-pattern", pattern, check=False)
    return json.loads(found.stdout)["events"] if found.returncode == 0 else []


def eventually(fetch, timeout=15):
    deadline = time.time() + timeout
    while True:
        value = fetch()
        if value or time.time() > deadline:
            return value
        time.sleep(0.3)


def test_enabled_log_types_reach_cloudwatch_and_secrets_stay_out_of_the_audit(server, tmp_path):
    logging = json.dumps({"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]})
    kubeconfig, subnets = active_cluster_kubeconfig(server, "audited", tmp_path, "--logging", logging)
    kubectl(server, kubeconfig, "create", "secret", "generic", "db", "--from-literal=password=hunter2-very-secret")
    kubectl(server, kubeconfig, "get", "secret", "db", "-o", "json")
    kubectl(server, kubeconfig, "create", "configmap", "settings", "--from-literal=mode=fast")
    denied = kubectl(server, kubeconfig, "get", "pods", "--as", "nobody", check=False)
    assert denied.returncode != 0

    reads = eventually(lambda: events(server, "audited", "kube-apiserver-audit-",
                                      '{ $.objectRef.resource = "secrets" && $.verb = "get" }'))
    assert reads, "no audit event for the Secret read"
    audit = json.loads(reads[0]["message"])
    assert audit["kind"] == "Event" and audit["apiVersion"] == "audit.k8s.io/v1" and audit["stage"] == "ResponseComplete"
    assert audit["level"] == "Metadata" and "responseObject" not in audit and "requestObject" not in audit
    # The creator, on a CONFIG_MAP cluster, is the hidden kubernetes-admin; its IAM identity rides in `extra`.
    assert audit["user"]["username"] == "kubernetes-admin" and audit["user"]["extra"]["arn"] == ["arn:aws:iam::000000000000:root"]
    assert audit["objectRef"] == {"resource": "secrets", "namespace": "default", "name": "db", "apiVersion": "v1"}
    assert audit["responseStatus"]["code"] == 200 and audit["sourceIPs"] == ["127.0.0.1"]
    assert audit["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert audit["userAgent"].startswith("kubectl")
    forbidden = eventually(lambda: events(server, "audited", "kube-apiserver-audit-", '{ $.responseStatus.code = 403 }'))
    refusal = json.loads(forbidden[0]["message"])
    assert refusal["impersonatedUser"]["username"] == "nobody" and refusal["annotations"]["authorization.k8s.io/decision"] == "forbid"
    # Other writes carry their request and response.
    creates = eventually(lambda: events(server, "audited", "kube-apiserver-audit-", '{ $.verb = "create" && $.objectRef.resource = "namespaces" }')
                         or events(server, "audited", "kube-apiserver-audit-", '{ $.verb = "create" && $.objectRef.resource = "serviceaccounts" }'))
    assert creates and json.loads(creates[0]["message"])["level"] == "RequestResponse"
    assert "responseObject" in json.loads(creates[0]["message"])

    everything = json.dumps([e["message"] for e in events(server, "audited", "")])
    assert "hunter2-very-secret" not in everything and "aHVudGVyMi" not in everything
    assert eventually(lambda: events(server, "audited", "authenticator-", '"access granted"'))
    assert eventually(lambda: events(server, "audited", "kube-apiserver-", '"Serving securely"'))
    streams = {s["logStreamName"].rsplit("-", 1)[0] for s in
               server.aws("logs", "describe-log-streams", "--log-group-name", "/aws/eks/audited/cluster")["logStreams"]}
    assert streams == {"kube-apiserver", "kube-apiserver-audit", "authenticator"}

    # Turned on later, the scheduler's and controller manager's logs follow from then on.
    update = server.aws("eks", "update-cluster-config", "--name", "audited", "--logging",
                        json.dumps({"clusterLogging": [{"types": ["scheduler", "controllerManager"], "enabled": True}]}))["update"]
    server.aws("eks", "wait", "cluster-active", "--name", "audited")
    assert server.aws("eks", "describe-update", "--name", "audited", "--update-id", update["id"])["update"]["status"] == "Successful"
    server.aws("eks", "create-nodegroup", "--cluster-name", "audited", "--nodegroup-name", "ng", "--node-role", ROLE,
               "--subnets", *subnets, "--scaling-config", "minSize=1,maxSize=1,desiredSize=1")
    server.aws("eks", "wait", "nodegroup-active", "--cluster-name", "audited", "--nodegroup-name", "ng")
    kubectl(server, kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=2")
    # Both bindings, however the shipper's batches split them.
    def both_bound():
        found = events(server, "audited", "kube-scheduler-", '"Successfully bound pod to node" "default/web-"')
        return found if len(found) >= 2 else []
    bound = eventually(both_bound, timeout=30)
    assert len(bound) == 2 and bound[0]["message"].startswith("I") and 'pod="default/web-' in bound[0]["message"]
    scaled = eventually(lambda: events(server, "audited", "kube-controller-manager-", "\"Too few replicas\""))
    assert scaled and "replicaSet=\"default/web-" in scaled[0]["message"]


def test_every_cluster_keeps_its_audit_log_on_disk(server, tmp_path):
    kubeconfig, _ = active_cluster_kubeconfig(server, "quiet", tmp_path)
    kubectl(server, kubeconfig, "create", "secret", "generic", "token", "--from-literal=value=do-not-log-me-42")
    path = server.data_dir / "clusters" / "quiet" / "logs" / "kube-apiserver-audit.log"
    deadline = time.time() + 10
    while "secrets" not in (path.read_text() if path.exists() else "") and time.time() < deadline:
        time.sleep(0.2)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    created = [e for e in lines if e.get("objectRef", {}).get("resource") == "secrets" and e["verb"] == "create"]
    assert created and created[0]["level"] == "Metadata"
    assert "do-not-log-me-42" not in path.read_text()
    # Nothing was enabled, so nothing was shipped.
    assert server.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/eks/quiet/")["logGroups"] == []

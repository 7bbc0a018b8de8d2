"""Each cluster's API server, driven by the real kubectl (newest and oldest) and the official Python client."""
import base64
import itertools
import json
import subprocess
import time

import pytest

from conftest import Skiff, module_server
from kube import NEWEST_KUBECTL, OLDEST_KUBECTL, Cluster

KUBECTLS = [pytest.param(NEWEST_KUBECTL, id="kubectl-newest"), pytest.param(OLDEST_KUBECTL, id="kubectl-1.27")]

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: {name}}}
spec:
  containers:
  - name: main
    image: {image}
    ports: [{{containerPort: 80}}]
"""


server = module_server("kube", provisioning_delay=0.1)


@pytest.fixture(scope="module")
def cluster(server, tmp_path_factory):
    return Cluster(server, "kube", tmp_path_factory.mktemp("kubeconfig"))


NAMESPACES = itertools.count()


@pytest.fixture
def namespace(cluster, request):
    """A namespace of the test's own."""
    readable = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"t{next(NAMESPACES)}-{readable}"
    cluster.kubectl("create", "namespace", name)
    return name


def test_endpoint_serves_tls_with_the_cluster_ca(cluster):
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]
    assert version["gitVersion"].startswith("v1.34.1-eks-") and version["minor"] == "34"
    assert cluster.description["endpoint"].startswith("https://127.0.0.1:")
    namespaces = cluster.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert namespaces == ["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]
    service = cluster.json("get", "service", "kubernetes", "-n", "default")
    assert service["spec"]["clusterIP"] == "10.100.0.1"
    # Without credentials a request is anonymous, as on EKS: it may read the version and health, nothing else.
    def anonymous(path, *headers):
        result = subprocess.run(["curl", "-sk", *headers, cluster.description["endpoint"] + path], capture_output=True, text=True)
        return json.loads(result.stdout) if result.stdout.startswith("{") else result.stdout
    assert anonymous("/version")["minor"] == "34" and anonymous("/healthz") == "ok"
    listing = anonymous("/api/v1/namespaces")
    assert listing["code"] == 403 and listing["reason"] == "Forbidden"
    assert listing["message"] == 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope'
    assert anonymous("/api")["message"] == 'forbidden: User "system:anonymous" cannot get path "/api"'
    # Credentials that prove nothing are refused outright: 401.
    assert anonymous("/version", "-H", "Authorization: Bearer not-a-token")["code"] == 401


def test_http2_and_http11_both_authenticate_by_client_certificate(cluster, tmp_path):
    def credential(field):
        value = cluster.kubectl("config", "view", "--raw", "-o", f"jsonpath={{{field}}}").stdout
        path = tmp_path / field.split(".")[-1]
        path.write_bytes(base64.b64decode(value))
        return str(path)

    ca = credential(".clusters[0].cluster.certificate-authority-data")
    certificate = credential(".users[0].user.client-certificate-data")
    key = credential(".users[0].user.client-key-data")
    url = cluster.description["endpoint"] + "/api/v1/namespaces/default"
    for flag, version in [("--http2", "2"), ("--http1.1", "1.1")]:
        authenticated = subprocess.run(["curl", "-s", flag, "--cacert", ca, "--cert", certificate, "--key", key, "-o", "/dev/null",
                                        "-w", "%{http_version} %{http_code}", url], capture_output=True, text=True)
        assert authenticated.stdout == f"{version} 200"
        anonymous = subprocess.run(["curl", "-s", flag, "--cacert", ca, "-o", "/dev/null", "-w", "%{http_version} %{http_code}", url],
                                   capture_output=True, text=True)
        assert anonymous.stdout == f"{version} 403"
    # Health checks one by one, and the priority-and-fairness headers that tell clients not to throttle themselves.
    health = subprocess.run(["curl", "-s", "-D", "-", "--cacert", ca, "--cert", certificate, "--key", key,
                             cluster.description["endpoint"] + "/livez?verbose"], capture_output=True, text=True).stdout.lower()
    assert "x-kubernetes-pf-flowschema-uid:" in health and "x-kubernetes-pf-prioritylevel-uid:" in health
    assert "[+]ping ok" in health and health.rstrip().endswith("livez check passed")
    ping = subprocess.run(["curl", "-s", "--cacert", ca, "--cert", certificate, "--key", key, cluster.description["endpoint"] + "/livez/ping"],
                          capture_output=True, text=True)
    assert ping.stdout == "ok"


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_auth_can_i_and_impersonation(cluster, namespace, kubectl):
    run = lambda *args, **kw: cluster.kubectl(*args, binary=kubectl, **kw)
    assert run("auth", "can-i", "create", "deployments", "-n", namespace).stdout.strip() == "yes"
    denied = run("auth", "can-i", "get", "pods", "-n", namespace, "--as=jane", check=False)
    assert denied.stdout.strip() == "no" and denied.returncode == 1
    assert run("auth", "can-i", "get", "pods", "--as=jane", "--as-group=system:masters").stdout.strip() == "yes"
    forbidden = run("get", "pods", "-n", namespace, "--as=jane", check=False)
    assert (f'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" '
            f'in the namespace "{namespace}"') in forbidden.stderr
    rules = run("auth", "can-i", "--list", "--as=jane").stdout
    assert "selfsubjectaccessreviews.authorization.k8s.io" in rules and "*.*" not in rules
    assert "*.*" in run("auth", "can-i", "--list").stdout
    # A review asked for someone else, through the API.
    review = json.loads(run("create", "-f", "-", "-o", "json", stdin=json.dumps({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": "ops", "groups": ["system:masters"], "resourceAttributes": {"verb": "delete", "resource": "nodes"}}})).stdout)
    assert review["status"]["allowed"] is True


def test_whoami_names_the_user_and_groups(cluster):
    table = cluster.kubectl("auth", "whoami").stdout.split("\n")
    assert table[1].split() == ["Username", "kubernetes-admin"] and "system:masters" in table[2]
    impersonated = cluster.kubectl("auth", "whoami", "--as=system:serviceaccount:ci:builder", "-o", "json").stdout
    assert json.loads(impersonated)["status"]["userInfo"] == {
        "username": "system:serviceaccount:ci:builder",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]}


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_discovery_and_explain(cluster, kubectl):
    resources = cluster.kubectl("api-resources", binary=kubectl).stdout
    for line in ["pods", "po", "deployments", "deploy", "customresourcedefinitions"]:
        assert line in resources
    versions = cluster.kubectl("api-versions", binary=kubectl).stdout.split()
    for group_version in ["v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1", "policy/v1"]:
        assert group_version in versions
    explained = cluster.kubectl("explain", "deployment.spec.replicas", binary=kubectl).stdout
    assert "replicas" in explained and "integer" in explained
    for path in ["/healthz", "/livez", "/readyz"]:
        assert cluster.kubectl("get", "--raw", path, binary=kubectl).stdout == "ok"


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_create_apply_get_and_change(cluster, namespace, kubectl):
    run = lambda *args, **kw: cluster.kubectl(*args, binary=kubectl, **kw)
    # Typed creates send protobuf; apply sends JSON and strategic merge patches.
    run("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "-n", namespace)
    run("create", "configmap", "settings", "--from-literal=mode=fast", "-n", namespace)
    run("create", "secret", "generic", "creds", "--from-literal=password=hunter2", "-n", namespace)
    run("apply", "-f", "-", stdin=POD.format(name="p1", namespace=namespace, image="busybox:1.36"))
    assert run("apply", "-f", "-", stdin=POD.format(name="p1", namespace=namespace, image="busybox:1.37")).stdout.strip() == "pod/p1 configured"

    pod = cluster.json("get", "pod", "p1", "-n", namespace, binary=kubectl)
    assert pod["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert pod["spec"]["containers"][0]["terminationMessagePath"] == "/dev/termination-log"
    assert pod["spec"]["restartPolicy"] == "Always" and pod["spec"]["dnsPolicy"] == "ClusterFirst"
    assert pod["status"]["phase"] == "Pending"
    assert "kubectl.kubernetes.io/last-applied-configuration" in pod["metadata"]["annotations"]

    deployment = cluster.json("get", "deployment", "web", "-n", namespace, binary=kubectl)
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert deployment["spec"]["revisionHistoryLimit"] == 10 and deployment["spec"]["progressDeadlineSeconds"] == 600
    assert deployment["metadata"]["generation"] == 1
    secret = cluster.json("get", "secret", "creds", "-n", namespace, binary=kubectl)
    assert base64.b64decode(secret["data"]["password"]) == b"hunter2" and secret["type"] == "Opaque"

    wide = run("get", "pods", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]
    assert wide[1].split()[:4] == ["p1", "0/1", "Pending", "0"]
    header = run("get", "deployments", "-n", namespace).stdout.splitlines()[0].split()
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert run("get", "pod", "p1", "-n", namespace, "-o", "jsonpath={.metadata.labels.app}").stdout == "p1"
    assert "name: p1" in run("get", "pod", "p1", "-n", namespace, "-o", "yaml").stdout

    run("label", "pod", "p1", "tier=web", "-n", namespace)
    run("annotate", "pod", "p1", "owner=me", "-n", namespace)
    run("scale", "deployment", "web", "--replicas=5", "-n", namespace)
    labelled = run("get", "pods", "-n", namespace, "-l", "tier=web", "-o", "name").stdout.split()
    assert labelled == ["pod/p1"]
    assert run("get", "pods", "-n", namespace, "-l", "tier in (db)", "-o", "name").stdout.split() == []
    assert run("get", "pods", "-n", namespace, "-l", "tier in (web, db)", "-o", "name").stdout.split() == ["pod/p1"]
    deployment = cluster.json("get", "deployment", "web", "-n", namespace, binary=kubectl)
    assert deployment["spec"]["replicas"] == 5 and deployment["metadata"]["generation"] == 2
    assert "owner" in cluster.json("get", "pod", "p1", "-n", namespace, binary=kubectl)["metadata"]["annotations"]
    assert "Replicas:" in run("describe", "deployment", "web", "-n", namespace).stdout

    changed = POD.format(name="p1", namespace=namespace, image="busybox:1.38")
    assert run("diff", "-f", "-", stdin=changed, check=False).returncode == 1
    assert run("diff", "-f", "-", stdin=POD.format(name="p1", namespace=namespace, image="busybox:1.37"), check=False).returncode == 0

    run("delete", "deployment", "web", "-n", namespace, "--cascade=background")
    run("delete", "pod", "p1", "-n", namespace)
    assert run("get", "pod", "p1", "-n", namespace, check=False).returncode != 0


def test_errors_come_back_as_kubectl_prints_them(cluster, namespace):
    missing = cluster.kubectl("get", "pod", "nope", "-n", namespace, check=False)
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    cluster.kubectl("create", "configmap", "dup", "-n", namespace)
    again = cluster.kubectl("create", "-f", "-", check=False,
                            stdin=f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: dup, namespace: {namespace}}}\n")
    assert 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "dup" already exists' in again.stderr
    invalid = cluster.kubectl("create", "configmap", "Bad_Name", "-n", namespace, check=False)
    assert 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in invalid.stderr
    unknown = cluster.kubectl("apply", "-f", "-", check=False, stdin=f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: strict, namespace: {namespace}}}
dta: {{a: b}}
""")
    assert 'strict decoding error: unknown field "dta"' in unknown.stderr
    stale = cluster.json("get", "configmap", "dup", "-n", namespace)
    cluster.kubectl("label", "configmap", "dup", "x=1", "-n", namespace)
    stale["data"] = {"k": "v"}
    conflict = cluster.kubectl("replace", "-f", "-", stdin=json.dumps(stale), check=False)
    assert "Error from server (Conflict)" in conflict.stderr and "the object has been modified" in conflict.stderr
    nowhere = cluster.kubectl("create", "configmap", "x", "-n", "no-such-namespace", check=False)
    assert 'namespaces "no-such-namespace" not found' in nowhere.stderr
    # A request body over 3 MiB, and an object over etcd's 1.5 MiB in a smaller body: both too large.
    for name, size in [("huge", 4 << 20), ("big", 2 << 20)]:
        oversized = cluster.kubectl("create", "-f", "-", check=False, stdin=json.dumps(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": {"a": "x" * size}}))
        assert "Error from server (RequestEntityTooLarge)" in oversized.stderr, oversized.stderr
        assert cluster.kubectl("get", "configmap", name, "-n", namespace, check=False).returncode != 0


def test_compacted_revisions_are_gone(tmp_path):
    skiff = Skiff(tmp_path / "data", provisioning_delay=0.1, extra_args=["--history-retention", "1"]).start()
    try:
        cluster = Cluster(skiff, "compacting", tmp_path)
        old = cluster.json("create", "configmap", "c0", "--from-literal=a=0")["metadata"]["resourceVersion"]
        for index in range(1, 5):
            cluster.kubectl("create", "configmap", f"c{index}")
        first_page = json.loads(cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/configmaps?limit=2").stdout)
        token = first_page["metadata"]["continue"]
        time.sleep(3)
        cluster.kubectl("create", "configmap", "after")
        time.sleep(1)
        watch = cluster.kubectl("get", "--raw", f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={old}", timeout=20)
        event = json.loads(watch.stdout.splitlines()[0])
        assert event["type"] == "ERROR"
        assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
        assert event["object"]["message"].startswith(f"too old resource version: {old} (")
        expired = cluster.kubectl("get", "--raw", f"/api/v1/namespaces/default/configmaps?limit=2&continue={token}", check=False)
        assert "Error from server (Expired)" in expired.stderr, expired.stderr
        # Current objects are all there.
        names = cluster.kubectl("get", "configmaps", "-o", "name").stdout.split()
        assert {f"configmap/c{index}" for index in range(5)} | {"configmap/after"} <= set(names)
    finally:
        skiff.stop()


def test_watch_sees_changes_in_order(cluster, namespace):
    watcher = subprocess.Popen([NEWEST_KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "get", "configmaps", "-n", namespace,
                                "--watch", "-o", "json", "--output-watch-events"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        cluster.kubectl("create", "configmap", "w1", "--from-literal=a=1", "-n", namespace)
        cluster.kubectl("label", "configmap", "w1", "step=2", "-n", namespace)
        cluster.kubectl("delete", "configmap", "w1", "-n", namespace)
        time.sleep(1)
    finally:
        watcher.terminate()
    output = watcher.communicate(timeout=10)[0]
    decoder, events, position = json.JSONDecoder(), [], 0
    while position < len(output):
        if output[position].isspace():
            position += 1
            continue
        event, position = decoder.raw_decode(output, position)
        events.append((event["type"], event["object"]["metadata"]["name"]))
    assert [e for e in events if e[1] == "w1"] == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_services_get_cluster_ips_and_node_ports(cluster, namespace):
    cluster.kubectl("create", "service", "clusterip", "front", "--tcp=80:8080", "-n", namespace)
    cluster.kubectl("create", "service", "nodeport", "edge", "--tcp=80:8080", "-n", namespace)
    front = cluster.json("get", "service", "front", "-n", namespace)
    assert front["spec"]["clusterIP"].startswith("10.100.") and front["spec"]["clusterIPs"] == [front["spec"]["clusterIP"]]
    assert front["spec"]["sessionAffinity"] == "None" and front["spec"]["ipFamilies"] == ["IPv4"]
    edge = cluster.json("get", "service", "edge", "-n", namespace)
    assert 30000 <= edge["spec"]["ports"][0]["nodePort"] <= 32767
    taken = cluster.kubectl("create", "service", "clusterip", "again", "--tcp=80", f"--clusterip={front['spec']['clusterIP']}",
                            "-n", namespace, check=False)
    assert "provided IP is already allocated" in taken.stderr


def test_namespace_deletion_takes_its_contents(cluster):
    cluster.kubectl("create", "namespace", "doomed")
    cluster.kubectl("create", "configmap", "c", "-n", "doomed")
    cluster.kubectl("delete", "namespace", "doomed")
    assert cluster.kubectl("get", "namespace", "doomed", check=False).returncode != 0
    cluster.kubectl("create", "namespace", "doomed")
    # Only what every namespace gets: the cluster CA's ConfigMap.
    assert "configmap/c" not in cluster.kubectl("get", "configmaps", "-n", "doomed", "-o", "name").stdout.split()
    forbidden = cluster.kubectl("delete", "namespace", "default", check=False)
    assert "Forbidden" in forbidden.stderr


def test_python_client(cluster, namespace):
    kubernetes = pytest.importorskip("kubernetes")
    client = kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig))
    core = kubernetes.client.CoreV1Api(client)
    apps = kubernetes.client.AppsV1Api(client)
    names = [n.metadata.name for n in core.list_namespace().items]
    assert "kube-system" in names and namespace in names
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "py"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("py", namespace, {"data": {"b": "2"}})
    assert core.read_namespaced_config_map("py", namespace).data == {"a": "1", "b": "2"}
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "api"},
        "spec": {"selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    assert apps.read_namespaced_deployment("api", namespace).spec.replicas == 1
    with pytest.raises(kubernetes.client.ApiException) as error:
        core.read_namespaced_config_map("missing", namespace)
    assert error.value.status == 404 and json.loads(error.value.body)["reason"] == "NotFound"
    watch = kubernetes.watch.Watch()
    events = []
    for event in watch.stream(core.list_namespaced_config_map, namespace, timeout_seconds=2):
        events.append((event["type"], event["object"].metadata.name))
    assert ("ADDED", "py") in events
    core.delete_namespaced_config_map("py", namespace)
    listed = core.list_namespaced_config_map(namespace, limit=1)
    assert listed.metadata._continue is None or listed.items


def test_list_pages_with_continue(cluster, namespace):
    for index in range(7):
        cluster.kubectl("create", "configmap", f"page-{index}", "-n", namespace)
    page = json.loads(cluster.kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/configmaps?limit=3").stdout)
    names = [item["metadata"]["name"] for item in page["items"]]
    while page["metadata"].get("continue"):
        page = json.loads(cluster.kubectl("get", "--raw",
                                          f"/api/v1/namespaces/{namespace}/configmaps?limit=3&continue={page['metadata']['continue']}").stdout)
        names += [item["metadata"]["name"] for item in page["items"]]
    # Every namespace also holds the cluster CA's kube-root-ca.crt.
    assert [name for name in names if name != "kube-root-ca.crt"] == [f"page-{index}" for index in range(7)]
    listed = cluster.kubectl("get", "configmaps", "-n", namespace, "--chunk-size=2", "-o", "name").stdout.split()
    assert len([name for name in listed if name != "configmap/kube-root-ca.crt"]) == 7


def test_objects_survive_restart_and_cluster_deletion_removes_them(tmp_path):
    skiff = Skiff(tmp_path / "data", provisioning_delay=0.1).start()
    try:
        cluster = Cluster(skiff, "durable", tmp_path)
        cluster.kubectl("create", "configmap", "kept", "--from-literal=a=1")
        skiff.kill()
        skiff.start()
        fast = skiff.client("eks").describe_cluster(name="durable")["cluster"]
        assert fast["status"] == "ACTIVE"
        assert cluster.json("get", "configmap", "kept")["data"] == {"a": "1"}
        skiff.client("eks").delete_cluster(name="durable")
        from conftest import fast_waiter
        fast_waiter(skiff.client("eks"), "cluster_deleted", name="durable")
        assert not (tmp_path / "data" / "clusters" / "durable").exists()
        assert cluster.kubectl("get", "configmaps", check=False, timeout=20).returncode != 0
    finally:
        skiff.stop()


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {{plural: {plural}, singular: {singular}, kind: {kind}, shortNames: [{short}]}}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {{status: {{}}}}
    additionalPrinterColumns:
    - {{name: Size, type: integer, jsonPath: .spec.size}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {{type: integer, minimum: 1}}
              color: {{type: string, enum: [red, blue], default: red}}
          status:
            type: object
            properties:
              ready: {{type: boolean}}
"""


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_custom_resources_are_served_once_defined(cluster, namespace, kubectl):
    kind = "Gadget" if kubectl == NEWEST_KUBECTL else "Gizmo"
    plural, short = kind.lower() + "s", kind.lower()[:3]
    run = lambda *args, **kw: cluster.kubectl(*args, binary=kubectl, **kw)
    run("apply", "-f", "-", stdin=CRD.format(plural=plural, singular=kind.lower(), kind=kind, short=short))
    crd = cluster.json("get", "crd", f"{plural}.example.com")
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]} == {"NamesAccepted": "True", "Established": "True"}
    manifest = f"apiVersion: example.com/v1\nkind: {kind}\nmetadata: {{name: one, namespace: {namespace}}}\nspec: {{size: 3}}\n"
    run("apply", "-f", "-", stdin=manifest)
    table = run("get", short, "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "AGE"] and table[1].split()[:2] == ["one", "3"]
    assert cluster.json("get", plural, "one", "-n", namespace)["spec"] == {"size": 3, "color": "red"}
    invalid = run("apply", "-f", "-", check=False,
                  stdin=f"apiVersion: example.com/v1\nkind: {kind}\nmetadata: {{name: two, namespace: {namespace}}}\nspec: {{size: 0, color: green}}\n")
    assert "spec.size" in invalid.stderr and "greater than or equal to 1" in invalid.stderr and '"green"' in invalid.stderr
    unknown = run("apply", "-f", "-", check=False,
                  stdin=f"apiVersion: example.com/v1\nkind: {kind}\nmetadata: {{name: three, namespace: {namespace}}}\nspec: {{size: 1, shape: round}}\n")
    assert 'unknown field "spec.shape"' in unknown.stderr
    assert "size" in run("explain", f"{plural}.spec").stdout
    run("patch", plural, "one", "-n", namespace, "--type=merge", "-p", '{"spec":{"size":5}}')
    assert cluster.json("get", plural, "one", "-n", namespace)["spec"]["size"] == 5
    run("delete", "crd", f"{plural}.example.com")
    assert run("get", plural, "-n", namespace, check=False).returncode != 0


def test_every_served_version_of_a_custom_resource_shows_the_same_objects(cluster, namespace):
    schema = ("schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}, "
              "status: {type: object, properties: {count: {type: integer}, selector: {type: string}}}}}}")
    cluster.kubectl("apply", "-f", "-", stdin=f"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: widgets.example.com}}
spec:
  group: example.com
  scope: Namespaced
  names: {{plural: widgets, singular: widget, kind: Widget}}
  versions:
  - {{name: v1beta1, served: true, storage: false, {schema}}}
  - name: v1
    served: true
    storage: true
    {schema}
    subresources:
      status: {{}}
      scale: {{specReplicasPath: .spec.size, statusReplicasPath: .status.count, labelSelectorPath: .status.selector}}
""")
    cluster.kubectl("apply", "-f", "-", stdin=f"apiVersion: example.com/v1beta1\nkind: Widget\nmetadata: {{name: w, namespace: {namespace}}}\nspec: {{size: 2}}\n")
    for version in ["v1", "v1beta1"]:
        one = cluster.json("get", f"widgets.{version}.example.com", "w", "-n", namespace)
        assert one["apiVersion"] == f"example.com/{version}" and one["spec"] == {"size": 2}
        listed = json.loads(cluster.kubectl("get", "--raw", f"/apis/example.com/{version}/namespaces/{namespace}/widgets").stdout)
        assert [item["apiVersion"] for item in listed["items"]] == [f"example.com/{version}"]
    patched = json.loads(cluster.kubectl("patch", "widgets.v1.example.com", "w", "-n", namespace, "--type=merge",
                                         "-p", '{"spec":{"size":3}}', "-o", "json").stdout)
    assert patched["apiVersion"] == "example.com/v1" and patched["spec"]["size"] == 3
    assert cluster.json("get", "widgets.v1beta1.example.com", "w", "-n", namespace)["spec"]["size"] == 3
    # The scale subresource reads and writes where the definition says.
    cluster.kubectl("scale", "widgets.v1.example.com", "w", "-n", namespace, "--replicas=7")
    assert cluster.json("get", "widgets.v1.example.com", "w", "-n", namespace)["spec"]["size"] == 7
    cluster.kubectl("patch", "widgets.v1.example.com", "w", "-n", namespace, "--subresource=status", "--type=merge",
                    "-p", '{"status":{"count":4,"selector":"app=w"}}')
    scale = json.loads(cluster.kubectl("get", "--raw", f"/apis/example.com/v1/namespaces/{namespace}/widgets/w/scale").stdout)
    assert scale["spec"]["replicas"] == 7 and scale["status"] == {"replicas": 4, "selector": "app=w"}
    cluster.kubectl("delete", "crd", "widgets.example.com")


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_server_side_apply(cluster, namespace, kubectl):
    run = lambda *args, **kw: cluster.kubectl(*args, binary=kubectl, **kw)
    manifest = lambda replicas, containers: f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ssa, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: ssa}}}}
  template:
    metadata: {{labels: {{app: ssa}}}}
    spec:
      containers: [{", ".join(f"{{name: {c}, image: {c}:1}}" for c in containers)}]
"""
    assert "serverside-applied" in run("apply", "--server-side", "-f", "-", stdin=manifest(2, ["web", "sidecar"])).stdout
    run("scale", "deployment", "ssa", "--replicas=4", "-n", namespace)
    scaled = cluster.json("get", "deployment", "ssa", "-n", namespace, "--show-managed-fields")
    scalers = [m for m in scaled["metadata"]["managedFields"] if m.get("subresource") == "scale"]
    assert len(scalers) == 1 and scalers[0]["operation"] == "Update"
    assert scalers[0]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    conflict = run("apply", "--server-side", "-f", "-", stdin=manifest(2, ["web", "sidecar"]), check=False)
    assert "Apply failed with 1 conflict" in conflict.stderr and ".spec.replicas" in conflict.stderr
    assert f'with subresource "scale" using apps/v1: .spec.replicas' in conflict.stderr
    run("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=manifest(2, ["web"]))
    deployment = cluster.json("get", "deployment", "ssa", "-n", namespace)
    assert deployment["spec"]["replicas"] == 2
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] == ["web"]
    shown = cluster.json("get", "deployment", "ssa", "-n", namespace, "--show-managed-fields")
    managers = {(m["manager"], m["operation"]) for m in shown["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers


def test_binding_and_eviction_with_a_disruption_budget(cluster, namespace):
    node = f"node-{namespace}"
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}))
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": namespace, "labels": {"app": "db"}},
        "spec": {"containers": [{"name": "c", "image": "redis"}]}}))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "db"}, "target": {"kind": "Node", "name": node}}
    cluster.kubectl("create", "--raw", f"/api/v1/namespaces/{namespace}/pods/db/binding", "-f", "-", stdin=json.dumps(binding))
    pod = cluster.json("get", "pod", "db", "-n", namespace)
    assert pod["spec"]["nodeName"] == node
    assert {"type": "PodScheduled", "status": "True"}.items() <= pod["status"]["conditions"][0].items()
    again = cluster.kubectl("create", "--raw", f"/api/v1/namespaces/{namespace}/pods/db/binding", "-f", "-",
                            stdin=json.dumps(binding), check=False)
    assert "already assigned" in again.stderr

    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    cluster.kubectl("replace", "--subresource=status", "-f", "-", stdin=json.dumps(pod))
    cluster.kubectl("create", "poddisruptionbudget", "db", "--selector=app=db", "--min-available=1", "-n", namespace)
    blocked = cluster.kubectl("drain", node, "--force", "--timeout=3s", check=False, timeout=30)
    assert blocked.returncode != 0
    assert cluster.json("get", "pod", "db", "-n", namespace)["metadata"]["name"] == "db"
    assert cluster.json("get", "node", node)["spec"]["unschedulable"] is True
    cluster.kubectl("delete", "poddisruptionbudget", "db", "-n", namespace)
    cluster.kubectl("drain", node, "--force", "--timeout=10s", timeout=30)
    assert cluster.kubectl("get", "pod", "db", "-n", namespace, check=False).returncode != 0


def test_limit_ranges_and_resource_quotas(cluster, namespace):
    cluster.kubectl("create", "quota", "small", "--hard=pods=2,requests.cpu=1,count/secrets=1", "-n", namespace)
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": namespace},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "400m", "memory": "256Mi"},
                             "defaultRequest": {"cpu": "300m", "memory": "128Mi"}, "max": {"cpu": "2"}}]}}))
    cluster.kubectl("run", "one", "--image=nginx", "-n", namespace)
    resources = cluster.json("get", "pod", "one", "-n", namespace)["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"cpu": "400m", "memory": "256Mi"}, "requests": {"cpu": "300m", "memory": "128Mi"}}
    overrides = json.dumps({"spec": {"containers": [{"name": "big", "image": "nginx", "resources": {"limits": {"cpu": "3"}}}]}})
    too_big = cluster.kubectl("run", "big", "--image=nginx", f"--overrides={overrides}", "-n", namespace, check=False)
    assert "maximum cpu usage per Container is 2, but limit is 3" in too_big.stderr
    cluster.kubectl("run", "two", "--image=nginx", "-n", namespace)
    third = cluster.kubectl("run", "three", "--image=nginx", "-n", namespace, check=False)
    assert "exceeded quota: small, requested: pods=1, used: pods=2, limited: pods=2" in third.stderr
    cluster.kubectl("create", "secret", "generic", "first", "-n", namespace)
    second = cluster.kubectl("create", "secret", "generic", "second", "-n", namespace, check=False)
    assert "exceeded quota: small" in second.stderr and "count/secrets=1" in second.stderr
    status = cluster.json("get", "resourcequota", "small", "-n", namespace)["status"]
    assert status["hard"] == {"pods": "2", "requests.cpu": "1", "count/secrets": "1"}
    assert status["used"] == {"pods": "2", "requests.cpu": "600m", "count/secrets": "1"}
    assert "count/secrets: 1/1" in cluster.kubectl("get", "resourcequota", "-n", namespace).stdout


def test_wait_and_cascading_deletion(cluster, namespace):
    cluster.kubectl("create", "deployment", "owner", "--image=nginx", "-n", namespace)
    owner = cluster.json("get", "deployment", "owner", "-n", namespace)
    reference = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "owner", "uid": owner["metadata"]["uid"]}
    for name in ["kept", "gone"]:
        cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, "ownerReferences": [reference]}}))
    assert cluster.kubectl("wait", "--for=jsonpath={.spec.replicas}=1", "deployment/owner", "-n", namespace,
                           "--timeout=5s").returncode == 0
    # Orphan keeps the dependents and drops their reference to the owner.
    cluster.kubectl("patch", "configmap", "gone", "-n", namespace, "--type=json", "-p", '[{"op":"remove","path":"/metadata/ownerReferences"}]')
    cluster.kubectl("delete", "deployment", "owner", "-n", namespace, "--cascade=orphan")
    assert "ownerReferences" not in cluster.json("get", "configmap", "kept", "-n", namespace)["metadata"]

    cluster.kubectl("create", "deployment", "parent", "--image=nginx", "-n", namespace)
    parent = cluster.json("get", "deployment", "parent", "-n", namespace)
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "child", "namespace": namespace,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "parent", "uid": parent["metadata"]["uid"]}]}}))
    waiter = subprocess.Popen([NEWEST_KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "wait", "--for=delete", "configmap/child",
                               "-n", namespace, "--timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cluster.kubectl("delete", "deployment", "parent", "-n", namespace, "--cascade=foreground", timeout=20)
    assert waiter.wait(timeout=30) == 0
    assert cluster.kubectl("get", "configmap", "child", "-n", namespace, check=False).returncode != 0

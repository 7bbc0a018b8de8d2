"""Three Skiff replicas on one 3-member etcd cluster behind HAProxy (TCP), as EKS puts API servers behind a load
balancer: under a stream of kubectl and AWS CLI writes, `kill -9` the replica that holds the leases, then an etcd
member. Every acknowledged write is there afterwards, kubectl through the load balancer keeps working, a rollout
in progress finishes, and the leases move."""
import json
import os
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import NODE_ROLE, ROLE, Skiff, free_port

LB = "127.0.0.10"
REPLICAS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]


class EtcdCluster:
    """Three etcd members on loopback, each in its own temporary data dir."""

    def __init__(self, directory, size=3):
        self.members = [(f"m{i}", free_port(), free_port()) for i in range(size)]
        initial = ",".join(f"{name}=http://127.0.0.1:{peer}" for name, _, peer in self.members)
        self.processes = []
        for name, client, peer in self.members:
            log = open(directory / f"etcd-{name}.log", "ab")
            self.processes.append(subprocess.Popen(
                ["etcd", "--name", name, "--data-dir", str(directory / f"etcd-{name}"),
                 "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
                 "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                 "--initial-cluster", initial, "--initial-cluster-state", "new"], stdout=log, stderr=log))
        deadline = time.time() + 30
        for _, client, _ in self.members:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{client}/health", timeout=1) as response:
                        if b'"true"' in response.read():
                            break
                except OSError:
                    pass
                if time.time() > deadline:
                    raise RuntimeError("etcd did not become healthy")
                time.sleep(0.1)

    @property
    def store(self):
        return "etcd://" + ",".join(f"127.0.0.1:{client}" for _, client, _ in self.members)

    def get(self, key):
        """A key's value, read from the first member (the test kills the last)."""
        client = self.members[0][1]
        result = subprocess.run(["etcdctl", "--endpoints", f"127.0.0.1:{client}", "get", "--print-value-only", key],
                                env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=20)
        return result.stdout.strip() or None

    def kill(self, index):
        self.processes[index].kill()
        self.processes[index].wait(timeout=10)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


class HAProxy:
    """HAProxy in TCP mode on the load balancer's address: each port to the same port of every replica."""

    def __init__(self, directory):
        self.directory = directory
        self.process = None
        self.ports = []

    def serve(self, ports):
        self.ports = ports
        lines = ["global", "  maxconn 2000", "defaults", "  mode tcp", "  timeout connect 1s", "  timeout client 60s",
                 "  timeout server 60s", "  retries 3", "  option redispatch"]
        for port in ports:
            lines += [f"listen p{port}", f"  bind {LB}:{port}", "  balance roundrobin"]
            lines += [f"  server r{i} {host}:{port} check inter 500 fall 2 rise 1" for i, host in enumerate(REPLICAS)]
        config = self.directory / "haproxy.cfg"
        config.write_text("\n".join(lines) + "\n")
        self.stop()
        self.log = open(self.directory / "haproxy.log", "ab")
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=self.log, stderr=self.log)
        time.sleep(0.5)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Replica(Skiff):
    def __init__(self, data_dir, host, port, store):
        super().__init__(data_dir, extra_args=["--host", host, "--store", store, "--advertise-address", LB])
        self.host, self.port = host, port

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"


@pytest.fixture
def region(tmp_path):
    etcd = EtcdCluster(tmp_path)
    port = free_port()
    replicas = [Replica(tmp_path / f"replica-{i}", host, port, etcd.store) for i, host in enumerate(REPLICAS)]
    for replica in replicas:
        replica.start()
    haproxy = HAProxy(tmp_path)
    haproxy.serve([port])
    yield etcd, replicas, haproxy, port
    haproxy.stop()
    for replica in replicas:
        if replica.process and replica.process.poll() is None:
            replica.stop()
    etcd.stop()


def lb_env(port):
    """The default key's environment, with the AWS endpoint at the load balancer."""
    env = dict(os.environ)
    env.update(AWS_ENDPOINT_URL=f"http://{LB}:{port}", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def aws(port, *args, check=True):
    """The real `aws` CLI through the load balancer: its JSON output (or its text, or None); None on failure unless `check`."""
    result = subprocess.run(["aws", *args, "--output", "json"], env=lb_env(port), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        if check:
            raise AssertionError(f"aws {' '.join(args)} failed: {result.stderr}")
        return None
    try:
        return json.loads(result.stdout) if result.stdout.strip() else {}
    except json.JSONDecodeError:
        return result.stdout


def kubectl(port, kubeconfig, *args, check=True):
    result = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--request-timeout", "10s", *args], env=lb_env(port),
                            capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result


def lease_holder(port, kubeconfig, name):
    result = kubectl(port, kubeconfig, "get", "lease", "-n", "kube-system", name, "-o", "jsonpath={.spec.holderIdentity}", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def test_killing_the_leader_replica_and_an_etcd_member_loses_no_acknowledged_write(tmp_path, region):
    etcd, replicas, haproxy, port = region
    subnets = [s["SubnetId"] for s in aws(port, "ec2", "describe-subnets")["Subnets"][:2]]
    aws(port, "eks", "create-cluster", "--name", "ha", "--role-arn", ROLE, "--resources-vpc-config", f"subnetIds={','.join(subnets)}")
    aws(port, "eks", "wait", "cluster-active", "--name", "ha")
    endpoint = aws(port, "eks", "describe-cluster", "--name", "ha")["cluster"]["endpoint"]
    assert endpoint.startswith(f"https://{LB}:")
    cluster_port = int(endpoint.rsplit(":", 1)[1])
    haproxy.serve([port, cluster_port])
    kubeconfig = tmp_path / "ha.kubeconfig"
    aws(port, "eks", "update-kubeconfig", "--name", "ha", "--kubeconfig", str(kubeconfig))
    aws(port, "eks", "create-nodegroup", "--cluster-name", "ha", "--nodegroup-name", "ng", "--node-role", NODE_ROLE,
        "--subnets", *subnets, "--scaling-config", "minSize=2,maxSize=2,desiredSize=2")
    aws(port, "eks", "wait", "nodegroup-active", "--cluster-name", "ha", "--nodegroup-name", "ng")
    # Every replica serves the cluster's API.
    deadline = time.time() + 20
    while kubectl(port, kubeconfig, "get", "nodes", check=False).stdout.count(" Ready ") < 2 and time.time() < deadline:
        time.sleep(0.5)
    kubectl(port, kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=4")
    # KMS on one replica, the same key on the others: they share the root key that seals the key material.
    key = replicas[0].client("kms").create_key()["KeyMetadata"]["KeyId"]
    blob = replicas[1].client("kms").encrypt(KeyId=key, Plaintext=b"shared")["CiphertextBlob"]
    assert replicas[2].client("kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"shared"

    acknowledged = {"configmaps": [], "tags": []}
    stop = threading.Event()

    def write_configmaps():
        index = 0
        while not stop.is_set():
            name = f"cm-{index}"
            if kubectl(port, kubeconfig, "create", "configmap", name, check=False).returncode == 0:
                acknowledged["configmaps"].append(name)
            index += 1

    def write_tags():
        index = 0
        arn = aws(port, "eks", "describe-cluster", "--name", "ha")["cluster"]["arn"]
        while not stop.is_set():
            if aws(port, "eks", "tag-resource", "--resource-arn", arn, "--tags", f"t{index}=v", check=False) is not None:
                acknowledged["tags"].append(f"t{index}")
            index += 1

    writers = [threading.Thread(target=write_configmaps), threading.Thread(target=write_tags)]
    for writer in writers:
        writer.start()
    try:
        time.sleep(3)
        # The cluster's Leases (coordination.k8s.io) and the region's etcd elections.
        leases = ["kube-controller-manager", "kube-scheduler", "skiff-node-agents"]
        before = {name: lease_holder(port, kubeconfig, name) for name in leases}
        assert etcd.get("/skiff/us-east-1/leaders/eks-provisioner") and etcd.get("/skiff/leaders/compactor")
        leader = next(r for r in replicas if (before["kube-controller-manager"] or "").endswith("_" + r.host))
        leader.kill()
        # A rollout goes on across the failover: a new template while the leader is gone.
        kubectl(port, kubeconfig, "set", "image", "deployment/web", "nginx=nginx:1.27")
        time.sleep(2)
        etcd.kill(2)
        # Within 15 s of the kill (and a margin for this busy machine) every lease is held by a live replica.
        alive = [r.host for r in replicas if r is not leader]
        deadline = time.time() + 30
        regional = ["/skiff/us-east-1/leaders/eks-provisioner", "/skiff/leaders/compactor"]
        while time.time() < deadline:
            after = {name: lease_holder(port, kubeconfig, name) for name in leases}
            after.update({key: etcd.get(key) for key in regional})
            if all(holder and any(holder.endswith("_" + host) for host in alive) for holder in after.values()):
                break
            time.sleep(0.5)
        assert all(holder and any(holder.endswith("_" + host) for host in alive) for holder in after.values()), (before, after)
        time.sleep(2)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)

    rollout = kubectl(port, kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s", check=False)
    assert rollout.returncode == 0, rollout.stdout + rollout.stderr
    names = set(kubectl(port, kubeconfig, "get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}").stdout.split())
    assert acknowledged["configmaps"] and set(acknowledged["configmaps"]) <= names
    tags = aws(port, "eks", "describe-cluster", "--name", "ha")["cluster"]["tags"]
    assert acknowledged["tags"] and set(acknowledged["tags"]) <= set(tags)

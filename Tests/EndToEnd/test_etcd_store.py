"""`skiff up --store etcd://…`: the clusters' Kubernetes objects in a real etcd (Debian's etcd-server) on loopback."""
import subprocess
import time
import urllib.request

import pytest

from conftest import BINARY, Skiff, active_cluster_kubeconfig, free_port, kubectl_with


class Etcd:
    """A one-member etcd in a temporary data dir, on free loopback ports."""

    def __init__(self, directory):
        self.client_port, self.peer_port = free_port(), free_port()
        self.directory = directory
        self.log = open(directory.parent / f"etcd-{self.client_port}.log", "ab")
        self.process = subprocess.Popen(
            ["etcd", "--name", "m0", "--data-dir", str(directory),
             "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
             "--listen-peer-urls", f"http://127.0.0.1:{self.peer_port}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer_port}",
             "--initial-cluster", f"m0=http://127.0.0.1:{self.peer_port}"],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.client_url + "/health", timeout=1) as response:
                    if b'"true"' in response.read():
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("etcd did not become healthy")

    @property
    def client_url(self):
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def store(self):
        return f"etcd://127.0.0.1:{self.client_port}"

    def ctl(self, *args):
        result = subprocess.run(["etcdctl", "--endpoints", self.client_url, *args], env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
                                capture_output=True, text=True, timeout=30, check=True)
        return result.stdout

    def keys(self, prefix):
        return [line for line in self.ctl("get", "--prefix", "--keys-only", prefix).splitlines() if line]

    def stop(self):
        self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def etcd(tmp_path):
    server = Etcd(tmp_path / "etcd")
    yield server
    server.stop()


def test_cluster_objects_live_in_etcd_and_survive_kill_9(tmp_path, etcd):
    server = Skiff(tmp_path / "data", extra_args=["--store", etcd.store]).start()
    try:
        kubeconfig, _ = active_cluster_kubeconfig(server, "on-etcd", tmp_path)
        kubectl_with(server, kubeconfig, "create", "configmap", "settings", "--from-literal=mode=etcd")
        kubectl_with(server, kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=2")
        prefix = "/skiff/us-east-1/clusters/on-etcd/registry/"
        assert f"{prefix}core/configmaps/default/settings" in etcd.keys(prefix)
        assert any(key.startswith(f"{prefix}apps/deployments/default/web") for key in etcd.keys(prefix))
        # The region's records are there too; neither they nor the cluster's objects are in the data dir.
        assert "/skiff/us-east-1/records/eks.cluster/on-etcd" in etcd.keys("/skiff/us-east-1/records/eks.cluster/")
        assert not list((tmp_path / "data").rglob("cluster.sqlite"))
        assert not list((tmp_path / "data").rglob("region.sqlite"))
        server.kill()

        server.start()
        mode = kubectl_with(server, kubeconfig, "get", "configmap", "settings", "-o", "jsonpath={.data.mode}").stdout
        assert mode == "etcd"
        replicas = kubectl_with(server, kubeconfig, "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}").stdout
        assert replicas == "2"
        # A write after the restart goes to the same keys, and a watch sees it.
        watch = subprocess.Popen(["kubectl", "--kubeconfig", str(kubeconfig), "get", "configmaps", "--watch-only", "-o", "name"],
                                 env=server.env(), stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(1)
            kubectl_with(server, kubeconfig, "create", "configmap", "after-restart")
            assert watch.stdout.readline().strip() == "configmap/after-restart"
        finally:
            watch.kill()

        server.aws("eks", "delete-cluster", "--name", "on-etcd")
        server.aws("eks", "wait", "cluster-deleted", "--name", "on-etcd")
        deadline = time.time() + 10
        while etcd.keys("/skiff/us-east-1/clusters/on-etcd/") and time.time() < deadline:
            time.sleep(0.2)
        assert etcd.keys("/skiff/us-east-1/clusters/on-etcd/") == []
    finally:
        server.stop()


def start_fails(tmp_path, *args):
    data = tmp_path / "never"
    result = subprocess.run([str(BINARY), "up", "--port", str(free_port()),
                             "--data-dir", str(data), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert not data.exists(), "a refused start wrote to the data dir"
    return result.stderr


def test_unreachable_etcd_stops_the_start_and_touches_nothing(tmp_path):
    stderr = start_fails(tmp_path, "--store", f"etcd://127.0.0.1:{free_port()}")
    assert "cannot use the etcd store" in stderr and "unavailable" in stderr


def test_bad_store_urls_are_refused(tmp_path):
    assert "etcd://HOST:PORT" in start_fails(tmp_path, "--store", "http://127.0.0.1:2379")
    assert "go with --store" in start_fails(tmp_path, "--etcd-certfile", "/etc/hostname")


def test_a_prefix_written_by_a_newer_skiff_stops_the_start(tmp_path, etcd):
    etcd.ctl("put", "/skiff/us-east-1/layout", "99")
    stderr = start_fails(tmp_path, "--store", etcd.store)
    assert "written by a newer Skiff (layout 99" in stderr
    assert etcd.ctl("get", "--print-value-only", "/skiff/us-east-1/layout").strip() == "99"


def make_pki(directory):
    """A CA, a serving certificate for 127.0.0.1 and a client certificate, with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    directory.mkdir()
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=etcd-ca")
    # A CA that signed nothing etcd serves: trusting it instead is a wrong certificate setup.
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.pem", "-days", "1", "-subj", "/CN=other")
    for name, extension in [("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                            ("client", "extendedKeyUsage=clientAuth")]:
        (directory / f"{name}.ext").write_text(extension + "\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{name}.pem",
            "-days", "1", "-extfile", f"{name}.ext")
    return directory


def test_tls_to_etcd_with_client_certificates(tmp_path):
    pki = make_pki(tmp_path / "pki")
    client_port, peer_port = free_port(), free_port()
    url = f"https://127.0.0.1:{client_port}"
    log = open(tmp_path / "etcd-tls.log", "ab")
    etcd = subprocess.Popen(
        ["etcd", "--name", "m0", "--data-dir", str(tmp_path / "etcd-tls"), "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", f"http://127.0.0.1:{peer_port}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
         "--initial-cluster", f"m0=http://127.0.0.1:{peer_port}", "--cert-file", str(pki / "server.pem"),
         "--key-file", str(pki / "server.key"), "--trusted-ca-file", str(pki / "ca.pem"), "--client-cert-auth"],
        stdout=log, stderr=log)
    try:
        time.sleep(1.5)
        store = ["--store", f"etcd://127.0.0.1:{client_port}", "--etcd-cafile", str(pki / "ca.pem")]
        client = ["--etcd-certfile", str(pki / "client.pem"), "--etcd-keyfile", str(pki / "client.key")]
        # Without the client certificate etcd asks for, or trusting another CA than the members', the start stops.
        assert "cannot use the etcd store" in start_fails(tmp_path, *store)
        wrong_ca = ["--store", f"etcd://127.0.0.1:{client_port}", "--etcd-cafile", str(pki / "other.pem")]
        assert "cannot use the etcd store" in start_fails(tmp_path, *wrong_ca, *client)
        server = Skiff(tmp_path / "data", extra_args=[*store, *client]).start()
        try:
            server.aws("eks", "list-clusters")
        finally:
            server.stop()
    finally:
        etcd.kill()
        etcd.wait(timeout=10)
        log.close()

"""Starts the built `skiff` on a free loopback port with a temporary data dir.

Every test talks to it with the real clients: boto3 and the `aws` CLI.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("SKIFF_BIN", ROOT / ".build" / "debug" / "skiff"))
ROLE = "arn:aws:iam::000000000000:role/eks-cluster"
NODE_ROLE = "arn:aws:iam::000000000000:role/eks-node"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Skiff:
    """One `skiff up` process; it can be stopped, killed and started again on the same data dir."""

    def __init__(self, data_dir, provisioning_delay=0.2, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.provisioning_delay = provisioning_delay
        self.process = None
        self.log_path = Path(data_dir).parent / f"skiff-{self.port}.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, provisioning_delay=None):
        if provisioning_delay is not None:
            self.provisioning_delay = provisioning_delay
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BINARY), "up", "--port", str(self.port), "--data-dir", str(self.data_dir),
             "--provisioning-delay", str(self.provisioning_delay), *self.extra_args],
            stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"skiff exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/_skiff/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("skiff did not become healthy")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.log.close()

    def kill(self):
        """`kill -9`: no chance to flush anything."""
        self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()

    def env(self, key="test", secret="test"):
        env = dict(os.environ)
        env.update(AWS_ENDPOINT_URL=self.url, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        return env

    def client(self, service, key="test", secret="test", region="us-east-1"):
        return boto3.client(service, endpoint_url=self.url, region_name=region, aws_access_key_id=key,
                            aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))

    def aws(self, *args, key="test", secret="test", check=True):
        """Runs the real `aws` CLI; returns parsed JSON output (or None) and raises on failure when `check`."""
        result = subprocess.run(["aws", *args, "--output", "json"], env=self.env(key, secret),
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {result.stderr}")
        if not check:
            return result
        return json.loads(result.stdout) if result.stdout.strip() else None


def wait_for(condition, timeout=30, interval=0.2):
    """Polls `condition` until it returns something truthy (returned), or `timeout` seconds pass (then its last answer)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


def module_server(name, provisioning_delay=0.1):
    """A test module's own `skiff up` (data dir named `name`), started once for the module's tests."""
    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        skiff = Skiff(tmp_path_factory.mktemp(name) / "data", provisioning_delay=provisioning_delay).start()
        yield skiff
        skiff.stop()
    return server


def kubectl_with(server, kubeconfig, *args, check=True):
    """The real kubectl with a kubeconfig that `aws eks update-kubeconfig` wrote, signing as the server's default key."""
    result = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args], env=server.env(), capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result


def active_cluster_kubeconfig(server, name, tmp_path, *extra):
    """Creates a cluster with the aws CLI in the default subnets, waits for it, and writes its kubeconfig the EKS way."""
    subnets = ",".join(s["SubnetId"] for s in server.client("ec2").describe_subnets()["Subnets"][:2])
    server.aws("eks", "create-cluster", "--name", name, "--role-arn", ROLE, "--resources-vpc-config", f"subnetIds={subnets}", *extra)
    server.aws("eks", "wait", "cluster-active", "--name", name)
    kubeconfig = tmp_path / f"{name}.kubeconfig"
    server.aws("eks", "update-kubeconfig", "--name", name, "--kubeconfig", str(kubeconfig), check=False)
    return kubeconfig, subnets.split(",")


@pytest.fixture
def skiff(tmp_path):
    server = Skiff(tmp_path / "data").start()
    yield server
    server.stop()


@pytest.fixture
def eks(skiff):
    return skiff.client("eks")


@pytest.fixture
def ec2(skiff):
    return skiff.client("ec2")


@pytest.fixture
def default_subnets(ec2):
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])]


def fast_waiter(client, waiter, **kwargs):
    """A boto3 waiter polling every 0.2 s instead of EKS's 30 s."""
    client.get_waiter(waiter).wait(WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}, **kwargs)


def create_active_cluster(eks, subnets, name="demo", **kwargs):
    eks.create_cluster(name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets}, **kwargs)
    fast_waiter(eks, "cluster_active", name=name)
    return eks.describe_cluster(name=name)["cluster"]

"""Helpers for driving a Skiff cluster's API server with the real kubectl."""
import json
import subprocess
from pathlib import Path

from conftest import BINARY, ROLE, Skiff, fast_waiter

NEWEST_KUBECTL = "/usr/bin/kubectl"
OLDEST_KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27"


class Cluster:
    """An ACTIVE cluster and an administrator kubeconfig for it, from `skiff kubeconfig`."""

    def __init__(self, skiff: Skiff, name: str, workdir: Path, **create_args):
        eks = skiff.client("eks")
        subnets = [s["SubnetId"] for s in skiff.client("ec2").describe_subnets()["Subnets"]][:3]
        eks.create_cluster(name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets}, **create_args)
        fast_waiter(eks, "cluster_active", name=name)
        self.skiff, self.name = skiff, name
        self.description = eks.describe_cluster(name=name)["cluster"]
        self.kubeconfig = workdir / f"{name}.kubeconfig"
        self.refresh_kubeconfig()

    def refresh_kubeconfig(self):
        output = subprocess.run([str(BINARY), "kubeconfig", "--cluster", self.name], env=self.skiff.env(),
                                capture_output=True, text=True, check=True).stdout
        self.kubeconfig.write_text(output)

    def kubectl(self, *args, binary=NEWEST_KUBECTL, stdin=None, check=True, timeout=60):
        result = subprocess.run([binary, "--kubeconfig", str(self.kubeconfig), *args], input=stdin,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def json(self, *args, binary=NEWEST_KUBECTL):
        return json.loads(self.kubectl(*args, "-o", "json", binary=binary).stdout)

"""Secrets encrypted with the cluster's KMS key, as EKS's `encryptionConfig` does it: nothing a Secret holds
is in any file under the data dir, kubectl still reads it, a disabled key stops reads until it is enabled
again, rotation keeps old Secrets readable, and `associate-encryption-config` seals what existed before."""
import base64
import json
import time


from conftest import ROLE, active_cluster_kubeconfig, kubectl_with as kubectl, module_server


server = module_server("sealed", provisioning_delay=0)


def on_disk(server, text):
    """Whether any file under the data dir holds `text` or its base64, byte for byte (WAL files included)."""
    needles = [text.encode(), base64.b64encode(text.encode())]
    return [str(path) for path in server.data_dir.rglob("*") if path.is_file() and any(n in path.read_bytes() for n in needles)]


def secret_value(server, kubeconfig, name, key="value"):
    data = json.loads(kubectl(server, kubeconfig, "get", "secret", name, "-o", "json").stdout)["data"][key]
    return base64.b64decode(data).decode()


def config(key_arn):
    return json.dumps([{"resources": ["secrets"], "provider": {"keyArn": key_arn}}])


def test_a_cluster_created_with_encryption_keeps_its_secrets_sealed(server, tmp_path):
    key = server.aws("kms", "create-key")["KeyMetadata"]
    kubeconfig, _ = active_cluster_kubeconfig(server, "sealed", tmp_path, "--encryption-config", config(key["Arn"]))
    described = server.aws("eks", "describe-cluster", "--name", "sealed")["cluster"]
    assert described["encryptionConfig"][0]["provider"]["keyArn"] == key["Arn"]

    kubectl(server, kubeconfig, "create", "secret", "generic", "db", "--from-literal=value=sealed-secret-value-1")
    assert secret_value(server, kubeconfig, "db") == "sealed-secret-value-1"
    assert on_disk(server, "sealed-secret-value-1") == []

    server.aws("kms", "disable-key", "--key-id", key["KeyId"])
    refused = kubectl(server, kubeconfig, "get", "secret", "db", check=False)
    assert refused.returncode != 0 and "Internal error occurred" in refused.stderr and "DisabledException" in refused.stderr
    # The failure is an httplog line in the API server's log.
    api_log = (server.data_dir / "clusters" / "sealed" / "logs" / "kube-apiserver.log").read_text()
    assert '"HTTP"' in api_log and 'resp="500"' in api_log and 'URI="/api/v1/namespaces/default/secrets/db' in api_log
    server.aws("kms", "enable-key", "--key-id", key["KeyId"])
    assert secret_value(server, kubeconfig, "db") == "sealed-secret-value-1"

    server.aws("kms", "rotate-key-on-demand", "--key-id", key["KeyId"])
    kubectl(server, kubeconfig, "create", "secret", "generic", "after-rotation", "--from-literal=value=sealed-secret-value-2")
    assert secret_value(server, kubeconfig, "db") == "sealed-secret-value-1"
    assert secret_value(server, kubeconfig, "after-rotation") == "sealed-secret-value-2"
    assert on_disk(server, "sealed-secret-value-2") == []

    # A key that does not exist, or is disabled, is refused up front.
    missing = server.aws("eks", "create-cluster", "--name", "nokey", "--role-arn", ROLE, "--resources-vpc-config",
                         f"subnetIds={described['resourcesVpcConfig']['subnetIds'][0]},{described['resourcesVpcConfig']['subnetIds'][1]}",
                         "--encryption-config", config(key["Arn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"), check=False)
    assert missing.returncode != 0 and "InvalidParameterException" in missing.stderr


def test_associating_encryption_later_seals_what_was_there(server, tmp_path):
    kubeconfig, _ = active_cluster_kubeconfig(server, "later", tmp_path)
    kubectl(server, kubeconfig, "create", "secret", "generic", "early", "--from-literal=value=plain-before-association")
    assert secret_value(server, kubeconfig, "early") == "plain-before-association"
    key = server.aws("kms", "create-key")["KeyMetadata"]
    update = server.aws("eks", "associate-encryption-config", "--cluster-name", "later", "--encryption-config", config(key["Arn"]))["update"]
    assert update["type"] == "AssociateEncryptionConfig" and update["status"] == "InProgress"
    deadline = time.time() + 30
    while server.aws("eks", "describe-update", "--name", "later", "--update-id", update["id"])["update"]["status"] != "Successful":
        assert time.time() < deadline
        time.sleep(0.5)
    deadline = time.time() + 30
    while kubectl(server, kubeconfig, "get", "secret", "early", check=False).returncode != 0:
        assert time.time() < deadline
        time.sleep(0.5)
    assert secret_value(server, kubeconfig, "early") == "plain-before-association"
    assert on_disk(server, "plain-before-association") == []
    again = server.aws("eks", "associate-encryption-config", "--cluster-name", "later", "--encryption-config", config(key["Arn"]), check=False)
    assert again.returncode != 0 and "InvalidParameterException" in again.stderr

"""KMS with the real `aws kms` CLI: keys, aliases, envelope encryption, rotation that keeps old
ciphertext readable, disabled and pending-deletion keys, and key policies."""
import base64
import json
import tempfile


from conftest import module_server


server = module_server("kms", provisioning_delay=0.2)


def refused(result, code):
    return result.returncode != 0 and code in result.stderr


def encrypt(server, key, text, *extra):
    """The CLI (v1) sends a text blob as it is and prints the ciphertext in base64."""
    return server.aws("kms", "encrypt", "--key-id", key, "--plaintext", text, *extra)["CiphertextBlob"]


def blob_file(blob):
    """Binary blobs go to the CLI as `fileb://`."""
    file = tempfile.NamedTemporaryFile(delete=False, suffix=".bin")
    file.write(base64.b64decode(blob))
    file.close()
    return f"fileb://{file.name}"


def decrypt(server, blob, *extra, check=True):
    result = server.aws("kms", "decrypt", "--ciphertext-blob", blob_file(blob), *extra, check=check)
    return base64.b64decode(result["Plaintext"]).decode() if check else result


def test_keys_encrypt_decrypt_rotate_and_refuse_in_the_services_words(server):
    key = server.aws("kms", "create-key", "--description", "secrets")["KeyMetadata"]
    assert key["KeyState"] == "Enabled" and key["KeySpec"] == "SYMMETRIC_DEFAULT" and key["Arn"].endswith(key["KeyId"])
    server.aws("kms", "create-alias", "--alias-name", "alias/cluster-secrets", "--target-key-id", key["KeyId"])
    assert refused(server.aws("kms", "create-alias", "--alias-name", "alias/cluster-secrets", "--target-key-id", key["KeyId"], check=False),
                   "AlreadyExistsException")
    assert refused(server.aws("kms", "create-alias", "--alias-name", "alias/aws/mine", "--target-key-id", key["KeyId"], check=False),
                   "InvalidAliasNameException")
    aliases = server.aws("kms", "list-aliases", "--key-id", key["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/cluster-secrets"]
    assert key["KeyId"] in [k["KeyId"] for k in server.aws("kms", "list-keys")["Keys"]]

    blob = encrypt(server, "alias/cluster-secrets", "hunter2", "--encryption-context", "cluster=demo")
    assert "hunter2" not in base64.b64decode(blob).decode("latin-1")
    assert decrypt(server, blob, "--encryption-context", "cluster=demo") == "hunter2"
    assert refused(decrypt(server, blob, "--encryption-context", "cluster=other", check=False), "InvalidCiphertextException")
    tampered = bytearray(base64.b64decode(blob))
    tampered[-1] ^= 1
    assert refused(decrypt(server, base64.b64encode(bytes(tampered)).decode(), "--encryption-context", "cluster=demo", check=False),
                   "InvalidCiphertextException")

    data_key = server.aws("kms", "generate-data-key", "--key-id", key["Arn"], "--key-spec", "AES_256")
    assert len(base64.b64decode(data_key["Plaintext"])) == 32
    opened = server.aws("kms", "decrypt", "--ciphertext-blob", blob_file(data_key["CiphertextBlob"]))
    assert opened["Plaintext"] == data_key["Plaintext"]

    # Rotation: new material for new ciphertext, the old still decrypts.
    server.aws("kms", "enable-key-rotation", "--key-id", key["KeyId"])
    assert server.aws("kms", "get-key-rotation-status", "--key-id", key["KeyId"])["KeyRotationEnabled"] is True
    before = server.aws("kms", "describe-key", "--key-id", key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    server.aws("kms", "rotate-key-on-demand", "--key-id", key["KeyId"])
    after = server.aws("kms", "describe-key", "--key-id", key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert before != after
    assert decrypt(server, blob, "--encryption-context", "cluster=demo") == "hunter2"
    other = server.aws("kms", "create-key")["KeyMetadata"]["KeyId"]
    moved = server.aws("kms", "re-encrypt", "--ciphertext-blob", blob_file(blob), "--source-encryption-context", "cluster=demo",
                       "--destination-key-id", other)
    assert moved["KeyId"].endswith(other) and decrypt(server, moved["CiphertextBlob"]) == "hunter2"

    # Disabled, then pending deletion: refused with the service's codes; cancelling leaves it disabled.
    server.aws("kms", "disable-key", "--key-id", key["KeyId"])
    assert refused(decrypt(server, blob, "--encryption-context", "cluster=demo", check=False), "DisabledException")
    server.aws("kms", "enable-key", "--key-id", key["KeyId"])
    assert decrypt(server, blob, "--encryption-context", "cluster=demo") == "hunter2"
    scheduled = server.aws("kms", "schedule-key-deletion", "--key-id", key["KeyId"], "--pending-window-in-days", "7")
    assert scheduled["KeyState"] == "PendingDeletion"
    assert refused(server.aws("kms", "encrypt", "--key-id", key["KeyId"], "--plaintext", "x", check=False), "KMSInvalidStateException")
    server.aws("kms", "cancel-key-deletion", "--key-id", key["KeyId"])
    assert server.aws("kms", "describe-key", "--key-id", key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    assert refused(server.aws("kms", "describe-key", "--key-id", "alias/nothing", check=False), "NotFoundException")
    # Nothing secret is in CloudTrail's history of all this.
    history = json.dumps(server.aws("cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventSource,AttributeValue=kms.amazonaws.com",
                                    "--max-items", "200"))
    assert "Encrypt" in history and "hunter2" not in history and base64.b64encode(b"hunter2").decode() not in history


def test_the_key_policy_decides_who_may_use_a_key(server):
    server.aws("iam", "create-user", "--user-name", "eve")
    eve = server.aws("iam", "create-access-key", "--user-name", "eve")["AccessKey"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/nobody-else"}, "Action": "kms:*", "Resource": "*"}]})
    locked = server.aws("kms", "create-key", "--policy", policy, "--bypass-policy-lockout-safety-check")["KeyMetadata"]["KeyId"]
    denied = server.aws("kms", "encrypt", "--key-id", locked, "--plaintext", "x", key=eve["AccessKeyId"], secret=eve["SecretAccessKey"],
                        check=False)
    assert refused(denied, "AccessDeniedException") and "arn:aws:iam::000000000000:user/eve is not authorized to perform: kms:Encrypt" in denied.stderr
    open_key = server.aws("kms", "create-key")["KeyMetadata"]["KeyId"]
    assert server.aws("kms", "encrypt", "--key-id", open_key, "--plaintext", "x", key=eve["AccessKeyId"], secret=eve["SecretAccessKey"])
    assert refused(server.aws("kms", "create-key", "--policy", "not json", check=False), "MalformedPolicyDocumentException")

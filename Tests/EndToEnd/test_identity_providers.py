"""OIDC identity providers: associated with the real `aws` CLI, and then the cluster's API server accepts ID
tokens from that issuer, verified against the JWKS it serves (here a test server on loopback with its own CA,
which Skiff trusts through --trusted-ca-file), mapped by the config's claims and prefixes; kubectl uses them."""
import datetime
import http.server
import json
import ssl
import threading
import time

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from conftest import Skiff, free_port, wait_for
from kube import NEWEST_KUBECTL, Cluster
import subprocess



def certificate_authority(directory):
    """A CA and a serving certificate for 127.0.0.1 it signed, as PEM files."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test identity provider CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    import ipaddress
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_path, cert_path, key_path


class IdentityProvider:
    """An OIDC issuer on loopback over HTTPS: its discovery document and JWKS, and tokens signed by its key."""

    def __init__(self, directory):
        self.ca_path, cert, key = certificate_authority(directory)
        self.port = free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid="key-1", use="sig", alg="RS256")
        documents = {
            "/.well-known/openid-configuration": {"issuer": self.issuer, "jwks_uri": self.issuer + "/keys",
                                                  "id_token_signing_alg_values_supported": ["RS256"]},
            "/keys": {"keys": [jwk]},
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                document = documents.get(self.path)
                body = json.dumps(document).encode() if document else b"not found"
                self.send_response(200 if document else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, key=None, kid="key-1", **claims):
        now = int(time.time())
        body = {"iss": self.issuer, "aud": "kubernetes", "iat": now, "exp": now + 600, "sub": "user-1"}
        body.update(claims)
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid})

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    provider = IdentityProvider(tmp_path_factory.mktemp("idp"))
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def server(provider, tmp_path_factory):
    skiff = Skiff(tmp_path_factory.mktemp("oidc") / "data", provisioning_delay=0.1,
                  extra_args=["--trusted-ca-file", str(provider.ca_path)]).start()
    yield skiff
    skiff.stop()


@pytest.fixture(scope="module")
def cluster(server, tmp_path_factory):
    return Cluster(server, "oidc", tmp_path_factory.mktemp("kubeconfig"))


def token_kubectl(cluster, token, *args):
    """kubectl with only the bearer token as credentials (no client certificate)."""
    ca = cluster.kubeconfig.parent / "ca.crt"
    import base64
    ca.write_bytes(base64.b64decode(cluster.description["certificateAuthority"]["data"]))
    return subprocess.run([NEWEST_KUBECTL, "--kubeconfig", "/dev/null", "--server", cluster.description["endpoint"],
                           "--certificate-authority", str(ca), "--token", token, *args],
                          capture_output=True, text=True, timeout=60)


def wait_update(server, cluster, update_id):
    def finished():
        update = server.aws("eks", "describe-update", "--name", cluster, "--update-id", update_id)["update"]
        return update["status"] != "InProgress" and update
    return wait_for(finished)


def test_oidc_tokens_are_users_once_the_provider_is_associated(server, cluster, provider):
    alice = provider.token(email="alice@example.com", groups=["admins"])
    assert "Unauthorized" in token_kubectl(cluster, alice, "auth", "whoami").stderr

    answer = server.aws("eks", "associate-identity-provider-config", "--cluster-name", "oidc", "--oidc",
                        f"identityProviderConfigName=corp,issuerUrl={provider.issuer},clientId=kubernetes,"
                        "usernameClaim=email,groupsClaim=groups,groupsPrefix=oidc:", "--tags", "team=platform")
    assert answer["update"]["type"] == "AssociateIdentityProviderConfig" and answer["tags"] == {"team": "platform"}
    assert answer["update"]["status"] == "InProgress"
    assert wait_update(server, "oidc", answer["update"]["id"])["status"] == "Successful"
    config = server.aws("eks", "describe-identity-provider-config", "--cluster-name", "oidc",
                        "--identity-provider-config", "type=oidc,name=corp")["identityProviderConfig"]["oidc"]
    assert config["status"] == "ACTIVE" and config["issuerUrl"] == provider.issuer and config["groupsPrefix"] == "oidc:"
    assert server.aws("eks", "list-identity-provider-configs", "--cluster-name", "oidc")["identityProviderConfigs"] == [
        {"type": "oidc", "name": "corp"}]

    whoami = wait_for(lambda: (lambda r: r.returncode == 0 and json.loads(r.stdout))(
        token_kubectl(cluster, alice, "auth", "whoami", "-o", "json")))
    assert whoami["status"]["userInfo"]["username"] == "alice@example.com"
    assert whoami["status"]["userInfo"]["groups"] == ["oidc:admins", "system:authenticated"]
    # Known, but RBAC grants nothing until a binding names the user or a group.
    assert "Forbidden" in token_kubectl(cluster, alice, "get", "pods", "-n", "kube-system").stderr
    cluster.kubectl("create", "clusterrolebinding", "oidc-admins", "--clusterrole", "view", "--group", "oidc:admins")
    assert token_kubectl(cluster, alice, "get", "pods", "-n", "kube-system").returncode == 0

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for bad in [provider.token(email="a@example.com", aud="someone-else"),
                provider.token(email="a@example.com", exp=int(time.time()) - 3600),
                provider.token(key=other_key, email="a@example.com"),
                provider.token(key=other_key, kid="unknown", email="a@example.com"),
                provider.token(email="a@example.com", email_verified=False)]:
        assert "Unauthorized" in token_kubectl(cluster, bad, "auth", "whoami").stderr


def test_identity_provider_rules(server, cluster, provider):
    second = server.aws("eks", "associate-identity-provider-config", "--cluster-name", "oidc", "--oidc",
                        f"identityProviderConfigName=other,issuerUrl={provider.issuer},clientId=x", check=False)
    assert second.returncode != 0 and "InvalidRequestException" in second.stderr
    plain = server.aws("eks", "associate-identity-provider-config", "--cluster-name", "oidc", "--oidc",
                       "identityProviderConfigName=plain,issuerUrl=http://127.0.0.1:1,clientId=x", check=False)
    assert plain.returncode != 0 and "InvalidParameterException" in plain.stderr
    reserved = server.aws("eks", "associate-identity-provider-config", "--cluster-name", "oidc", "--oidc",
                          f"identityProviderConfigName=r,issuerUrl={provider.issuer},clientId=x,usernamePrefix=system:", check=False)
    assert reserved.returncode != 0 and "InvalidParameterException" in reserved.stderr
    missing = server.aws("eks", "describe-identity-provider-config", "--cluster-name", "oidc",
                         "--identity-provider-config", "type=oidc,name=nope", check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_disassociated_provider_tokens_stop_working(server, cluster, provider):
    bob = provider.token(email="bob@example.com")
    assert wait_for(lambda: token_kubectl(cluster, bob, "auth", "whoami").returncode == 0)
    update = server.aws("eks", "disassociate-identity-provider-config", "--cluster-name", "oidc",
                        "--identity-provider-config", "type=oidc,name=corp")["update"]
    assert update["type"] == "DisassociateIdentityProviderConfig"
    assert wait_update(server, "oidc", update["id"])["status"] == "Successful"
    assert server.aws("eks", "list-identity-provider-configs", "--cluster-name", "oidc")["identityProviderConfigs"] == []
    assert wait_for(lambda: "Unauthorized" in token_kubectl(cluster, bob, "auth", "whoami").stderr)

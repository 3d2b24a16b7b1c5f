"""A SASL_SSL listener for the security tests: SCRAM-SHA-512 and PLAIN over TLS, ACLs on,
with a certificate authority and broker certificate made by the test run (trustme), written as
PEM files that Apache Kafka reads directly (``ssl.keystore.type=PEM``)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  #: the CA's certificate: clients' FRAMEGATE_SSL_CAFILE, the broker's truststore
    keystore: Path  #: the broker's private key (PKCS#8) and certificate chain


def make_tls(directory: Path) -> TlsFiles:
    import trustme

    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="framegate tests")
    server = ca.issue_cert("127.0.0.1", "localhost")
    # Kafka's PEM keystore wants PKCS#8; trustme writes the traditional OpenSSL form.
    key = load_pem_private_key(server.private_key_pem.bytes(), password=None)
    pkcs8 = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    keystore = directory / "broker.pem"
    keystore.write_bytes(pkcs8 + b"".join(blob.bytes() for blob in server.cert_chain_pems))
    keystore.chmod(0o600)
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TlsFiles(ca=ca_file, keystore=keystore)


@dataclass
class Security:
    """A SASL_SSL listener for clients: SCRAM-SHA-512 and PLAIN over TLS, ACLs on.

    ``keystore`` is a PEM file with the broker's private key and certificate chain,
    ``truststore`` the CA's PEM. ``plain_users`` and ``scram_users`` map name -> password;
    ``admin`` (a super user, in both) is what the nodes and :meth:`KafkaCluster.acl` use.
    """

    keystore: Path
    truststore: Path
    admin: tuple[str, str] = ("admin", "admin-secret")
    plain_users: Mapping[str, str] = field(default_factory=dict)
    scram_users: Mapping[str, str] = field(default_factory=dict)

    def properties(self) -> dict[str, str]:
        name, password = self.admin
        plain = " ".join(
            f'user_{user}="{secret}"'
            for user, secret in {name: password, **self.plain_users}.items()
        )
        return {
            "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
            "sasl.mechanism.inter.broker.protocol": "PLAIN",
            "listener.name.client.plain.sasl.jaas.config": (
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="{name}" password="{password}" {plain};'
            ),
            "listener.name.client.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{name}" password="{password}";'
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.truststore),
            "ssl.client.auth": "none",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # The controller listener is PLAINTEXT on 127.0.0.1, where the nodes reach each
            # other as ANONYMOUS; clients use the CLIENT listener only.
            "super.users": f"User:{name};User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
        }

    def scram_arguments(self) -> list[str]:
        users = {self.admin[0]: self.admin[1], **self.scram_users}
        arguments: list[str] = []
        for user, secret in users.items():
            arguments += ["--add-scram", f"SCRAM-SHA-512=[name={user},password={secret}]"]
        return arguments

    def admin_client_options(self) -> dict[str, Any]:
        """aiokafka options for the admin user (SCRAM over TLS)."""
        return {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": self.admin[0],
            "sasl_plain_password": self.admin[1],
            "ssl_context": ssl.create_default_context(cafile=str(self.truststore)),
        }

    def admin_properties(self) -> str:
        """The admin user's client configuration for Kafka's own tools."""
        name, password = self.admin
        return "\n".join(
            [
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                f'required username="{name}" password="{password}";',
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={self.truststore}",
                "",
            ]
        )

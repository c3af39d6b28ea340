"""DKIM test keys and a fake DNS: sign real mail with dkimpy, serve the public key without DNS.

Keys are made by the openssl tool (dkimpy's own `dknewkey` does the same), in PKCS#1 form,
which is what `dkim.sign` reads. `FakeDns` is the `dnsfunc` dkimpy calls for
`selector._domainkey.domain.` and records every name it was asked for.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import dkim
from dkim.canonicalization import CanonicalizationPolicy
from dkim.crypto import parse_pem_private_key


@dataclass(frozen=True)
class DkimKey:
    """An RSA private key (PEM, PKCS#1) and the TXT record that publishes its public half."""

    private_pem: bytes
    txt: bytes


def make_key(directory: Path, bits: int = 2048) -> DkimKey | None:
    """A fresh RSA key pair made with openssl; None when the tool is not installed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    pem = directory / "dkim.pem"
    subprocess.run([openssl, "genrsa", "-traditional", "-out", str(pem), str(bits)],
                   check=True, capture_output=True, timeout=60)
    der = subprocess.run([openssl, "rsa", "-in", str(pem), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True, timeout=60).stdout
    txt = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    return DkimKey(private_pem=pem.read_bytes(), txt=txt)


@dataclass
class FakeDns:
    """A dkimpy `dnsfunc`: TXT records by name, and the list of names it was asked for."""

    records: dict[str, bytes] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)

    def publish(self, key: DkimKey, domain: str, selector: str = "test") -> None:
        """Serve `key` as selector._domainkey.domain."""
        self.records[f"{selector}._domainkey.{domain}."] = key.txt

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii")
        self.queries.append(text)
        return self.records.get(text)


def sign(raw: bytes, key: DkimKey, domain: str, selector: str = "test", *,
         include_headers: list[bytes] | None = None, length: bool = False) -> bytes:
    """`raw` with a DKIM-Signature by `domain` on top, as the sender's server would add it."""
    header: bytes = dkim.sign(raw, selector.encode(), domain.encode(), key.private_pem,
                              include_headers=include_headers, length=length)
    return header + raw


def sign_without_from(raw: bytes, key: DkimKey, domain: str, selector: str = "test") -> bytes:
    """A valid signature whose h= leaves From out: dkimpy refuses to make one, a forger need not.

    Built from dkimpy's own parts (body hash, header hash, RSA signing), with only its
    signer-side "From must be signed" check left out.
    """
    signer = dkim.DKIM(raw)
    canon = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
    body_hash = base64.b64encode(hashlib.sha256(canon.canonicalize_body(signer.body)).digest())
    signed = [b"to", b"subject"]
    fields = [(b"v", b"1"), (b"a", b"rsa-sha256"), (b"c", b"relaxed/simple"),
              (b"d", domain.encode()), (b"s", selector.encode()), (b"h", b" : ".join(signed)),
              (b"bh", body_hash), (b"b", b"0" * 60)]
    signer.hasher = hashlib.sha256
    value: bytes = signer.gen_header(fields, signed, canon, b"DKIM-Signature",
                                     parse_pem_private_key(key.private_pem))
    return b"DKIM-Signature:" + value + raw

"""The Ed25519 key that signs seals (:mod:`engine.seals`): created, read and named here.

The private key is a PEM file outside the database and the repository, readable only by its owner
(``DSDT_SEAL_KEY`` names it); auditors get the public key written beside it, and trust a seal
signed by a key whose fingerprint they were given.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import Invalid


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """sha256 of the raw 32-byte public key, in hex: what a seal names its signer by."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _key_error(path, reason: str) -> Invalid:
    return Invalid(f"The seal key {path} cannot be used: {reason}. Create one with `dsdt seal keygen --out PATH` "
                   "and set DSDT_SEAL_KEY to its path.", code="seal.key_unreadable",
                   params={"path": str(path), "reason": reason})


def generate_key(path: Path) -> Path:
    """Write a new Ed25519 private key to ``path`` (PEM, mode 0600) and its public key beside it
    (``path`` + ``.pub``); return the public key's path. Never overwrites a file."""
    path = Path(path)
    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if target.exists():
            raise Invalid(f"{target} already exists: choose another path (a seal key is never overwritten)",
                          code="seal.key_exists", params={"path": str(target)})
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    # O_EXCL with the mode at creation: the key is never readable by others, not even for an instant.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(private_pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return public_path


def load_private_key(path) -> Ed25519PrivateKey:
    """The signing key in ``path``; :class:`Invalid` saying why when it cannot serve."""
    try:
        if os.stat(path).st_mode & 0o077:
            raise _key_error(path, "other users can read it (chmod 600 it)")
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as err:
        raise _key_error(path, err.strerror or type(err).__name__) from err
    except (ValueError, TypeError) as err:
        raise _key_error(path, "it is not an unencrypted PEM private key") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise _key_error(path, "it is not an Ed25519 key")
    return key


def load_public_key(path) -> Ed25519PublicKey:
    """The public key in ``path`` (a PEM public key, or the private key it belongs to)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise _key_error(path, err.strerror or type(err).__name__) from err
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        key = load_private_key(path).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise _key_error(path, "it is not an Ed25519 key")
    return key


def trusted_keys(keys) -> dict[str, Ed25519PublicKey]:
    """Public keys by fingerprint, as :func:`check_record` and :func:`verify_proof` take them."""
    return {fingerprint(key): key for key in keys}

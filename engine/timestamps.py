"""An RFC 3161 time-stamping client: a third party attests that a seal existed at a given time.

The request is small enough to write in DER by hand (version, sha256 message imprint, nonce,
certReq); the service's whole answer (``TimeStampResp``, DER) is kept, base64, with the seal,
where anyone checks it against the seal's hash with the service's certificate, for instance
``openssl ts -verify -digest HASH -in answer.tsr -CAfile tsa.pem``. Here only its status is read.
"""

from __future__ import annotations

import secrets
import urllib.request

from .errors import Invalid

# AlgorithmIdentifier { id-sha256 (2.16.840.1.101.3.4.2.1), NULL }
_SHA256 = bytes.fromhex("300d06096086480165030402010500")
_GRANTED = (0, 1)  # granted, grantedWithMods (RFC 3161 §2.4.2)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))  # one spare byte keeps it positive


def request(digest: bytes, nonce: int) -> bytes:
    """The DER ``TimeStampReq`` for a sha256 ``digest``, asking for the service's certificate."""
    imprint = _der(0x30, _SHA256 + _der(0x04, digest))
    return _der(0x30, _integer(1) + imprint + _integer(nonce) + _der(0x01, b"\xff"))


def _read(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, content, offset after it) of the DER element at ``at``."""
    tag, size, at = data[at], data[at + 1], at + 2
    if size & 0x80:
        count = size & 0x7F
        size, at = int.from_bytes(data[at:at + count], "big"), at + count
    if at + size > len(data):
        raise ValueError("truncated")
    return tag, data[at:at + size], at + size


def status(answer: bytes) -> int:
    """The PKIStatus of a DER ``TimeStampResp``."""
    tag, body, _ = _read(answer, 0)
    inner_tag, info, _ = _read(body, 0)
    value_tag, value, _ = _read(info, 0)
    if (tag, inner_tag, value_tag) != (0x30, 0x30, 0x02):
        raise ValueError("not a TimeStampResp")
    return int.from_bytes(value, "big")


class Rfc3161Timestamper:
    """Asks the service at ``url`` for a time-stamp of a digest; returns its DER answer."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url
        self.timeout = timeout

    def __call__(self, digest: bytes) -> bytes:
        body = request(digest, secrets.randbits(63))
        http = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/timestamp-query"})
        with urllib.request.urlopen(http, timeout=self.timeout) as answer:  # noqa: S310 (a configured URL)
            data = answer.read(1 << 20)
        try:
            granted = status(data) in _GRANTED
        except (ValueError, IndexError) as err:
            raise Invalid(f"The time-stamping service {self.url} did not answer a TimeStampResp",
                          code="seal.timestamp_refused", params={"url": self.url}) from err
        if not granted:
            raise Invalid(f"The time-stamping service {self.url} refused the request (status {status(data)})",
                          code="seal.timestamp_refused", params={"url": self.url})
        return data

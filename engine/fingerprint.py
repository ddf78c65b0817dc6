"""A hash of an instance's state that replay can reproduce.

SpiffWorkflow gives tasks random UUIDs and stamps wall-clock ``last_state_change`` times, so two
runs of the same commands never serialize byte for byte alike. The fingerprint drops the
timestamps and blanks every UUID (a plain substitution, fast on the hot path); the tree's shape
is still covered because task dicts keep creation order and each task lists its children.
Everything else (task specs, states, data, timer values, claims) is hashed.
"""

from __future__ import annotations

import hashlib
import json
import re

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(r'"last_state_change":[0-9.eE+-]+')


def state_fingerprint(state_json: str, extra: dict | None = None) -> str:
    """sha256 of ``state_json`` with UUIDs canonicalised and timestamps removed, plus ``extra``."""
    canonical = _UUID.sub("#", _STAMP.sub('"last_state_change":0', state_json))
    digest = hashlib.sha256(canonical.encode())
    if extra:
        digest.update(json.dumps(extra, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()

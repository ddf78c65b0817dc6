"""One dossier's archive for legal archiving: a zip holding everything needed to read its record
and to prove it was not changed, without access to the application.

- ``history.json``: every journal entry as the audit history shows it (who, role, time, step,
  data submitted, what it changed field by field, process version, reason);
- ``journal.json``: the journal's rows as stored (payload, state fingerprint, previous hash,
  entry hash): the hash chain a third party recomputes (:func:`engine.journal.entry_hash`);
- ``integrity.json``: the dossier's head (sequence and hash), ``verify``'s result on it (the chain
  and the replay on the pinned version, the first entry in cause), and, when a seal holds the
  dossier, the latest such seal with the Merkle inclusion proof of the dossier's leaf
  (``dsdt seal check-proof`` checks it with the public key alone) and whether the journal still
  leads to the sealed head;
- ``attachments/``: the dossier's files, named ``<sha256 prefix>-<file name>``;
- ``manifest.json``: every other file's size and sha256.

Paths are built here from a fixed set and sanitised file names (no directory, no ``..``, ASCII
only), never from a stored path. The archive holds at most :data:`MAX_ARCHIVE_BYTES` of
attachments; beyond, :class:`~engine.errors.Invalid` before anything is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import zipfile
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import func, select

from .. import journal
from ..attachments import AttachmentStore
from ..audit import Audit
from ..errors import Invalid, NotFound
from ..history import existing_instance
from ..persistence.models import Attachment

#: the most attachment bytes one archive holds (each attachment is itself bounded at upload)
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
FORMAT = "dsdt-archive/1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, limit: int = 100) -> str:
    """A file name that stays a file name in any zip reader: its last component, ASCII letters,
    digits, ``.``, ``_``, ``-`` only, no leading dot, at most ``limit`` characters."""
    last = re.split(r"[\\/]", name)[-1]
    cleaned = _UNSAFE.sub("_", last).lstrip(".")[:limit]
    return cleaned or "fichier"


def _json(value) -> bytes:
    def default(item):
        if isinstance(item, datetime):
            return item.isoformat()
        if isinstance(item, set | frozenset):
            return sorted(item)
        raise TypeError(f"{type(item).__name__} is not JSON")

    return json.dumps(value, ensure_ascii=False, indent=2, default=default).encode()


def _integrity(engine, instance_id: int, sealer) -> tuple[dict, list[dict], str]:
    """(integrity.json, journal.json rows, the dossier's reference)."""
    with engine.db.sessions() as session:
        instance = existing_instance(session, instance_id)
        rows = journal.entries(session, instance_id)
        ref, head = instance.ref, {"seq": instance.journal_seq, "hash": instance.journal_head}
        recomputed = journal.recomputed_hashes(rows)
        chain = [{"seq": r.seq, "command": r.command, "actor": r.actor, "at": r.at, "payload": r.payload,
                  "state_hash": r.state_hash, "prev_hash": r.prev_hash, "entry_hash": r.entry_hash} for r in rows]
    result = Audit(engine).verify_one(instance_id)
    found = {"format": FORMAT, "dossier": ref, "head": head,
             "verify": {"ok": result.ok, "chain_ok": result.chain_ok, "replay_ok": result.replay_ok,
                        "problem": result.problem, "entry": result.entry},
             "seal": None}
    if sealer is not None:
        try:
            proof = sealer.proof(ref)
        except NotFound:
            proof = None
        if proof is not None:
            sealed_seq, sealed_head = proof["leaf"][2], proof["leaf"][3]
            found["seal"] = {
                "proof": proof, "sealed_seq": sealed_seq,
                # the journal's entries up to the sealed one still give the sealed head
                "journal_leads_to_sealed_head": recomputed.get(sealed_seq) == sealed_head,
                "covers_head": sealed_seq == head["seq"] and sealed_head == head["hash"],
            }
    return found, chain, ref


def write_archive(engine, instance_id: int, out: BinaryIO, sealer=None) -> list[str]:
    """Write dossier ``instance_id``'s archive (a zip) to ``out``; return the paths written."""
    with engine.db.sessions() as session:
        existing_instance(session, instance_id)
        total = session.scalar(select(func.coalesce(func.sum(Attachment.size), 0))
                               .where(Attachment.instance_id == instance_id)) or 0
    if total > MAX_ARCHIVE_BYTES:
        raise Invalid(f"The dossier's attachments weigh {total} bytes, more than an archive holds "
                      f"({MAX_ARCHIVE_BYTES})", code="export.archive_too_large",
                      params={"size": total, "limit": MAX_ARCHIVE_BYTES})
    integrity, chain, ref = _integrity(engine, instance_id, sealer)
    history = dataclasses.asdict(Audit(engine).history(instance_id))
    store = AttachmentStore(engine.db, engine.clock)
    folder = f"dossier-{safe_name(ref)}"
    manifest, paths = [], []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        def put(path: str, content: bytes, **about) -> None:
            archive.writestr(f"{folder}/{path}", content)
            paths.append(f"{folder}/{path}")
            manifest.append({"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                             **about})

        put("history.json", _json(history))
        put("journal.json", _json(chain))
        put("integrity.json", _json(integrity))
        for info in store.list(instance_id):
            _, content = store.get(instance_id, info.ref)
            put(f"attachments/{info.sha256[:12]}-{safe_name(info.filename)}", content, filename=info.filename,
                media_type=info.media_type, uploaded_by=info.uploaded_by, uploaded_at=info.uploaded_at.isoformat())
        body = _json({"format": FORMAT, "dossier": ref, "files": manifest})
        archive.writestr(f"{folder}/manifest.json", body)
        paths.append(f"{folder}/manifest.json")
    return paths

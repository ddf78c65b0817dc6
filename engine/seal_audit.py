"""``verify --seals``: the journal checked against an exported seal log (:mod:`engine.seals`).

Each seal of the log must be signed by a trusted public key, give the Merkle root it signs, and
follow the seal before it (sequence and hash). Then, for every dossier a trusted seal holds, the
journal's hashes are recomputed from the rows' content alone (:func:`engine.journal.recomputed_hashes`)
and the hash at the sealed entry must be the sealed head. Someone who rewrote a dossier's
history and recomputed every stored hash and the instance's head passes ``verify``, not this:
the first seal whose head no longer matches is named, with the entries the change lies in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from . import journal
from .persistence.models import Instance
from .seals import SealRecord, check_record


@dataclass
class SealReport:
    seals: int = 0
    #: seals whose signature and root hold (their heads are checked against the journal)
    trusted: int = 0
    #: sealed heads checked
    heads: int = 0
    #: problems of the log itself: {"seal", "problem"}
    refused: list[dict] = field(default_factory=list)
    #: dossiers whose sealed history changed: {"instance", "ref", "seal", "entry", "problem"}
    rewritten: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.rewritten

    def as_dict(self) -> dict:
        return {"seals": self.seals, "trusted": self.trusted, "heads": self.heads, "refused": self.refused,
                "rewritten": self.rewritten, "ok": self.ok}


def check_log(records: list[SealRecord], keys, report: SealReport) -> list[SealRecord]:
    """The records that can be trusted; what is wrong with the others, or with their order, goes
    to ``report.refused``. A seal whose own signature holds stays trusted when its neighbour is
    missing or altered (the chain break is reported): the key that signed it vouches for it."""
    trusted, before = [], None
    for record in records:
        report.seals += 1
        problem = check_record(record, keys)
        sequence = record.header.get("sequence") if isinstance(record.header, dict) else None
        if problem:
            report.refused.append({"seal": sequence, "problem": problem})
        elif before is not None and (sequence != before.header.get("sequence", 0) + 1
                                     or record.header["previous"] != before.hash):
            report.refused.append({"seal": sequence, "problem": (
                f"it does not follow seal {before.header.get('sequence')} of the log: a seal between them "
                "was removed, or one of them altered")})
        elif before is None and sequence == 1 and record.header["previous"] != "":
            report.refused.append({"seal": sequence, "problem": "the first seal names a previous one"})
        if not problem:
            trusted.append(record)
        before = record
    report.trusted = len(trusted)
    return trusted


def _sealed_heads(trusted: list[SealRecord]) -> dict[int, list[tuple[SealRecord, str, int, str]]]:
    """instance id → (seal, ref, journal seq, head) of every trusted seal holding it, oldest first."""
    heads: dict[int, list] = {}
    for record in trusted:
        for instance_id, ref, seq, head in record.leaves:
            heads.setdefault(instance_id, []).append((record, ref, seq, head))
    return heads


def _check_dossier(session: Session, instance_id: int, sealed, report: SealReport) -> None:
    first_ref = sealed[0][1]
    instance = session.get(Instance, instance_id)
    if instance is None:
        record, ref, seq, _ = sealed[0]
        report.rewritten.append({"instance": instance_id, "ref": ref, "seal": record.sequence, "entry": 1,
                                 "problem": f"sealed in seal {record.sequence} at entry {seq}, it is no longer "
                                            "in the database"})
        return
    hashes = journal.recomputed_hashes(journal.entries(session, instance_id))
    good = 0  # the last entry a seal vouches for, unchanged since
    for record, ref, seq, head in sealed:
        report.heads += 1
        if ref != instance.ref:
            problem = f"sealed as {ref} in seal {record.sequence}, it is now called {instance.ref}"
        elif hashes.get(seq) == head:
            good = max(good, seq)
            continue
        elif seq not in hashes:
            problem = (f"entry {seq}, sealed in seal {record.sequence}, is no longer in its journal "
                       f"(entries after {good} were removed or renumbered)")
        else:
            where = f"entry {seq}" if good + 1 == seq else f"an entry from {good + 1} to {seq}"
            problem = (f"its journal up to entry {seq} no longer gives the head sealed in seal {record.sequence} "
                       f"({record.header['created_at']}): {where} was changed, inserted or removed since, "
                       "even though its stored hashes agree")
        report.rewritten.append({"instance": instance_id, "ref": first_ref if ref != instance.ref else ref,
                                 "seal": record.sequence, "entry": good + 1, "problem": problem})
        return  # the first differing seal says it; later ones would repeat it


def verify_seals(session: Session, records: list[SealRecord], keys) -> SealReport:
    """Check ``records`` (an exported seal log) and the journal against them."""
    report = SealReport()
    trusted = check_log(records, keys, report)
    for instance_id, sealed in sorted(_sealed_heads(trusted).items()):
        _check_dossier(session, instance_id, sealed, report)
        session.expunge_all()  # keep memory flat over thousands of dossiers
    return report

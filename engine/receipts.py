"""Receipts ("récépissés de dépôt"): what a porteur's submission recorded, to print and check later.

A receipt names one journal entry: the completion of a porteur's step (the contract's
``porteur_steps``: contact, fiche synthétique, dossier complet...). It carries the dossier's
reference, the porteur and their association, the step, the instant of the submission, the files
the submitted form named (name, size, sha256) and the entry's hash in the journal's chain, with
whether the chain still checks out now. Anyone holding the receipt can later ask for the journal
entry of that sequence number and compare the hash (``dsdt verify`` checks the whole chain; a
seal, :mod:`engine.seals`, fixes it outside the database).

Nothing here decides who may read a receipt: the web layer checks the dossier's scope first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from . import commands, journal
from .errors import NotFound, dossier_not_found
from .forms import attachment_values
from .persistence.models import Attachment, Instance, Organisation, User
from .queries import bpmn_id_of


@dataclass(frozen=True)
class ReceiptFile:
    """A file the submitted form named."""

    field: str  # dotted path in the form data ("pieces.0.fichier")
    label: str  # the field's title in the form ("Statuts"), else its path
    filename: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Receipt:
    """One porteur submission as the journal recorded it."""

    dossier_id: int
    ref: str
    title: str | None
    campaign_code: str
    epci: str | None
    porteur: str
    porteur_name: str
    association: str | None
    step_name: str
    bpmn_id: str
    seq: int
    submitted_at: datetime  # UTC, as journaled
    submitted_by: str
    entry_hash: str
    prev_hash: str
    chain_ok: bool  # the dossier's whole chain checked when the receipt was read
    files: tuple[ReceiptFile, ...]


def receipt_not_found(instance_id: int, seq: int | None) -> NotFound:
    return NotFound(
        f"Dossier {instance_id} has no porteur submission{'' if seq is None else f' at journal entry {seq}'}.",
        code="receipt.not_found",
        params={"dossier": instance_id, "seq": seq},
    )


class Receipts:
    """Reads receipts over a :class:`~engine.service.WorkflowEngine`'s database."""

    def __init__(self, queries):
        self.queries = queries  # an engine.queries.Queries: steps, forms and contract of a deployment
        self.db = queries.db

    def submissions(self, instance_id: int) -> list[int]:
        """The journal sequence numbers of the dossier's porteur submissions, oldest first."""
        with self.db.sessions() as session:
            row = session.get(Instance, instance_id)
            if row is None:
                raise dossier_not_found(instance_id)
            porteur_steps = self.queries.contract(row.deployment_id).porteur_steps
            return [entry.seq for entry in journal.entries(session, instance_id)
                    if _porteur_completion(entry, porteur_steps)]

    def receipt(self, instance_id: int, seq: int | None = None) -> Receipt:
        """The receipt of the porteur submission journaled at ``seq`` (default: the latest one).

        Raises :class:`~engine.errors.NotFound` (``receipt.not_found``) when ``seq`` is not a
        porteur's submission of this dossier, or when the dossier has none yet.
        """
        with self.db.sessions() as session:
            row = session.get(Instance, instance_id)
            if row is None:
                raise dossier_not_found(instance_id)
            entries = journal.entries(session, instance_id)
            porteur_steps = self.queries.contract(row.deployment_id).porteur_steps
            chosen = [entry for entry in entries if _porteur_completion(entry, porteur_steps)
                      and (seq is None or entry.seq == seq)]
            if not chosen:
                raise receipt_not_found(instance_id, seq)
            entry = chosen[-1]
            chain_ok = journal.check_chain(row, entries).ok
            person = session.scalar(select(User).where(User.login == row.porteur))
            association = None
            if person is not None and person.organisation_id is not None:
                association = session.scalar(
                    select(Organisation.name).where(Organisation.id == person.organisation_id))
            stored = {
                attachment.sha256: attachment
                for attachment in session.scalars(select(Attachment).where(Attachment.instance_id == instance_id))
            }
            dossier = (row.id, row.ref, row.title, row.campaign_code, row.epci, row.porteur,
                       person.full_name if person is not None and person.full_name else row.porteur, association)
            deployment_id = row.deployment_id
        bpmn_id = bpmn_id_of(entry.payload.get("task"))
        step = self.queries.steps(deployment_id)[bpmn_id]
        schema = self.queries.forms(deployment_id).get(step.form or "", {})
        files = []
        for path, value in attachment_values(schema, entry.payload.get("data") or {}):
            sha = value.removeprefix("sha256:") if isinstance(value, str) else ""
            found = stored.get(sha)
            if found is not None:
                files.append(ReceiptFile(path, _title(schema, path), found.filename, found.media_type, found.size,
                                         sha))
        return Receipt(*dossier, step.name, bpmn_id, entry.seq, entry.at, entry.actor, entry.entry_hash,
                       entry.prev_hash, chain_ok, tuple(files))


def _porteur_completion(entry, porteur_steps) -> bool:
    return entry.command == commands.COMPLETE and bpmn_id_of((entry.payload or {}).get("task")) in porteur_steps


def _title(schema: dict, path: str) -> str:
    """The title the form gives the field at ``path`` (list indexes skipped), else the path."""
    node = schema
    for part in path.split("."):
        if part.isdigit():
            node = node.get("items") if isinstance(node.get("items"), dict) else {}
        else:
            node = (node.get("properties") or {}).get(part) or {}
    return str(node.get("title") or path)

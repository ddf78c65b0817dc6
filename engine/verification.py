"""``verify`` over a whole campaign: in chunks of dossiers, on a pool of processes, resumable.

:func:`engine.replay.verify_instance` proves one dossier (its chain, and its replay on the pinned
deployment). Here the dossiers are taken in chunks of consecutive ids: a chunk's instance rows and
journals are read in two queries, and its dossiers replayed one after the other (the parsed
specs of a deployment are shared by every dossier pinned to it). ``jobs`` above 1 replays chunks
in that many worker processes, each with its own engine built from the same settings. The
report does not depend on how the chunks were shared out: its diverged dossiers come in id order.

A resume file (``resume``) records each chunk once done (one JSON line, with its dossiers' ids and
results); a run given the same file again skips the dossiers it lists and reports them as
recorded, so an audit of many thousands of dossiers stopped halfway goes on from where it was.
The file names the database it belongs to and is refused on another one. A dossier verified in an
earlier run is not looked at again: to verify one that changed since, start a new file.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import Invalid
from .persistence.models import Instance, JournalEntry
from .replay import InstanceReport, VerifyReport, verify_instance

#: dossiers per chunk: what a worker replays between two reports (and what a resume may redo)
CHUNK = 50
#: the most worker processes ``--jobs`` may ask for
MAX_JOBS = 64
_HEADER_KIND = "dsdt-verify-progress"


@dataclass(frozen=True)
class Progress:
    """Where a run stands: dossiers done (those skipped thanks to the resume file included), of
    ``total``, and the seconds since it started."""

    done: int
    total: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


def verify_chunk(session: Session, ids: list[int], deployments, script_engine, serializer) -> list[InstanceReport]:
    """Verify the dossiers ``ids``: their rows and journals in two queries, then each replayed."""
    instances = session.scalars(select(Instance).where(Instance.id.in_(ids)).order_by(Instance.id)).all()
    rows = session.scalars(select(JournalEntry).where(JournalEntry.instance_id.in_(ids))
                           .order_by(JournalEntry.instance_id, JournalEntry.seq, JournalEntry.id)).all()
    journals = {iid: list(entries) for iid, entries in groupby(rows, key=lambda row: row.instance_id)}
    reports = [verify_instance(session, instance, deployments, script_engine, serializer,
                               rows=journals.get(instance.id, [])) for instance in instances]
    session.expunge_all()  # memory stays flat over thousands of dossiers
    return reports


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _summary(reports: list[InstanceReport]) -> dict:
    """A chunk's results as the resume file keeps them (plain JSON)."""
    return {
        "ids": [report.instance_id for report in reports],
        "chain_ok": all(report.chain_ok for report in reports),
        "diverged": [{"instance": report.instance_id, "ref": report.ref, "problem": report.problem,
                      "entry": report.entry}  # the first journal entry in cause, when there is one
                     for report in reports if report.problem is not None],
    }


class ResumeFile:
    """The progress file of a run (see the module's docstring)."""

    def __init__(self, path: Path, database: str):
        self.path = Path(path)
        self.database = hashlib.sha256(database.encode()).hexdigest()[:16]

    def load(self) -> list[dict]:
        """The chunks recorded so far (a line cut short by a crash is left out: its chunk is redone)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        try:
            header = json.loads(lines[0]) if lines else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("kind") != _HEADER_KIND:
            raise Invalid(f"{self.path} is not a progress file of dsdt verify",
                          code="verify.resume_invalid", params={"path": str(self.path)})
        if header.get("database") != self.database:
            raise Invalid(f"{self.path} records the verification of another database",
                          code="verify.resume_other_database", params={"path": str(self.path)})
        chunks = []
        for line in lines[1:]:
            try:
                chunk = json.loads(line)
            except ValueError:
                continue
            if isinstance(chunk, dict) and isinstance(chunk.get("ids"), list):
                chunks.append(chunk)
        return chunks

    def start(self) -> None:
        """Write the header of a new file, or end a line a crash cut short (so the next one starts afresh)."""
        existing = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        if not existing.strip():
            self.path.write_text(json.dumps({"kind": _HEADER_KIND, "database": self.database}) + "\n",
                                 encoding="utf-8")
        elif not existing.endswith("\n"):
            with self.path.open("a", encoding="utf-8") as out:
                out.write("\n")

    def record(self, chunk: dict) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(chunk, ensure_ascii=False) + "\n")
            out.flush()


# -- worker processes ------------------------------------------------------------------------------

_worker_engine = None


def _start_worker(config) -> None:
    global _worker_engine
    from .service import WorkflowEngine

    _worker_engine = WorkflowEngine.from_config(config, upgrade=False)


def _verify_in_worker(ids: list[int]) -> dict:
    engine = _worker_engine
    with engine.db.sessions() as session:
        return _summary(verify_chunk(session, ids, engine.deployments, engine.script_engine, engine.serializer))


def verify_dossiers(engine, config=None, jobs: int = 1, resume: Path | None = None,
                    progress: Callable[[Progress], None] | None = None, chunk: int = CHUNK) -> VerifyReport:
    """Verify every dossier of ``engine``'s database (see the module's docstring).

    ``jobs`` > 1 needs ``config`` (the settings the worker processes build their engines from);
    ``progress`` is called after each chunk.
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise Invalid(f"jobs must be between 1 and {MAX_JOBS}", code="verify.jobs", params={"max": MAX_JOBS})
    began = time.monotonic()
    with engine.db.sessions() as session:
        ids = list(session.scalars(select(Instance.id).order_by(Instance.id)))
    log = ResumeFile(resume, engine.db.engine.url.render_as_string(hide_password=True)) if resume else None
    chunks = log.load() if log else []
    done_ids = {iid for recorded in chunks for iid in recorded["ids"]}
    todo = [iid for iid in ids if iid not in done_ids]
    done = len(ids) - len(todo)
    if log:
        log.start()

    def finished(summary: dict) -> None:
        nonlocal done
        chunks.append(summary)
        if log:
            log.record(summary)
        done += len(summary["ids"])
        if progress:
            progress(Progress(done, len(ids), time.monotonic() - began))

    if jobs == 1 or len(todo) <= chunk:
        for part in _chunks(todo, chunk):
            with engine.db.sessions() as session:
                finished(_summary(verify_chunk(session, part, engine.deployments, engine.script_engine,
                                               engine.serializer)))
    else:
        if config is None:
            raise ValueError("verify_dossiers needs the engine's settings to start worker processes")
        _in_pool(config, jobs, list(_chunks(todo, chunk)), finished)
    return _report(ids, chunks)


def _in_pool(config, jobs: int, parts: list[list[int]], finished) -> None:
    """Replay ``parts`` on ``jobs`` spawned processes, a few chunks in flight per process."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(config,)) as pool:
        pending, queue = set(), iter(parts)
        for part in queue:
            pending.add(pool.submit(_verify_in_worker, part))
            if len(pending) >= jobs * 2:
                completed, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in completed:
                    finished(future.result())
        for future in wait(pending).done:
            finished(future.result())


def _report(ids: list[int], chunks: list[dict]) -> VerifyReport:
    present = set(ids)
    report = VerifyReport(instances=len(ids))
    diverged = {}
    for chunk in chunks:
        report.chain_ok = report.chain_ok and chunk["chain_ok"]
        for item in chunk["diverged"]:
            if item["instance"] in present:
                diverged[item["instance"]] = item
    report.diverged = [diverged[iid] for iid in sorted(diverged)]
    report.verified = len(ids) - len(report.diverged)
    return report

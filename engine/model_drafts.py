"""Model drafts: process owners' versions of the model files, saved without deploying.

A draft is a whole file set, keyed like :func:`engine.deployments.read_model_files`
(``processes/x.bpmn``, ``processes/x.dmn``, ``processes/contract.json``,
``forms/x.schema.json``...), with who last edited it and when and a revision number. A save names
the revision it started from: when another owner saved in between, it raises :class:`Conflict`
and changes nothing, never a silent overwrite. Files are not checked here beyond their names and
sizes (a draft may be half done); deploy checks everything, and
:func:`engine.bpmn.lint.lint_files` names every problem deploy would refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import delete, select, update

from .errors import Conflict, Invalid, NotFound
from .persistence.models import Blob, Deployment, DeploymentFile, ModelDraft, ModelDraftFile

#: Largest single file of a draft (our largest diagram is about 60 KiB).
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Largest draft, all files together.
MAX_DRAFT_BYTES = 16 * 1024 * 1024
#: Most files in a draft.
MAX_FILES = 200
#: Most drafts stored at once.
MAX_DRAFTS = 100

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_PATH = re.compile(r"(processes/[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(bpmn|dmn|json)"
                   r"|forms/[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.json)")


def form_documents(schema_text: str, ui_text: str) -> tuple[dict, dict]:
    """A form's JSON Schema and UI schema read from their texts (the form editor's preview), or
    :class:`Invalid` saying which is not JSON, or not a JSON Schema, and why."""
    documents = []
    for which, text in (("schema", schema_text), ("uischema", ui_text or "{}")):
        if len(text.encode()) > MAX_FILE_BYTES:
            raise Invalid(f"The {which} is larger than {MAX_FILE_BYTES // 1024} KiB",
                          code="model_draft.form_too_large",
                          params={"which": which, "limit_kib": MAX_FILE_BYTES // 1024})
        try:
            document = json.loads(text)
        except ValueError as err:
            raise Invalid(f"The {which} is not JSON: {err}", code="model_draft.form_not_json",
                          params={"which": which, "detail": str(err)}) from err
        if not isinstance(document, dict):
            raise Invalid(f"The {which} is not a JSON object", code="model_draft.form_not_json",
                          params={"which": which, "detail": type(document).__name__})
        documents.append(document)
    try:
        Draft202012Validator.check_schema(documents[0])
    except SchemaError as err:
        raise Invalid(f"Invalid JSON Schema: {err.message}", code="model_draft.form_not_schema",
                      params={"detail": err.message}) from err
    if documents[0].get("type", "object") != "object":
        raise Invalid("A form's schema describes an object", code="model_draft.form_not_schema",
                      params={"detail": "type: object"})
    return documents[0], documents[1]


@dataclass(frozen=True)
class DraftSummary:
    name: str
    revision: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class ModelDraftInfo:
    """A draft's files and who last edited it."""

    summary: DraftSummary
    files: dict[str, bytes]

    @property
    def name(self) -> str:
        return self.summary.name

    @property
    def revision(self) -> int:
        return self.summary.revision


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise Invalid("A draft name is 1 to 80 letters, digits, '.', '_' or '-', starting with a letter or digit",
                      code="model_draft.bad_name", params={"name": str(name)[:80]},
                      errors={"name": ["letters, digits, '.', '_' or '-'"]})
    return name


def check_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` unchanged, or :class:`Invalid` naming the bad path or the bound passed."""
    if len(files) > MAX_FILES:
        raise Invalid(f"A draft holds at most {MAX_FILES} files; this one has {len(files)}",
                      code="model_draft.too_many_files", params={"limit": MAX_FILES, "count": len(files)})
    total = 0
    for path, data in files.items():
        if not isinstance(path, str) or not _PATH.fullmatch(path):
            raise Invalid(f"{str(path)[:120]!r} is not a model file name: processes/NAME.bpmn, .dmn or "
                          ".json, or forms/NAME.json", code="model_draft.bad_path",
                          params={"path": str(path)[:120]}, file=str(path)[:120])
        if not isinstance(data, bytes):
            raise TypeError(f"{path}: bytes expected")
        if len(data) > MAX_FILE_BYTES:
            raise Invalid(f"{path} is {len(data)} bytes long; a file is at most {MAX_FILE_BYTES // 1024} KiB",
                          code="model_draft.file_too_large",
                          params={"path": path, "limit_kib": MAX_FILE_BYTES // 1024}, file=path)
        total += len(data)
    if total > MAX_DRAFT_BYTES:
        raise Invalid(f"The draft's files make {total} bytes; a draft is at most {MAX_DRAFT_BYTES // 1024} KiB",
                      code="model_draft.too_large", params={"limit_kib": MAX_DRAFT_BYTES // 1024})
    return files


def _summary(row: ModelDraft) -> DraftSummary:
    return DraftSummary(row.name, row.revision, row.created_by, row.created_at, row.updated_by, row.updated_at)


def _not_found(name: str) -> NotFound:
    return NotFound(f"There is no draft named {name!r}", code="model_draft.not_found", params={"name": name})


class ModelDrafts:
    """Creates, reads, saves and deletes model drafts (one transaction per call)."""

    def __init__(self, db, clock):
        self.db = db
        self.clock = clock

    def create(self, name: str, files: dict[str, bytes], author: str) -> DraftSummary:
        check_name(name)
        check_files(files)
        now = self.clock.now()
        with self.db.sessions.begin() as session:
            if session.get(ModelDraft, name) is not None:
                raise Conflict(f"A draft named {name!r} already exists: choose another name",
                               code="model_draft.exists", params={"name": name})
            count = session.scalar(select(ModelDraft.name).order_by(ModelDraft.name)
                                   .offset(MAX_DRAFTS - 1).limit(1))
            if count is not None:
                raise Invalid(f"There are already {MAX_DRAFTS} drafts: delete one first",
                              code="model_draft.too_many", params={"limit": MAX_DRAFTS})
            row = ModelDraft(name=name, revision=1, created_by=author, created_at=now,
                             updated_by=author, updated_at=now)
            session.add(row)
            session.flush()
            session.add_all(ModelDraftFile(draft_name=name, path=p, content=d) for p, d in files.items())
            return _summary(row)

    def create_from_deployment(self, name: str, deployment_id: int | None, author: str) -> DraftSummary:
        """A new draft holding the files of a deployment (the current one when ``deployment_id`` is None)."""
        with self.db.sessions.begin() as session:
            if deployment_id is None:
                deployment_id = session.scalar(select(Deployment.id).order_by(Deployment.version.desc()).limit(1))
                if deployment_id is None:
                    raise NotFound("No deployment yet: run `dsdt deploy` first", code="deployment.none")
            files = dict(session.execute(
                select(DeploymentFile.path, Blob.content).join(Blob, Blob.sha256 == DeploymentFile.sha256)
                .where(DeploymentFile.deployment_id == deployment_id)).all())
        if not files:
            raise NotFound(f"Deployment {deployment_id} does not exist",
                           code="deployment.not_found", params={"deployment_id": deployment_id})
        return self.create(name, files, author)

    def get(self, name: str) -> ModelDraftInfo:
        with self.db.sessions() as session:
            row = session.get(ModelDraft, name)
            if row is None:
                raise _not_found(name)
            files = dict(session.execute(select(ModelDraftFile.path, ModelDraftFile.content)
                                         .where(ModelDraftFile.draft_name == name)).all())
            return ModelDraftInfo(_summary(row), files)

    def save(self, name: str, files: dict[str, bytes], author: str, expected_revision: int) -> DraftSummary:
        """Replace the draft's files; :class:`Conflict` (nothing changed) when its revision is not
        ``expected_revision`` any more, naming who saved in between."""
        check_files(files)
        now = self.clock.now()
        with self.db.sessions.begin() as session:
            # One conditional UPDATE: of two saves from the same revision, exactly one matches.
            moved = session.execute(
                update(ModelDraft)
                .where(ModelDraft.name == name, ModelDraft.revision == expected_revision)
                .values(revision=ModelDraft.revision + 1, updated_by=author, updated_at=now)
            ).rowcount
            if moved != 1:
                row = session.get(ModelDraft, name)
                if row is None:
                    raise _not_found(name)
                raise Conflict(
                    f"{row.updated_by} saved draft {name!r} meanwhile (revision {row.revision}, yours was "
                    f"{expected_revision}): reload it and apply your changes again",
                    code="model_draft.conflict",
                    params={"name": name, "by": row.updated_by, "revision": row.revision,
                            "expected": expected_revision})
            session.execute(delete(ModelDraftFile).where(ModelDraftFile.draft_name == name))
            session.add_all(ModelDraftFile(draft_name=name, path=p, content=d) for p, d in files.items())
            session.flush()
            row = session.get(ModelDraft, name)
            session.refresh(row)
            return _summary(row)

    def list(self) -> list[DraftSummary]:
        with self.db.sessions() as session:
            rows = session.scalars(select(ModelDraft).order_by(ModelDraft.updated_at.desc(), ModelDraft.name)
                                   .limit(MAX_DRAFTS)).all()
            return [_summary(row) for row in rows]

    def delete(self, name: str) -> None:
        with self.db.sessions.begin() as session:
            session.execute(delete(ModelDraftFile).where(ModelDraftFile.draft_name == name))
            if session.execute(delete(ModelDraft).where(ModelDraft.name == name)).rowcount != 1:
                raise _not_found(name)

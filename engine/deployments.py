"""Deployments: immutable, content-addressed snapshots of the model and form files.

A deploy reads ``processes/`` and ``forms/``, parses and checks everything, and stores each file
once under its sha256. Nothing changed since the current deployment → no new version. A broken
file → :class:`~engine.errors.Invalid` naming the file and element, and the current deployment
stays current. Parsed specs are cached per deployment id: a deployment never changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from .bpmn.parser import ParsedModels, model_code, parse_models, script_imports
from .contract import UNDECLARED
from .errors import Invalid, NotFound
from .forms import check_bounds
from .persistence.models import Blob, Deployment, DeploymentFile
from .persistence.raw import RawStatement
from .scripts.restricted import compile_script

MODEL_SUFFIXES = (".bpmn", ".dmn", ".json")


@dataclass(frozen=True)
class DeploymentInfo:
    id: int
    version: int
    content_hash: str
    author: str
    comment: str
    created_at: datetime
    created: bool  # False when the files were unchanged and the current deployment was kept


def read_model_files(root: Path) -> dict[str, bytes]:
    """The files of ``root/processes`` and ``root/forms``, keyed by their path relative to ``root``."""
    files: dict[str, bytes] = {}
    for folder in ("processes", "forms"):
        for path in sorted((root / folder).glob("*")):
            if path.is_file() and path.suffix in MODEL_SUFFIXES:
                files[f"{folder}/{path.name}"] = path.read_bytes()
    return files


def content_hash(files: dict[str, bytes]) -> str:
    manifest = "".join(
        f"{path}\0{hashlib.sha256(data).hexdigest()}\n" for path, data in sorted(files.items())
    )
    return hashlib.sha256(manifest.encode()).hexdigest()


def compile_model_code(models: ParsedModels, strict: bool) -> None:
    """Compile every script, expression and DMN cell of the models with RestrictedPython, once per process.

    At deploy (``strict``) a script that does not compile, or uses what the sandbox forbids
    (``__class__``, names starting with ``_``), refuses the deployment, naming file, element and
    line. On load the compiled code only warms the cache, so the first commands that run the
    scripts do not pay for RestrictedPython's compiler; errors then surface when the script runs.
    """
    codes = [code for family in (models.families or {None: models}).values() for code in model_code(family)]
    for code in codes:
        line = script_imports(code.source) if strict and code.mode == "exec" else None
        if line is not None:
            raise Invalid("A script may not import modules: use the helper functions it is given",
                          code="model.script_invalid", params={"detail": "import"},
                          file=code.file, bpmn_id=code.bpmn_id, line=line)
        try:
            compile_script(code.source, code.mode)
        except (SyntaxError, TypeError) as err:
            if strict:
                line = getattr(err, "lineno", None)
                # DMN cells: the decision, rule and cell text, which the bare id does not show.
                detail = str(getattr(err, "msg", None) or err) + (f" ({code.what})" if code.what else "")
                raise Invalid(f"This script or expression cannot run: {detail}. "
                              "Fix it in the modeler, then deploy again.",
                              code="model.script_invalid", params={"detail": detail},
                              file=code.file, bpmn_id=code.bpmn_id, line=line) from err


def _info(row: Deployment, created: bool) -> DeploymentInfo:
    return DeploymentInfo(
        row.id, row.version, row.content_hash, row.author, row.comment, row.created_at, created
    )


_CURRENT_ID = RawStatement("SELECT id FROM deployment ORDER BY version DESC LIMIT 1")


class DeploymentStore:
    """Creates deployments and serves their parsed models (cached: deployments are immutable)."""

    #: parsed models by content hash, shared by every store of the process: same files, same specs.
    _parsed_by_hash: dict[str, ParsedModels] = {}

    @classmethod
    def forget_parsed(cls) -> None:
        """Drop the process's parsed specs, so the next load parses the files as a new process would.

        For tests that must see what a fresh process sees: state kept on shared specs (connections
        SpiffWorkflow makes while running) would otherwise hide what a restore alone loses.
        """
        cls._parsed_by_hash.clear()

    def __init__(self):
        self._hash_of: dict[int, str] = {}

    def current(self, session: Session) -> Deployment | None:
        return session.scalars(select(Deployment).order_by(Deployment.version.desc()).limit(1)).first()

    def current_id(self, connection: Connection) -> int | None:
        """The current deployment's id (a raw read: every application's start needs it)."""
        row = _CURRENT_ID.first(connection, {})
        return None if row is None else row[0]

    def deploy(
        self, session: Session, files: dict[str, bytes], *, author: str, comment: str, now: datetime
    ) -> DeploymentInfo:
        parsed = parse_models(files)  # raises Invalid before anything is written
        compile_model_code(parsed, strict=True)
        check_bounds(parsed.forms)  # at deploy only: versions already deployed keep running as they are
        digest = content_hash(files)
        current = self.current(session)
        self._parsed_by_hash[digest] = parsed
        if current is not None and current.content_hash == digest:
            return _info(current, created=False)
        row = Deployment(
            version=(current.version + 1) if current else 1,
            content_hash=digest,
            author=author,
            comment=comment,
            created_at=now,
        )
        session.add(row)
        session.flush()
        for path, data in files.items():
            sha = hashlib.sha256(data).hexdigest()
            if session.get(Blob, sha) is None:
                session.add(Blob(sha256=sha, size=len(data), content=data))
            session.add(DeploymentFile(deployment_id=row.id, path=path, sha256=sha))
        return _info(row, created=True)

    def files(self, session: Session | Connection, deployment_id: int) -> dict[str, bytes]:
        rows = session.execute(
            select(DeploymentFile.path, Blob.content)
            .join(Blob, Blob.sha256 == DeploymentFile.sha256)
            .where(DeploymentFile.deployment_id == deployment_id)
        ).all()
        if not rows:
            raise NotFound(f"Deployment {deployment_id} does not exist",
                           code="deployment.not_found", params={"deployment_id": deployment_id})
        return dict(rows)

    def known(self, deployment_id: int) -> ParsedModels | None:
        """The parsed models of a deployment this store has already served, else None (no I/O)."""
        digest = self._hash_of.get(deployment_id)
        return None if digest is None else self._parsed_by_hash.get(digest)

    def models(self, session: Session | Connection, deployment_id: int, family: str | None = None) -> ParsedModels:
        """The parsed models of a deployment (``session``: an ORM session or a Core connection), of
        its process ``family`` (an instance's ``family``; None: the first, a porteur's application)."""
        digest = self._hash_of.get(deployment_id)
        if digest is None:
            digest = session.execute(
                select(Deployment.content_hash).where(Deployment.id == deployment_id)).scalar()
            if digest is None:
                raise NotFound(f"Deployment {deployment_id} does not exist",
                               code="deployment.not_found", params={"deployment_id": deployment_id})
            self._hash_of[deployment_id] = digest
        parsed = self._parsed_by_hash.get(digest)
        if parsed is None:
            # Its form schemas were checked when it was deployed and cannot have changed since;
            # a version deployed before models declared their contract runs under the old names.
            parsed = self._parsed_by_hash[digest] = parse_models(self.files(session, deployment_id),
                                                                 check_forms=False, undeclared=UNDECLARED)
            compile_model_code(parsed, strict=False)
        return parsed.family(family)

"""The ``migrate`` command on the engine: dossiers moved to another version (see :mod:`engine.migration`).

:func:`migrate_dossiers` checks every dossier asked for first, in read-only loads: one step that
the target version cannot take over refuses the whole request, naming each dossier and step, and
nothing is migrated. Then each dossier moves in its own transaction (checked again there, under
its lock), journaled with the process owner and the reason, and stored with its state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import select, update

from . import migration
from .clock import at
from .commands import Actor
from .errors import Conflict, Forbidden, Invalid, NotFound
from .persistence import instances
from .persistence.models import Deployment, Instance
from .roles import ADMIN, PROCESS_OWNER

MIGRATORS = frozenset({PROCESS_OWNER, ADMIN})


@dataclass
class MigrationReport:
    """What a migration did: the version reached and the dossiers moved (references)."""

    to_version: int
    migrated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # already on the target version


def _deployment(session, version: int) -> Deployment:
    row = session.scalars(select(Deployment).where(Deployment.version == version)).first()
    if row is None:
        raise NotFound(f"Version {version} does not exist", code="version.not_found", params={"version": version})
    return row


def _targets(session, refs: list[str] | None, from_version: int | None) -> list[tuple[int, str]]:
    """(id, ref) of the running dossiers asked for: by reference, or all of a version."""
    if bool(refs) == (from_version is not None):
        raise Invalid("Name the dossiers to migrate, or the version whose dossiers all move (not both)",
                      code="migration.selection")
    if refs:
        if len(refs) > migration.MAX_DOSSIERS:
            raise Invalid(f"At most {migration.MAX_DOSSIERS} dossiers per migration",
                          code="migration.too_many", params={"max": migration.MAX_DOSSIERS})
        wanted = list(dict.fromkeys(refs))
        rows = dict(session.execute(select(Instance.ref, Instance.id).where(Instance.ref.in_(wanted))).all())
        missing = [ref for ref in wanted if ref not in rows]
        if missing:
            raise NotFound(f"No dossier {', '.join(missing)}", code="migration.dossier_not_found",
                           params={"refs": ", ".join(missing)})
        status = dict(session.execute(select(Instance.ref, Instance.status).where(Instance.ref.in_(wanted))).all())
        closed = [ref for ref in wanted if status[ref] != "running"]
        if closed:
            raise Conflict(f"Closed dossiers stay on their version: {', '.join(closed)}",
                           code="migration.dossier_closed", params={"refs": ", ".join(closed)})
        return [(rows[ref], ref) for ref in wanted]
    source = _deployment(session, from_version)
    found = session.execute(select(Instance.id, Instance.ref).where(
        Instance.deployment_id == source.id, Instance.status == "running").order_by(Instance.id)
        .limit(migration.MAX_DOSSIERS + 1)).all()
    if len(found) > migration.MAX_DOSSIERS:
        raise Invalid(f"At most {migration.MAX_DOSSIERS} dossiers per migration",
                      code="migration.too_many", params={"max": migration.MAX_DOSSIERS})
    return [(row.id, row.ref) for row in found]


def migrate_dossiers(engine, actor: Actor, to_version: int, *, reason: str, refs: list[str] | None = None,
                     from_version: int | None = None, dry_run: bool = False) -> MigrationReport:
    """Move the running dossiers ``refs`` (or all those of ``from_version``) to ``to_version``."""
    if not actor.roles & MIGRATORS:
        raise Forbidden("Only process owners migrate dossiers", code="migration.forbidden")
    reason = migration.clean_reason(reason)
    with engine.db.sessions() as session:
        target = _deployment(session, to_version)
        target_id = target.id
        chosen = _targets(session, refs, from_version)
    report = MigrationReport(to_version)
    problems = []
    for instance_id, ref in chosen:
        with engine.db.engine.connect() as connection:
            instance = instances.fetch(connection, instance_id)
            if instance.deployment_id == target_id:
                report.unchanged.append(ref)
                continue
            state = engine._deserialize(connection, instance)
            old, new = _models(engine, connection, instance, target_id, to_version)
        found = migration.incompatibilities(state.wf, old, new)
        if found:
            problems.append((ref, found))
    if problems:
        text = " | ".join(f"{ref}: " + "; ".join(item.describe() for item in found) for ref, found in problems)
        raise Invalid(f"Nothing was migrated. These steps cannot move to version {to_version}: {text}",
                      code="migration.incompatible", params={"steps": text, "version": to_version})
    if dry_run:
        report.migrated = [ref for _, ref in chosen if ref not in report.unchanged]
        return report
    for instance_id, ref in chosen:
        if ref in report.unchanged:
            continue
        done = engine._transaction(instance_id, lambda connection, iid=instance_id: _migrate_one(
            engine, connection, iid, actor, target_id, to_version, reason), "migrate")
        engine._remember(*done)
        report.migrated.append(ref)
    return report


def _models(engine, connection, instance, target_id: int, to_version: int):
    """The models of the instance's process family on its version and on the target version;
    refused with the reason when the target version runs no such family."""
    old = engine.deployments.models(connection, instance.deployment_id, instance.family)
    try:
        new = engine.deployments.models(connection, target_id, instance.family)
    except Invalid as err:
        raise Invalid(f"Nothing was migrated. {instance.ref} is a {instance.family}: version {to_version} "
                      f"runs no such process family", code="migration.family_missing",
                      params={"ref": instance.ref, "family": instance.family, "version": to_version}) from err
    return old, new


def _migrate_one(engine, connection, instance_id: int, actor: Actor, target_id: int, to_version: int,
                 reason: str):
    instance = instances.fetch(connection, instance_id, lock=engine._row_locks)
    if instance is None or instance.status != "running":
        raise Conflict("This dossier is closed", code="dossier.closed", instance_id=instance_id)
    state = engine._load(connection, instance)
    old, new = _models(engine, connection, instance, target_id, to_version)
    found = migration.incompatibilities(state.wf, old, new)
    if found:
        raise migration.refuse(instance.ref, found)
    from_version = connection.scalar(select(Deployment.version).where(Deployment.id == instance.deployment_id))
    payload = {"from": instance.deployment_id, "to": target_id, "from_version": from_version,
               "to_version": to_version, "reason": reason}
    now = engine.clock.now()
    began = time.perf_counter()
    with at(now):
        migration.apply_migration(state, new)
    state.replay_ms += (time.perf_counter() - began) * 1000
    connection.execute(update(Instance).where(Instance.id == instance_id).values(deployment_id=target_id))
    instance.deployment_id = target_id  # the projections and contract of the new version from here
    engine._record(connection, instance, state, migration.MIGRATE, actor, now, payload)
    # A state stored with the entry: loads never replay across a change of specs.
    instance.state = engine.serializer.dumps(state.wf)
    instance.state_seq = instance.journal_seq
    instance.serializer_version = engine.serializer.version
    state.replay_ms = 0.0
    if not instances.write(connection, instance, True):
        raise Conflict("Someone else changed this dossier at the same time: reload it and try again",
                       code="dossier.concurrent", instance_id=instance_id)
    return instance, state


__all__ = ["MigrationReport", "migrate_dossiers"]

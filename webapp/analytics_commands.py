"""``dsdt analytics backfill``: the step spans of dossiers journaled before the projection existed
(migration 0012), rebuilt by replaying their journals; ``dsdt analytics show``: the figures of
:mod:`engine.analytics` as JSON (seconds), with the page's filters."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from engine import Analytics, AnalyticsFilter, EngineConfig, WorkflowEngine


def _engine(database: str | None) -> WorkflowEngine:
    config = EngineConfig.from_env()
    return WorkflowEngine.from_config(config.with_database(database) if database else config)


@click.group()
def analytics() -> None:
    """Process analytics: rebuild the step spans, print the figures."""


@analytics.command()
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def backfill(database: str | None) -> None:
    """Rebuild the step spans of every dossier that has none, from its journal."""
    engine = _engine(database)
    try:
        done = Analytics(engine).backfill()
    finally:
        engine.close()
    click.echo(f"step spans rebuilt for {done} dossier(s)")


@analytics.command()
@click.option("--campaign", help="Campaign code.")
@click.option("--epci", help="EPCI code.")
@click.option("--version", type=click.IntRange(1), help="Process version.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def show(campaign: str | None, epci: str | None, version: int | None, database: str | None) -> None:
    """Print the counts per outcome, the lifecycle and each step's figures as JSON (seconds)."""
    engine = _engine(database)
    try:
        result = Analytics(engine).compute(AnalyticsFilter(campaign=campaign, epci=epci, version=version))
    finally:
        engine.close()
    click.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))

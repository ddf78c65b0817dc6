"""Replay's audit (``verify``) reports what it cannot check and goes on with the other dossiers."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import text

from engine.deployments import DeploymentStore
from tests.factories import PORTEUR, Walker
from webapp.cli import main


def _break_main_process_of(engine, deployment_id: int) -> None:
    """Rewrite that deployment's main BPMN so it no longer holds the main process."""
    select_file = ("SELECT f.sha256, b.content FROM deployment_file f JOIN blob b ON b.sha256 = f.sha256 "
                   "WHERE f.deployment_id = :d AND f.path = 'processes/dsdt_candidature.bpmn'")
    with engine.db.engine.begin() as connection:
        sha, content = connection.execute(text(select_file), {"d": deployment_id}).one()
        renamed = bytes(content).replace(b'id="dsdt_candidature"', b'id="autre_processus"')
        connection.execute(text("UPDATE blob SET content = :c WHERE sha256 = :s"), {"c": renamed, "s": sha})
    DeploymentStore.forget_parsed()  # as a fresh `dsdt verify` process: it parses what is stored


def test_verify_reports_a_dossier_whose_process_cannot_be_loaded_and_goes_on(engine, clock, models):
    walker = Walker(engine, clock)
    lost = walker.start()
    walker.do(lost, "contact", epci="CAB")
    main_bpmn = models / "processes" / "dsdt_candidature.bpmn"
    main_bpmn.write_bytes(main_bpmn.read_bytes() + b"\n<!-- v2 -->\n")  # v2: a blob of its own
    assert engine.deploy_directory(models, author="tests").created
    kept = walker.start(PORTEUR)
    walker.do(kept, "contact", epci="CAB")
    _break_main_process_of(engine, engine.instance(lost).deployment_id)

    report = engine.verify()
    assert (report.instances, report.verified) == (2, 1)
    assert [item["instance"] for item in report.diverged] == [lost]
    assert "dsdt_candidature" in report.diverged[0]["problem"]
    assert f"deployment {engine.instance(lost).deployment_id}" in report.diverged[0]["problem"]

    result = CliRunner().invoke(main, ["verify", "--database", engine.db.url])
    assert result.exit_code == 1, result.output  # diverged, not "verification failed" (2)
    assert "1/2 instances verified" in result.output
    assert f"(instance {lost})" in result.output and "dsdt_candidature" in result.output

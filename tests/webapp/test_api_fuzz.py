"""Schemathesis against /api/openapi.json, in process: requests generated from the document (valid
ones, and invalid ones in negative mode), for a staff token and a porteur token, must never get a
server error, and every answer must match what the document declares for it.

The number of examples is bounded and the generation derandomized, so a run takes the same time
and finds the same things on every machine (CI included). The run has its own database: the
commands it sends (claims, withdrawals) must not change the demo data other tests read.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine import EngineConfig, WorkflowEngine
from webapp import create_app, demo
from webapp.services import build

from .conftest import NOW, ROOT

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, clock):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    demo.seed(build({}, eng), ROOT, NOW.date(), history=0, log=lambda *_: None)
    yield create_app({"TESTING": False, "SECRET_KEY": "fuzz", "DSDT_ENGINE": eng})
    eng.close()


def _real_targets(services) -> list[tuple[int, str]]:
    """(dossier id, open task ref) pairs of dossiers the demo has, so generated calls also reach
    real dossiers and tasks rather than only the 404 of random ids."""
    dossiers = services.queries.dossiers_of_porteur("porteur1") + services.queries.dossiers_of_porteur("porteur2")
    return [(d.id, step.task_ref) for d in dossiers for step in d.open_steps] or [(d.id, "x.0") for d in dossiers]


def _aimed(strategy, targets):
    """Half of the generated cases get a real dossier id (and task ref, where the path has one)."""

    def aim(pair):
        case, target = pair
        if target is not None and case.path_parameters and "dossier_id" in case.path_parameters:
            case.path_parameters["dossier_id"] = target[0]
            if "ref" in case.path_parameters:
                case.path_parameters["ref"] = target[1]
        return case

    return st.tuples(strategy, st.none() | st.sampled_from(targets)).map(aim)


def _fuzz(app, headers: dict, targets) -> dict[str, str]:
    """Run every operation of the document in both generation modes; the failures, by operation.

    Schemathesis' pytest loader (``from_fixture``) does not run under pytest 9, so the document's
    strategies are driven with Hypothesis directly, one operation and mode at a time.
    """
    failures: dict[str, str] = {}
    for result in schemathesis.openapi.from_wsgi("/api/openapi.json", app).get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=_aimed(operation.as_strategy(generation_mode=mode), targets))
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                check()
            except Exception as err:  # noqa: BLE001 - collected, then reported all together below
                failures[f"{operation.label} ({mode.value})"] = str(err)
    return failures


@pytest.mark.parametrize("login", ["instructeur1", "porteur1"])
def test_generated_requests_never_get_a_server_error(fuzz_app, login):
    services = fuzz_app.extensions["dsdt"]
    headers = {"Authorization": f"Bearer {services.accounts.create_token(login, 'fuzz')}"}
    failures = _fuzz(fuzz_app, headers, _real_targets(services))
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())

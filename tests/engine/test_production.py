"""Running the engine as a real service (issue 12): model files with a DTD refused, the schema
migrated once under a lock, one lock order for commands and timer workers, transient database
errors retried or answered as "unavailable", stale connections replaced.

The PostgreSQL tests run against the server ``DSDT_TEST_POSTGRES_URL`` names (CI starts one);
each ends with a full ``verify``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Invalid, read_model_files
from engine.bpmn.parser import parse_models

ROOT = Path(__file__).resolve().parents[2]
CONTACT = "processes/phase_contact.bpmn"
SCRIPT_LINE = 'titre_projet = contact["titre_projet"]'


def _with_doctype(files: dict[str, bytes], name: str, doctype: str, replace: tuple[str, str] | None = None):
    text = files[name].decode()
    declaration, rest = text.split("\n", 1)
    if replace:
        assert replace[0] in rest
        rest = rest.replace(replace[0], replace[1])
    return {**files, name: f"{declaration}\n{doctype}\n{rest}".encode()}


BILLION_LAUGHS = (
    '<!DOCTYPE bpmn:definitions [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    + "]>"
)


@pytest.mark.parametrize("doctype, replace", [
    # An internal entity: before the fix, lxml kept the reference unresolved and the text at it
    # vanished, so the second line of the script was silently dropped.
    ('<!DOCTYPE bpmn:definitions [<!ENTITY titre \'titre_projet = contact["titre_projet"]\'>]>',
     (SCRIPT_LINE, "&titre;")),
    ('<!DOCTYPE bpmn:definitions SYSTEM "file:///etc/passwd">', None),
    ('<!DOCTYPE bpmn:definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>', ("Retenir l'EPCI", "&secret;")),
    (BILLION_LAUGHS, ("Retenir l'EPCI", "&lol9;")),
    ("<!DOCTYPE bpmn:definitions>", None),
], ids=["internal-entity", "external-dtd", "external-entity", "billion-laughs", "bare-doctype"])
def test_a_bpmn_file_with_a_doctype_is_refused_naming_the_file(doctype, replace):
    files = _with_doctype(read_model_files(ROOT), CONTACT, doctype, replace)
    with pytest.raises(Invalid) as caught:
        parse_models(files, check_forms=False)
    assert caught.value.file == CONTACT
    assert "DOCTYPE" in str(caught.value) and CONTACT in caught.value.params["detail"]


def test_a_dmn_file_with_a_doctype_is_refused_naming_the_file():
    name = "processes/avis_jury.dmn"
    files = _with_doctype(read_model_files(ROOT), name, "<!DOCTYPE definitions [<!ENTITY x 'y'>]>")
    with pytest.raises(Invalid) as caught:
        parse_models(files, check_forms=False)
    assert caught.value.file == name and "DOCTYPE" in str(caught.value)


def test_deploy_refuses_a_doctype_and_the_current_version_stays(bare_engine):
    first = bare_engine.deploy_directory(ROOT, author="tests")
    files = _with_doctype(read_model_files(ROOT), CONTACT, "<!DOCTYPE bpmn:definitions [<!ENTITY a 'b'>]>")
    with pytest.raises(Invalid, match="DOCTYPE"):
        bare_engine.deploy(files, author="tests")
    with bare_engine.db.engine.connect() as connection:
        assert bare_engine.deployments.current_id(connection) == first.id


def test_the_models_without_a_doctype_still_parse():
    assert parse_models(read_model_files(ROOT), check_forms=False)

"""engine.model_archive: export and import of model files, and the bad input import refuses."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from engine import Invalid
from engine.deployments import read_model_files
from engine.model_archive import export_zip, import_upload
from engine.model_drafts import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "tests" / "data" / "lint"
VENDOR = (b'<camunda:vendorThing xmlns:camunda="http://camunda.org/schema/1.0/bpmn" camunda:x="1">'
          b'<odd a="b"/></camunda:vendorThing>')


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_the_real_model_round_trips_byte_for_byte_with_unknown_extensions():
    files = read_model_files(ROOT)
    bpmn = "processes/phase_jury.bpmn"
    files[bpmn] = files[bpmn].replace(b"<bpmn:extensionElements>", b"<bpmn:extensionElements>" + VENDOR, 1)
    files[bpmn] = files[bpmn].replace(b'<bpmn:process id="',
                                      b'<bpmn:process xmlns:v="urn:vendor" v:colour="red" id="', 1)
    back = import_upload([("export.zip", export_zip(files))])
    assert back == files  # semantic elements, DI bounds, extensions: every byte
    assert export_zip(back) == export_zip(files)


def test_single_files_and_bare_names_go_to_processes_and_forms():
    ok = read_model_files(LINT / "ok")
    uploads = [(path.rsplit("/", 1)[-1], data) for path, data in ok.items()]
    assert import_upload(uploads) == ok


def test_a_collaboration_the_engine_cannot_run_is_imported():
    text = (b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            b'id="d" targetNamespace="x"><bpmn:collaboration id="c"><bpmn:participant id="p" name="Region"/>'
            b'</bpmn:collaboration></bpmn:definitions>')
    assert import_upload([("descriptif.bpmn", text)]) == {"processes/descriptif.bpmn": text}


@pytest.mark.parametrize("entries, symlink, words", [
    ({"../evil.bpmn": b"<x/>"}, None, ".."),
    ({"/etc/evil.bpmn": b"<x/>"}, None, "relative"),
    ({"processes\\evil.bpmn": b"<x/>"}, None, "relative"),
    ({}, "processes/lien.bpmn", "symbolic link"),
    ({"processes/bomb.bpmn": b"\0" * (MAX_FILE_BYTES + 10)}, None, "KiB"),
    ({"processes/ratio.bpmn": b" " * (MAX_FILE_BYTES - 10)}, None, "zip bomb"),
])
def test_a_dangerous_zip_is_refused(entries, symlink, words):
    with pytest.raises(Invalid) as caught:
        import_upload([("x.zip", _zip(entries, symlink))])
    assert words in str(caught.value) and caught.value.code == "model.import_refused"


@pytest.mark.parametrize("name, data, words", [
    ("mini.bpmn", b"<bpmn:definitions", "Malformed"),
    ("mini.bpmn", (LINT / "billion_laughs.bpmn").read_bytes(), "DOCTYPE"),
    ("mini.bpmn", (LINT / "external_entity.bpmn").read_bytes(), "DOCTYPE"),
    ("avis.schema.json", b'{"type": 12}', "JSON Schema"),
    ("avis.schema.json", b'{"type": ', "not JSON"),
    ("gros.bpmn", b" " * (MAX_FILE_BYTES + 1), "KiB"),
])
def test_an_unusable_file_is_refused(name, data, words):
    with pytest.raises(Invalid) as caught:
        import_upload([(name, data)])
    assert words in str(caught.value)


def test_a_script_importing_a_module_is_refused():
    ok = read_model_files(LINT / "ok")
    ok["processes/mini.bpmn"] = ok["processes/mini.bpmn"].replace(b"note = 1</bpmn:script>",
                                                                  b"import os\nnote = 1</bpmn:script>")
    with pytest.raises(Invalid) as caught:
        import_upload([("m.zip", export_zip(ok))])
    assert "calcul" in str(caught.value) and "import" in str(caught.value)

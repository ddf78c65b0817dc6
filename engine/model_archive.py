"""Import and export of model files: zips that open in bpmn.io and Camunda Modeler, and back.

Export writes each file's stored bytes unchanged (``processes/x.bpmn``, ``forms/x.schema.json``...),
so extension elements and vendor attributes this application does not know survive an import
and an export byte for byte: nothing is re-serialised. Import takes a zip or single files and
returns the file set for a draft, or :class:`~engine.errors.Invalid` (and nothing stored) for:

- a zip entry with an absolute path, ``..``, a backslash or a drive, or a symbolic link;
- a zip bomb: more than ``MAX_FILES`` entries, an entry over ``MAX_FILE_BYTES`` or all of them over
  ``MAX_DRAFT_BYTES`` once inflated (read up to the limit, never trusting the sizes the zip
  declares), or an entry compressed more than ``MAX_RATIO`` to one;
- malformed XML, a DOCTYPE (external entities, billion laughs), a form that is not JSON or not a
  JSON Schema, a script that imports a module (the rules of :func:`engine.bpmn.lint.lint_files`
  that make a file unusable).

What only deploy refuses (a collaboration without an executable process, a construct the engine
cannot run, a contract not held) is imported: the draft can be viewed, edited and exported.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import PurePosixPath

from .bpmn.lint import lint_files
from .errors import Invalid
from .model_drafts import MAX_DRAFT_BYTES, MAX_FILE_BYTES, MAX_FILES, check_files

__all__ = ["MAX_RATIO", "export_zip", "import_files", "import_upload"]

#: largest compression ratio of a zip entry (model files compress about 10:1).
MAX_RATIO = 200
#: lint rules that make a file unusable, refused at import (the others are deploy's business).
_REFUSED_AT_IMPORT = ("file-size", "file-count", "file-type", "xml", "form-json", "form-schema")
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # same files, same zip


def export_zip(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` under their paths, bytes unchanged, entries sorted and dated alike."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[path])
    return buffer.getvalue()


def _refuse(message: str, path: str | None = None) -> Invalid:
    detail = f"{path}: {message}" if path else message
    return Invalid(f"Import refused: {detail}", code="model.import_refused", params={"detail": detail}, file=path)


def model_path(name: str) -> str:
    """The draft path of an imported file name: ``processes/`` and ``forms/`` kept, a bare
    ``.bpmn``/``.dmn``/``contract.json`` put in ``processes/``, a bare form in ``forms/``."""
    pure = PurePosixPath(name)
    if name.startswith("/") or "\\" in name or ":" in name or ".." in pure.parts or not pure.parts:
        raise _refuse("a file name in an import is relative, without '..', '\\' or a drive", name[:200])
    parts = pure.parts[1:] if len(pure.parts) == 3 and pure.parts[1] in ("processes", "forms") else pure.parts
    if len(parts) == 2 and parts[0] in ("processes", "forms"):
        return "/".join(parts)
    if len(parts) != 1:
        raise _refuse("files sit at the top of the zip, or in processes/ and forms/", name[:200])
    base = parts[0]
    if base.endswith((".bpmn", ".dmn")) or base == "contract.json":
        return f"processes/{base}"
    return f"forms/{base}"


def _read_zip(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise _refuse(f"not a readable zip ({err})") from err
    if len(entries) > MAX_FILES + 50:  # a few folders and files skipped; refused before reading any
        raise _refuse(f"{len(entries)} entries; an import holds at most {MAX_FILES} files")
    files, total = {}, 0
    for entry in entries:
        mode = entry.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _refuse("a symbolic link is not a model file", entry.filename[:200])
        if entry.is_dir() or entry.filename.startswith("__MACOSX/"):
            continue  # nothing is extracted: a folder entry creates nothing
        path = model_path(entry.filename)
        if entry.file_size > MAX_FILE_BYTES:
            raise _refuse(f"{entry.file_size} bytes once inflated; a file is at most {MAX_FILE_BYTES // 1024} KiB",
                          path)
        if entry.compress_size and entry.file_size / entry.compress_size > MAX_RATIO:
            raise _refuse(f"compressed {entry.file_size // entry.compress_size} to 1: refused as a zip bomb", path)
        try:
            with archive.open(entry) as handle:
                content = handle.read(MAX_FILE_BYTES + 1)  # the declared size may lie
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as err:
            raise _refuse(f"cannot be read from the zip ({err})", path) from err
        total += len(content)
        if len(content) > MAX_FILE_BYTES or total > MAX_DRAFT_BYTES:
            raise _refuse(f"more than {MAX_FILE_BYTES // 1024} KiB per file or {MAX_DRAFT_BYTES // 1024} KiB in "
                          "all once inflated: refused as a zip bomb", path)
        if path in files:
            raise _refuse("two entries of the zip give this file", path)
        files[path] = content
    return files


def import_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` (draft paths → bytes) if every file is usable, else :class:`Invalid` naming the
    first unusable one (see the module docstring); the bytes are returned as given."""
    check_files(files)
    for problem in lint_files(files):
        imports = problem.rule == "script" and problem.params.get("detail") == "import"
        if problem.rule in _REFUSED_AT_IMPORT or imports:
            where = f"{problem.element_id}: " if problem.element_id else ""
            raise _refuse(where + problem.message, problem.file)
    return files


def import_upload(uploads: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """The file set of uploaded files (name, bytes): one zip, or single model files."""
    if len(uploads) == 1 and uploads[0][1][:4] == b"PK\x03\x04":
        return import_files(_read_zip(uploads[0][1]))
    if len(uploads) > MAX_FILES:
        raise _refuse(f"{len(uploads)} files; an import holds at most {MAX_FILES}")
    files = {}
    for name, data in uploads:
        path = model_path(PurePosixPath(name).name if "/" not in name else name)
        if len(data) > MAX_FILE_BYTES:
            raise _refuse(f"{len(data)} bytes; a file is at most {MAX_FILE_BYTES // 1024} KiB", path)
        files[path] = data
    return import_files(files)

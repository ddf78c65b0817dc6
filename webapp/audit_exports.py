"""The auditors' downloads (on the ``audit`` blueprint): the event log of a search's dossiers as
XES, OCEL 2.0 JSON or CSV for process-mining tools, and one dossier's archive (a zip: history,
journal chain, integrity proof with the seal covering it, attachments). See :mod:`engine.exports`.

The file is written to a spooled temporary file (in memory up to :data:`SPOOL_BYTES`, on disk
beyond) and sent once complete, so a refusal (too many dossiers: at most
``engine.exports.MAX_DOSSIERS``, checked before a byte is written) is a page, never a cut file.
"""

from __future__ import annotations

import tempfile

from flask import request, send_file
from flask_babel import gettext as _

from engine import Invalid, Sealer, exports

from .access import roles_required
from .audit import AUDIT_ROLES, _dossier, bp, parse_filter
from .services import services

#: bytes of an export kept in memory before it goes to a temporary file
SPOOL_BYTES = 8 * 1024 * 1024


def _send(produce, mimetype: str, filename: str):
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        produce(spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    response = send_file(spool, mimetype=mimetype, as_attachment=True, download_name=filename)
    response.call_on_close(spool.close)  # the server closes the response once sent
    return response


@bp.route("/export/<any(xes, ocel, csv):fmt>")
@roles_required(*AUDIT_ROLES)
def export_log(fmt: str):
    """The event log of every dossier the search (same arguments as the search page) finds."""
    flt, errors = parse_filter(request.args)
    if errors:
        raise Invalid(_("La recherche comporte des erreurs : corrigez-la avant d’exporter."))
    found = exports.Exports(services().engine)
    ids = found.dossier_ids(flt)  # beyond the limit: Invalid, a page that says to narrow the search
    mimetype, extension = exports.FORMATS[fmt]
    return _send(lambda out: found.write_log(fmt, ids, out), mimetype, f"dossiers-dsdt.{extension}")


@bp.route("/dossiers/<int:instance_id>/archive.zip")
@roles_required(*AUDIT_ROLES)
def archive(instance_id: int):
    """One dossier's archive for legal archiving."""
    dossier = _dossier(instance_id)
    engine = services().engine
    found = exports.Exports(engine, Sealer(engine.db, engine.clock))
    return _send(lambda out: found.archive(instance_id, out), "application/zip", f"archive-{dossier.ref}.zip")

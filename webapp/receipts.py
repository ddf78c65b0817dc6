"""Récépissés de dépôt: a printable PDF of one porteur submission (WeasyPrint), for the pages and the API.

The engine reads what the journal recorded (:class:`engine.Receipts`); this module only decides
who may have it (anyone who may see the dossier: its porteur, the members of their association,
staff in its scope, as :func:`webapp.access.load_dossier_or_404` and the API's
``dossier_in_scope`` decide) and lays it out. WeasyPrint is given a fetcher that refuses every
URL: the receipt's HTML is ours and self-contained, and data typed by a porteur must never make
the server fetch anything.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from engine import Receipt, Receipts, TimelineEntry

from .access import load_dossier_or_404, login_required
from .services import services

bp = Blueprint("receipts", __name__, url_prefix="/dossiers")


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"the receipt fetches nothing ({url[:80]})")


def read(instance_id: int, seq: int | None) -> Receipt:
    """The receipt of the submission at ``seq`` (the latest one when None)."""
    return Receipts(services().queries).receipt(instance_id, seq)


def pdf(receipt: Receipt) -> bytes:
    """The receipt laid out as a PDF (A4), in the language of the request."""
    from weasyprint import HTML  # imported on use: it loads Pango, which a worker never needs

    html = render_template("dossiers/receipt.html", receipt=receipt)
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()


def response(receipt: Receipt) -> Response:
    """The PDF as a download named after the dossier and the journal entry."""
    name = f"recepisse-{receipt.ref}-{receipt.seq}.pdf"
    return Response(
        pdf(receipt),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def submissions(dossier, timeline: list[TimelineEntry]) -> list[TimelineEntry]:
    """The porteur's submissions in a dossier's timeline (each has a receipt), latest first."""
    porteur_steps = services().queries.contract(dossier.deployment_id).porteur_steps
    return [entry for entry in reversed(timeline) if entry.command == "complete" and entry.bpmn_id in porteur_steps]


@bp.route("/<int:instance_id>/recepisse")
@bp.route("/<int:instance_id>/recepisse/<int:seq>")
@login_required
def download(instance_id: int, seq: int | None = None):
    """The receipt of the latest submission, or of the one journaled at ``seq``; 404 when none."""
    load_dossier_or_404(instance_id)
    return response(read(instance_id, seq))

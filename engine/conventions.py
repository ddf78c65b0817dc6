"""The Région–EPCI DSDT convention: a second process family, and the priorities it sets.

A convention (``processes/convention_dsdt.bpmn``, family ``convention`` of the contract) is
started for one EPCI by a regional officer (instructeur) or a technician of that EPCI, and runs
on the same engine, journal, inbox, audit and verify as the dossiers. Once signed, its data holds
the priorities it sets (the contract's ``fields.priorities``): the priorities a campaign offers
that EPCI's porteurs are read from there at a dossier's start, not typed a second time into the
campaign (:func:`offered_priorities`).

An EPCI with no convention in force: a campaign whose data sets ``"priorites_par_convention":
true`` (:data:`STRICT`) offers it no priority at all, and the fiche says why (the form field's
``x-options-empty``, :mod:`engine.form_options`), so that no dossier is examined against
priorities nobody signed. A campaign without that flag, typed before conventions existed, keeps
offering such an EPCI the priorities of its campaign data, as a transition.
"""

from __future__ import annotations

import copy

from sqlalchemy import select

from . import campaigns
from .commands import Actor
from .errors import Conflict, Forbidden, Invalid
from .persistence.models import Instance
from .roles import INSTRUCTEUR, TECHNICIEN_EPCI

FAMILY = "convention"
#: the campaign data flag: only the priorities of a signed convention are offered
STRICT = "priorites_par_convention"
#: at most this many running conventions per EPCI are read for the signed priorities
_SCAN = 20


def _campaign(engine, code: str) -> campaigns.CampaignRow:
    with engine.db.engine.connect() as connection:
        return campaigns.get(connection, code)


def reference(campaign_code: str, family: str | None, instance_id: int) -> str:
    """An instance's reference: ``DSDT-2014-00012`` for an application, ``DSDT-2014-CONV-00013``
    for an instance of another family."""
    if family is None:
        return f"{campaign_code}-{instance_id:05d}"
    return f"{campaign_code}-{family[:4].upper()}-{instance_id:05d}"


def start_convention(engine, actor: Actor, campaign_code: str, epci: str) -> int:
    """Open the convention of ``epci`` in a campaign; returns the instance id.

    A regional officer may open any EPCI's, a technician of the EPCI only their own. An EPCI has
    at most one convention under negotiation (not signed yet); a new convention may be negotiated
    while a signed one is in force (a renewal: the signed one stays offered until the new one is
    signed, and a review then ends it), and a signed one is amended by avenant.
    """
    if not (actor.has(INSTRUCTEUR) or (actor.has(TECHNICIEN_EPCI) and epci in actor.epci)):
        raise Forbidden("Only a regional officer or a technician of this EPCI can open its convention",
                        code="convention.start_forbidden", params={"epci": epci})
    campaign = _campaign(engine, campaign_code)
    if epci not in (campaign.data.get("epci") or {}):
        raise Invalid(f"The EPCI {epci!r} does not take part in the campaign {campaign_code}",
                      code="convention.unknown_epci", params={"epci": epci, "campaign": campaign_code},
                      errors={"epci": ["unknown"]})
    negotiated = _running(engine, [epci], signed=False)
    if negotiated:
        ref = negotiated[0][1]
        raise Conflict(f"The EPCI {epci} already has a convention under negotiation ({ref})",
                       code="convention.already_running", params={"epci": epci, "ref": ref})
    return engine.start_instance(actor, campaign_code, FAMILY, epci)


def _running(engine, epcis: list[str], signed: bool) -> list[tuple[int, str, str, list[str]]]:
    """``(id, reference, EPCI, priorities)`` of the running conventions of ``epcis``, newest
    first: the signed ones (their priorities field set) or the others."""
    if not epcis:
        return []
    with engine.db.sessions() as session:
        rows = session.execute(
            select(Instance.id, Instance.ref, Instance.epci, Instance.deployment_id).where(
                Instance.family == FAMILY, Instance.epci.in_(epcis), Instance.status == "running")
            .order_by(Instance.id.desc()).limit(_SCAN * len(epcis))).all()
        deployments = engine.deployments
        fields = {deployment_id: deployments.models(session, deployment_id, FAMILY).contract.fields.get("priorities")
                  for deployment_id in {row.deployment_id for row in rows}}
    found = []
    for row in rows:
        name = fields[row.deployment_id]
        priorities = list(engine.data(row.id).get(name) or []) if name else []
        if bool(priorities) == signed:
            found.append((row.id, row.ref, row.epci, priorities))
    return found


def _in_force(engine, epcis: list[str]) -> dict[str, tuple[str, list[str]]]:
    """EPCI → ``(reference, priorities)`` of its convention in force (running and signed; the
    newest if several), for the EPCI of ``epcis`` that have one."""
    found: dict[str, tuple[str, list[str]]] = {}
    for _id, ref, epci, priorities in _running(engine, epcis, signed=True):
        found.setdefault(epci, (ref, priorities))
    return found


def signed_convention(engine, epci: str) -> tuple[str, list[str]] | None:
    """``(reference, priorities)`` of the convention in force for ``epci``, or None."""
    return _in_force(engine, [epci]).get(epci)


def offered_priorities(engine, campaign_code: str) -> dict[str, dict]:
    """EPCI code → ``{"priorites": […], "convention": ref}`` for each EPCI of the campaign whose
    convention is signed: what a dossier of that campaign starting now is offered; in a
    :data:`STRICT` campaign, ``{"priorites": [], "convention": None}`` for the others."""
    campaign = _campaign(engine, campaign_code)
    epcis = sorted(campaign.data.get("epci") or {})
    found = _in_force(engine, epcis)
    offered = {epci: {"priorites": priorities, "convention": ref} for epci, (ref, priorities) in sorted(found.items())}
    if campaign.data.get(STRICT) is True:  # no signed convention: no priority offered
        offered.update({epci: {"priorites": [], "convention": None} for epci in epcis if epci not in found})
    return offered


def with_priorities(snapshot: dict, offered: dict[str, dict] | None) -> dict:
    """The campaign snapshot a dossier starts with, each EPCI under convention carrying the
    priorities of its signed convention (and its reference) instead of the campaign's."""
    if not offered:
        return snapshot
    snapshot = copy.deepcopy(snapshot)
    for epci, convention in offered.items():
        if epci in snapshot.get("epci", {}):
            snapshot["epci"][epci] = {**snapshot["epci"][epci], **convention}
    return snapshot

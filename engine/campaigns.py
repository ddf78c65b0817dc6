"""Campaigns: one call for projects each, with its deadlines, EPCI and priorities (juries: engine.juries).

The 2014-2015 campaign of the DSDT call is the seed data; a second, open campaign has the same
calendar shape moved into the future so the demo can be worked in. Deadlines close at 23:59
Europe/Paris.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from . import juries
from .errors import Invalid, NotFound
from .persistence.models import Campaign
from .persistence.raw import RawStatement

PARIS = ZoneInfo("Europe/Paris")

EPCI = {
    "CAB": {
        "nom": "CA du Boulonnais",
        "priorites": ["jeunesse", "citoyenneté", "participation des habitants"],
    },
    "CAAC": {
        "nom": "CA Artois-Comm",
        "priorites": [
            "renouvellement urbain",
            "participation des habitants",
            "développement économique lié au social",
            "santé",
        ],
    },
    "CAVM": {
        "nom": "CA Valenciennes Métropole",
        "priorites": ["citoyenneté", "jeunesse", "lutte contre la précarité énergétique", "santé"],
    },
}

#: Processing times of the staff steps, in days from the step's opening (common practice): the
#: step's due date in the inboxes. Campaign data, so each call may set its own; a step not listed
#: has no due date unless a timer gives it one.
DELAIS_TRAITEMENT = {
    "avis_commune": 10,
    "verification_contact": 10,
    "adequation_epci": 15,
    "recevabilite": 21,
    "examen_territorial": 21,
    "examen_regional": 21,
    "confirmation_president": 10,
    "reconstitution_jury": 15,
    "commission_permanente": 45,
    "redaction_convention": 30,
    "signature_region": 15,
    "notification_convention": 10,
    # the Région–EPCI DSDT convention (processes/convention_dsdt.bpmn)
    "conv_projet_territoire": 30,
    "conv_diagnostic": 30,
    "conv_proposition": 30,
    "conv_examen": 21,
    "conv_deliberation_epci": 60,
    "conv_vote_cp": 60,
    "conv_signature_epci": 15,
    "conv_signature_region": 15,
    "conv_revue": 365,
}
#: the longest processing time a campaign may set, in days
MAX_DELAI_TRAITEMENT = 366


def service_days(campaign: dict) -> dict[str, int]:
    """The processing times (days by step) of a campaign snapshot; ``{}`` for one that sets none."""
    found = campaign.get("delais_traitement") if isinstance(campaign, dict) else None
    return found if isinstance(found, dict) else {}


def _check_service_days(code: str, data: dict) -> None:
    found = data.get("delais_traitement", {})
    if not isinstance(found, dict) or not all(
        isinstance(step, str) and type(days) is int and 1 <= days <= MAX_DELAI_TRAITEMENT
        for step, days in found.items()
    ):
        raise Invalid(f"Campaign {code}: delais_traitement must map step ids to whole days from 1 to "
                      f"{MAX_DELAI_TRAITEMENT}", code="campaign.bad_delay",
                      params={"campaign": code, "max": MAX_DELAI_TRAITEMENT})


def deadline(day: date) -> str:
    """ISO instant of 23:59 Europe/Paris on ``day``."""
    return datetime.combine(day, time(23, 59), PARIS).isoformat()


def campaign_data(fiche: date, dossier: date) -> dict:
    return {
        "date_limite_fiche": deadline(fiche),
        "date_limite_dossier": deadline(dossier),
        "epci": EPCI,
        "delais_traitement": DELAIS_TRAITEMENT,
    }


def historical_campaign() -> tuple[str, str, dict]:
    return "DSDT-2014", "DSDT 2014-2015", campaign_data(date(2014, 12, 1), date(2015, 1, 23))


def open_campaign(today: date) -> tuple[str, str, dict]:
    """The same calendar shape as 2014-2015 (54 days between the deadlines), starting 5 weeks on."""
    fiche = today + timedelta(weeks=5)
    return (
        f"DSDT-{fiche.year}",
        f"DSDT {fiche.year}-{fiche.year + 1}",
        campaign_data(fiche, fiche + timedelta(days=53)),
    )


def upsert(session: Session, code: str, libelle: str, data: dict, is_open: bool = True) -> Campaign:
    for key in ("date_limite_fiche", "date_limite_dossier"):
        try:
            when = datetime.fromisoformat(data[key])
        except (KeyError, TypeError, ValueError) as err:
            raise Invalid(f"Campaign {code}: {key} must be an ISO date-time with its zone",
                          code="campaign.bad_date", params={"campaign": code, "key": key}) from err
        if when.tzinfo is None:
            raise Invalid(f"Campaign {code}: {key} needs a time zone",
                          code="campaign.bad_date", params={"campaign": code, "key": key})
    _check_service_days(code, data)
    if "jurys" in data:
        raise Invalid(f"Campaign {code}: juries are data of their own (engine.juries), not campaign data",
                      code="campaign.juries_are_data", params={"campaign": code})
    row = session.get(Campaign, code)
    if row is None:
        row = Campaign(code=code, libelle=libelle, data=data, is_open=is_open)
        session.add(row)
    else:
        row.libelle, row.data, row.is_open = libelle, data, is_open
    session.flush()
    # Campaign setup schedules the jury sessions the campaign lacks and checks the regional jury.
    juries.schedule(session.connection(), code, datetime.fromisoformat(data["date_limite_dossier"]).date())
    return row


@dataclass(frozen=True)
class CampaignRow:
    code: str
    libelle: str
    data: dict
    is_open: bool


_TABLE = Campaign.__table__
_GET = RawStatement("SELECT code, libelle, data, is_open FROM campaign WHERE code = :code",
                    {"code": _TABLE.c.code}, [_TABLE.c.code, _TABLE.c.libelle, _TABLE.c.data, _TABLE.c.is_open])


def get(connection: Connection, code: str) -> CampaignRow:
    """The campaign's row (a raw read: every application's start reads it), its data with the
    juries sitting for it (``jurys``: :func:`engine.juries.snapshot`, the one source of truth of
    who examines its dossiers, journaled with each start)."""
    row = _GET.first(connection, {"code": code})
    if row is None:
        raise NotFound(f"Campaign {code} does not exist", code="campaign.not_found", params={"campaign": code})
    code_, libelle, data, is_open = row
    return CampaignRow(code_, libelle, {**data, "jurys": juries.snapshot(connection, code)}, is_open)


def snapshot(row: CampaignRow) -> dict:
    """The campaign data an instance starts with (journaled with its start command)."""
    return {"code": row.code, "libelle": row.libelle, **row.data}

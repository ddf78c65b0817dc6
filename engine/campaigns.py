"""Campaigns: one call for projects each, with its deadlines, EPCI, priorities and jury sessions.

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

#: Jury sessions of the demo. Artois-Comm has no territorial jury constituted: its dossiers go to
#: the regional jury, as the call foresees.
JURYS = {
    "territoriaux": {
        "CAB": {
            "president": "jury.cab.president",
            "quorum": 3,
            "membres": ["jury.cab.president", "jury.cab.elu1", "jury.cab.elu2", "jury.region.elu1"],
        },
        "CAVM": {
            "president": "jury.cavm.president",
            "quorum": 3,
            "membres": ["jury.cavm.president", "jury.cavm.elu1", "jury.cavm.elu2", "jury.region.elu2"],
        },
    },
    "regional": {
        "president": "jury.region.president",
        "quorum": 2,
        "membres": ["jury.region.president", "jury.region.elu1", "jury.region.elu2"],
    },
}


def deadline(day: date) -> str:
    """ISO instant of 23:59 Europe/Paris on ``day``."""
    return datetime.combine(day, time(23, 59), PARIS).isoformat()


def campaign_data(fiche: date, dossier: date) -> dict:
    return {
        "date_limite_fiche": deadline(fiche),
        "date_limite_dossier": deadline(dossier),
        "epci": EPCI,
        "jurys": JURYS,
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
    row = session.get(Campaign, code)
    if row is None:
        row = Campaign(code=code, libelle=libelle, data=data, is_open=is_open)
        session.add(row)
    else:
        row.libelle, row.data, row.is_open = libelle, data, is_open
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
    """The campaign's row (a raw read: every application's start reads it)."""
    row = _GET.first(connection, {"code": code})
    if row is None:
        raise NotFound(f"Campaign {code} does not exist", code="campaign.not_found", params={"campaign": code})
    return CampaignRow(*row)


def snapshot(row: CampaignRow) -> dict:
    """The campaign data an instance starts with (journaled with its start command)."""
    return {"code": row.code, "libelle": row.libelle, **row.data}

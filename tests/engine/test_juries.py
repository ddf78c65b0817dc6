"""Juries as data (engine.juries, engine.jury_admin): the composition rule, members in term on
the session date, campaign setup scheduling sessions, and the start journaling who sits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine import Invalid, JuryAdmin, campaigns_api, juries
from engine.juries import ELU_INTERCOMMUNAL, ELU_REGIONAL, REGIONAL, TERRITORIAL, JuryRow, Seat
from engine.queries import Queries

from ..factories import CAMPAIGN, PORTEUR

DAY = date(2015, 3, 6)


def seat(n: int, kind: str, epci: str | None = None, president: bool = False,
         start: date = date(2014, 4, 1), end: date | None = None) -> Seat:
    return Seat(n, "J", f"elu{n}", f"Élu {n}", kind, epci, president, start, end)


TERR = JuryRow("J", TERRITORIAL, "CAB", "Jury", 2)
REG = JuryRow("J", REGIONAL, None, "Jury régional", 2)


def codes(jury, seats, quorum=2):
    return [code for code, _params in juries.composition_errors(jury, seats, quorum)]


def test_a_territorial_jury_with_both_kinds_may_sit():
    assert codes(TERR, [seat(1, ELU_INTERCOMMUNAL, "CAB", True), seat(2, ELU_REGIONAL)]) == []


@pytest.mark.parametrize(("seats", "expected"), [
    ([seat(1, ELU_INTERCOMMUNAL, "CAB", True), seat(2, ELU_INTERCOMMUNAL, "CAB")], ["jury.no_regional"]),
    ([seat(1, ELU_REGIONAL, None, True), seat(2, ELU_REGIONAL)], ["jury.no_intercommunal"]),
    ([seat(1, ELU_INTERCOMMUNAL, "CAB", True), seat(2, ELU_REGIONAL), seat(3, ELU_INTERCOMMUNAL, "CAVM")],
     ["jury.other_epci"]),
    ([seat(1, ELU_INTERCOMMUNAL, "CAB"), seat(2, ELU_REGIONAL)], ["jury.president"]),
    ([seat(1, ELU_INTERCOMMUNAL, "CAB", True), seat(2, ELU_REGIONAL, None, True)], ["jury.president"]),
])
def test_a_territorial_jury_breaking_the_rule_is_refused(seats, expected):
    assert codes(TERR, seats) == expected


def test_a_regional_jury_seats_only_regional_members():
    assert codes(REG, [seat(1, ELU_REGIONAL, None, True), seat(2, ELU_REGIONAL)]) == []
    assert codes(REG, [seat(1, ELU_REGIONAL, None, True), seat(2, ELU_INTERCOMMUNAL, "CAB")]) == ["jury.regional_only"]
    assert "jury.regional_only" in codes(REG, [])


def test_the_quorum_is_reachable():
    sitting = [seat(1, ELU_REGIONAL, None, True), seat(2, ELU_REGIONAL)]
    assert codes(REG, sitting, quorum=3) == ["jury.quorum"]
    assert codes(REG, sitting, quorum=0) == ["jury.quorum"]


@pytest.mark.parametrize(("start", "end", "sits"), [
    (DAY, None, True),                        # sworn in on the session day
    (DAY + timedelta(days=1), None, False),   # the day after
    (date(2014, 4, 1), DAY, True),            # term ends on the session day
    (date(2014, 4, 1), DAY - timedelta(days=1), False),
])
def test_members_sit_when_in_term_on_the_session_date(start, end, sits):
    assert seat(1, ELU_REGIONAL, start=start, end=end).in_term(DAY) is sits


def test_the_seeded_pilot_juries_sit_for_a_saved_campaign(engine):
    with engine.db.engine.connect() as connection:
        found = juries.snapshot(connection, CAMPAIGN)
        sessions = juries.sessions(connection, CAMPAIGN)
    assert sorted(found["territoriaux"]) == ["CAB", "CAVM"]  # Artois-Comm constituted none
    cab = found["territoriaux"]["CAB"]
    assert cab["membres"] == ["jury.cab.president", "jury.cab.elu1", "jury.cab.elu2", "jury.region.elu1"]
    assert (cab["president"], cab["quorum"]) == ("jury.cab.president", 3)
    assert found["regional"]["membres"] == ["jury.region.president", "jury.region.elu1", "jury.region.elu2"]
    # campaign setup scheduled one session per jury after the dossier deadline (23 January 2015)
    assert {s.jury_code: s.day for s in sessions} == {
        "TERR-CAB": date(2015, 3, 6), "TERR-CAVM": date(2015, 3, 6), "REGIONAL": date(2015, 3, 20)}


def test_the_start_journals_the_members_in_term_on_the_session_date(engine):
    admin = JuryAdmin(engine.db)
    _row, seats, sessions = admin.jury("TERR-CAB")
    day = sessions[0].day
    elu2 = next(s for s in seats if s.login == "jury.cab.elu2")
    admin.set_term_end(elu2.id, day - timedelta(days=1))   # left the day before the session
    admin.add_seat("TERR-CAB", login="jury.cab.elu3", full_name="Élue 3", kind=ELU_INTERCOMMUNAL, epci="CAB",
                   president=False, term_start=day, term_end=None)  # sworn in that day
    iid = engine.start(PORTEUR, CAMPAIGN)
    cab = Queries(engine).jury_sessions([iid])[iid]["territoriaux"]["CAB"]
    assert cab["membres"] == ["jury.cab.president", "jury.cab.elu1", "jury.region.elu1", "jury.cab.elu3"]
    assert cab["session"] == day.isoformat()


def test_a_change_breaking_a_session_is_refused_and_changes_nothing(engine):
    admin = JuryAdmin(engine.db)
    _row, seats, _sessions = admin.jury("TERR-CAB")
    regional = next(s for s in seats if s.kind == ELU_REGIONAL)
    with pytest.raises(Invalid) as refused:
        admin.remove_seat(regional.id)
    assert refused.value.code == "jury.no_regional"
    with pytest.raises(Invalid) as refused:
        admin.add_seat("REGIONAL", login="jury.cab.intrus", full_name="Intrus", kind=ELU_INTERCOMMUNAL, epci="CAB",
                       president=False, term_start=date(2014, 4, 1), term_end=None)
    assert refused.value.code == "jury.regional_only"
    with pytest.raises(Invalid) as refused:
        admin.set_session("TERR-CAB", CAMPAIGN, DAY, 9)
    assert refused.value.code == "jury.quorum"
    assert admin.jury("TERR-CAB")[1] == seats
    assert "jury.cab.intrus" not in [s.login for s in admin.jury("REGIONAL")[1]]


def test_bad_seats_are_refused_with_the_field(engine):
    admin = JuryAdmin(engine.db)
    with pytest.raises(Invalid) as refused:
        admin.add_seat("REGIONAL", login="x y", full_name="X", kind=ELU_REGIONAL, epci=None, president=False,
                       term_start=DAY, term_end=None)
    assert "login" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        admin.add_seat("REGIONAL", login="elu.x", full_name="X", kind=ELU_REGIONAL, epci="CAB", president=False,
                       term_start=DAY, term_end=None)
    assert refused.value.code == "jury.bad_epci"
    with pytest.raises(Invalid) as refused:
        admin.add_seat("REGIONAL", login="elu.x", full_name="X", kind=ELU_REGIONAL, epci=None, president=False,
                       term_start=DAY, term_end=DAY - timedelta(days=1))
    assert refused.value.code == "jury.bad_term"


def test_campaign_data_holds_no_jury(engine):
    code, libelle, data = campaigns_api.historical_campaign()
    assert "jurys" not in data
    with pytest.raises(Invalid) as refused:
        engine.save_campaign(code, libelle, {**data, "jurys": {}})
    assert refused.value.code == "campaign.juries_are_data"


def test_campaign_setup_refuses_a_regional_jury_that_cannot_sit(engine):
    admin = JuryAdmin(engine.db)
    president = next(s for s in admin.jury("REGIONAL")[1] if s.president)
    code, libelle, data = campaigns_api.open_campaign(date(2026, 1, 5))
    with engine.db.engine.begin() as connection:  # the seat ends before any new campaign's session
        connection.execute(juries.JuryMember.__table__.update().where(juries.JuryMember.id == president.id)
                           .values(term_end=date(2025, 12, 31)))
    with pytest.raises(Invalid) as refused:
        engine.save_campaign(code, libelle, data)
    assert refused.value.code == "jury.president"
    assert code not in [c.code for c in Queries(engine).campaigns()]

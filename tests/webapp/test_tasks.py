"""The task page, the porteur space and the inbox, through the test client."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from engine import Actor

from .conftest import AuthActions, choice_value, dossier_at, field_name

CONTACT = {
    "organisation": "Les Jardins du Portel",
    "siret": "12345678900012",
    "rna": "W123456789",
    "contact_nom": "Mme Martin",
    "contact_email": "martin@example.org",
    "commune": "Le Portel",
    "theme": "jardins partagés",
    "titre_projet": "Jardin partagé du quartier",
    "description": "Un jardin cultivé par les habitants et les jeunes du quartier.",
}


def _start(client, auth, services, porteur="porteur4"):
    auth.login(porteur)
    code = services.queries.campaigns(open_only=True)[0].code
    response = auth.post("/dossiers/nouveau", {"campagne": code})
    assert response.status_code == 302
    url = response.headers["Location"]
    assert "/etape/" in url
    return url


def _contact_form(page: str, overrides: dict | None = None) -> dict:
    values = {**CONTACT, **(overrides or {})}
    form = {field_name(page, key): value for key, value in values.items()}
    for key, value in (("statut_juridique", "association"), ("epci", "CAB")):
        name = field_name(page, key)
        form[name] = choice_value(page, name, value)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return {**form, "version": version, "action": "valider"}


def test_invalid_data_shows_field_errors_and_keeps_values(client, auth, services):
    url = _start(client, auth, services)
    page = client.get(url).get_data(as_text=True)
    form = _contact_form(page, {"siret": "123", "contact_email": "pas-un-courriel"})
    del form[field_name(page, "titre_projet")]
    response = auth.post(url, form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Les Jardins du Portel" in body  # what was typed is kept
    assert 'value="123"' in body
    for key in ("siret", "contact_email", "titre_projet"):
        # each wrong field carries its own message, linked to the control
        assert re.search(rf'id="[^"]*{key}-error"', body), key
        assert re.search(rf'aria-describedby="[^"]*{key}-error', body), key
    assert "aria-invalid" in body


def test_valid_completion_moves_the_dossier_on(client, auth, services):
    url = _start(client, auth, services)
    page = client.get(url).get_data(as_text=True)
    response = auth.post(url, _contact_form(page))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    instance_id = int(url.split("/")[2])
    dossier = services.queries.dossier(instance_id)
    assert [s.bpmn_id for s in dossier.open_steps] == ["avis_commune"]
    assert dossier.title == CONTACT["titre_projet"]


def test_stale_task_gives_a_clear_message(client, auth, services):
    url = _start(client, auth, services)
    page = client.get(url).get_data(as_text=True)
    form = _contact_form(page)
    instance_id, ref = int(url.split("/")[2]), url.split("/etape/")[1]
    # The same step is completed meanwhile (another tab, another device).
    services.engine.complete(
        Actor("porteur4", frozenset({"porteur"})),
        instance_id,
        ref,
        {**CONTACT, "statut_juridique": "association", "epci": "CAB"},
    )
    response = auth.post(url, form)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "n’est plus ouverte" in body and "Traceback" not in body
    assert client.get(url).status_code == 409


def test_draft_is_kept(client, auth, services):
    url = _start(client, auth, services)
    page = client.get(url).get_data(as_text=True)
    response = auth.post(url, {field_name(page, "organisation"): "Brouillon asso", "action": "brouillon"})
    assert response.status_code == 302
    assert "Brouillon asso" in client.get(url).get_data(as_text=True)


def test_withdraw(client, auth, services, make_dossier):
    instance_id = make_dossier("fiche", "CAVM", porteur="porteur2")
    auth.login("porteur2")
    empty = auth.post(f"/dossiers/{instance_id}/retrait", {"motif": "  "})
    assert empty.status_code == 302 and services.queries.dossier(instance_id).status == "running"
    response = auth.post(f"/dossiers/{instance_id}/retrait", {"motif": "Le local n'est plus disponible."})
    assert response.status_code == 302
    dossier = services.queries.dossier(instance_id)
    assert dossier.outcome == "abandonne" and "Le local n'est plus disponible." in dossier.reason
    page = client.get("/dossiers/").get_data(as_text=True)
    assert "Le local n&#39;est plus disponible." in page or "Le local n'est plus disponible." in page


def test_other_porteur_cannot_withdraw(client, auth, make_dossier, services):
    instance_id = make_dossier("fiche", "CAB", porteur="porteur3")
    auth.login("porteur1")
    assert auth.post(f"/dossiers/{instance_id}/retrait", {"motif": "pirate"}).status_code == 404
    assert services.queries.dossier(instance_id).status == "running"


def test_porteur_space_shows_what_is_expected(client, auth, services):
    auth.login("porteur1")
    body = client.get("/dossiers/").get_data(as_text=True)
    assert "Mes candidatures" in body and "À vous" in body


def test_inbox_lists_claims_and_delegates(client, auth, services, make_dossier):
    instance_id = make_dossier("recevabilite", "CAAC", porteur="porteur4")
    dossier = services.queries.dossier(instance_id)
    ref = dossier.open_steps[0].task_ref
    auth.login("instructeur1")
    page = client.get("/taches/?etape=recevabilite").get_data(as_text=True)
    assert dossier.ref in page
    assert auth.post(f"/taches/{instance_id}/prendre/{ref}").status_code == 302
    assert services.queries.dossier(instance_id).open_steps[0].claimed_by == "instructeur1"
    assert auth.post(f"/taches/{instance_id}/liberer/{ref}").status_code == 302
    assert services.queries.dossier(instance_id).open_steps[0].claimed_by is None
    assert auth.post(f"/taches/{instance_id}/deleguer/{ref}", {"collegue": "instructeur2"}).status_code == 302
    assert services.queries.dossier(instance_id).open_steps[0].claimed_by == "instructeur2"
    # Now claimed by a colleague: it leaves my inbox and its page tells me who has it.
    assert dossier.ref not in client.get("/taches/?etape=recevabilite").get_data(as_text=True)
    assert client.get(f"/dossiers/{instance_id}/etape/{ref}").status_code == 409


#: an inbox row: dossier reference, step name, EPCI
_INBOX_ROW = re.compile(
    r'<tr class="[^"]*">\s*<td>.*?</td>\s*<td><a [^>]*>([^<]+)</a>.*?</td>\s*<td><a [^>]*>([^<]+)</a></td>\s*'
    r"<td>([^<]*)</td>",
    re.S,
)


def test_inbox_filters(client, auth, services, make_dossier):
    refs = {}
    for step, epci in (("verification_contact", "CAB"), ("adequation_epci", "CAB"), ("adequation_epci", "CAVM")):
        refs[step, epci] = services.queries.dossier(make_dossier(step, epci)).ref
    auth.login("tech.epci.cab")

    def listed(query: str = "") -> dict[str, tuple[str, str]]:
        response = client.get(f"/taches/{query}")
        assert response.status_code == 200
        return {ref: (step, epci) for ref, step, epci in _INBOX_ROW.findall(response.get_data(as_text=True))}

    everything = listed()
    assert {refs["verification_contact", "CAB"], refs["adequation_epci", "CAB"]} <= set(everything)
    assert refs["adequation_epci", "CAVM"] not in everything  # another EPCI's dossier
    assert set(everything.values()) <= {("Vérifier l’adéquation au projet de territoire", "CAB"),
                                        ("Vérifier l’adéquation de l’action", "CAB")}
    one_step = listed("?etape=adequation_epci")
    assert refs["adequation_epci", "CAB"] in one_step and refs["verification_contact", "CAB"] not in one_step
    adequation = "Vérifier l’adéquation de l’action"
    assert set(one_step) == {ref for ref, (step, _) in everything.items() if step == adequation}
    # Staff steps are due their campaign's processing time after they open (10 and 15 days for
    # these two): a due-date filter 12 days on keeps the first, not the second.
    before = (services.engine.now() + timedelta(days=12)).date().isoformat()
    due = listed(f"?echeance={before}")
    assert refs["verification_contact", "CAB"] in due and refs["adequation_epci", "CAB"] not in due
    # A malformed date or page is ignored, not an error.
    assert listed("?echeance=pas-une-date&page=x") == everything


def test_uploads_are_checked(make_app, make_dossier):
    app = make_app(DSDT_MAX_UPLOAD_BYTES=2048)
    client = app.test_client()
    auth = AuthActions(client)
    services = app.extensions["dsdt"]
    instance_id = make_dossier("dossier", "CAB", porteur="porteur1")
    ref = services.queries.dossier(instance_id).open_steps[0].task_ref
    auth.login("porteur1")
    url = f"/dossiers/{instance_id}/etape/{ref}"
    page = client.get(url).get_data(as_text=True)
    name = field_name(page, "pieces_jointes.statuts") if "pieces_jointes" in page else field_name(page, "statuts")
    bad_type = auth.post(
        url,
        {name: (io.BytesIO(b"MZ\x90\x00binary"), "statuts.exe"), "action": "valider"},
        content_type="multipart/form-data",
    )
    assert bad_type.status_code == 400
    assert "Type de fichier refusé" in bad_type.get_data(as_text=True)
    too_big = auth.post(
        url,
        {name: (io.BytesIO(b"%PDF-" + b"0" * 4096), "statuts.pdf"), "action": "valider"},
        content_type="multipart/form-data",
    )
    assert too_big.status_code == 400
    assert "Le fichier dépasse 2048 octets" in too_big.get_data(as_text=True)
    assert not [doc for doc in services.attachments.list(instance_id) if doc.filename.startswith("statuts")]
    good = auth.post(
        url,
        {name: (io.BytesIO(b"%PDF-1.4 ok"), "statuts.pdf"), "action": "brouillon"},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert [doc.filename for doc in services.attachments.list(instance_id)] == ["statuts.pdf"]


def test_attachment_fields_refuse_what_is_not_this_dossiers_and_names_are_cleaned(make_app, make_dossier):
    app = make_app()
    client = app.test_client()
    auth = AuthActions(client)
    services = app.extensions["dsdt"]
    instance_id = make_dossier("dossier", "CAB", porteur="porteur1")
    ref = services.queries.dossier(instance_id).open_steps[0].task_ref
    auth.login("porteur1")
    url = f"/dossiers/{instance_id}/etape/{ref}"
    page = client.get(url).get_data(as_text=True)
    name = field_name(page, "statuts")
    version = services.queries.dossier(instance_id).version
    # A posted reference (the hidden field) that is not an attachment of this dossier.
    refused = auth.post(url, {name: "../../admin", "action": "valider"})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "pièce jointe de ce dossier" in body and re.search(r'id="[^"]*statuts-error"', body)
    assert services.queries.dossier(instance_id).version == version
    # A file name with a right-to-left override and control characters is stored without them.
    tricky = "stat\u202euts\u2066\x07.pdf"
    stored = auth.post(
        url, {name: (io.BytesIO(b"%PDF-1.4 ok"), tricky), "action": "brouillon"}, content_type="multipart/form-data"
    )
    assert stored.status_code == 302
    names = [doc.filename for doc in services.attachments.list(instance_id)]
    assert "statuts.pdf" in names and not [n for n in names if "\u202e" in n or "\x07" in n]


def test_document_download_is_scoped(client, auth, services):
    from .conftest import dossier_at

    dossier = dossier_at(services, "recevabilite", "CAB")
    docs = services.attachments.list(dossier.id)
    assert docs
    auth.login(dossier.porteur)
    response = client.get(f"/dossiers/{dossier.id}/documents/{docs[0].sha256}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    other = "porteur1" if dossier.porteur != "porteur1" else "porteur2"
    auth.login(other)
    assert client.get(f"/dossiers/{dossier.id}/documents/{docs[0].sha256}").status_code == 404


def test_instance_page_shows_timeline_and_placeholder(client, auth, services):
    from .conftest import dossier_at

    dossier = dossier_at(services, "commission_permanente", "CAB")
    auth.login("auditeur")
    body = client.get(f"/dossiers/{dossier.id}").get_data(as_text=True)
    assert "Historique" in body and "Candidature créée" in body and "Schéma du processus" in body
    assert "Étapes précédentes" in body


# -- every error at once, files kept in drafts or refused loudly (issue 11, items 3 and 4) ---------

EXE_AS_PDF = b"MZ\x90\x00binary"  # a Windows program renamed .pdf: refused by its content


def _dossier_step(make_app, make_dossier, porteur="porteur1"):
    """A fresh dossier at the porteur's "dossier" step (budget lines, partners, files), logged in."""
    app = make_app()
    client = app.test_client()
    auth = AuthActions(client)
    services = app.extensions["dsdt"]
    instance_id = make_dossier("dossier", "CAB", porteur=porteur)
    ref = services.queries.dossier(instance_id).open_steps[0].task_ref
    auth.login(porteur)
    return client, auth, services, instance_id, ref


def _error_text(body: str, key: str) -> str:
    match = re.search(rf'<div class="sf-error" id="f-{key}-error">(.*?)</div>', body, re.S)
    assert match, f"no error shown for {key}"
    return match.group(1)


def test_a_refused_file_does_not_hide_the_other_errors(make_app, make_dossier):
    client, auth, services, instance_id, ref = _dossier_step(make_app, make_dossier)
    url = f"/dossiers/{instance_id}/etape/{ref}"
    page = client.get(url).get_data(as_text=True)
    response = auth.post(
        url,
        {
            field_name(page, "pieces.statuts"): (io.BytesIO(EXE_AS_PDF), "statuts.pdf"),
            field_name(page, "budget.0.montant"): "beaucoup",
            field_name(page, "identite.denomination"): "Association du test",
            "action": "valider",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Type de fichier refusé" in _error_text(body, "pieces-statuts")
    assert "obligatoire" not in _error_text(body, "pieces-statuts")  # the refusal says why, not "required"
    assert "Saisissez un nombre." in _error_text(body, "budget-0-montant")
    # The empty required fields are reported in the same answer, each by its field and in the summary.
    for key in ("identite-adresse", "projet-objectifs", "pieces-rib", "budget-0-poste", "moyens_humains-benevoles"):
        assert "obligatoire" in _error_text(body, key) or "Ce champ" in _error_text(body, key), key
        assert f'href="#f-{key}' in body, key
    assert "f-identite-denomination-error" not in body and "Association du test" in body
    count = int(re.search(r"Le formulaire contient (\d+) erreurs", body).group(1))
    assert count >= 17
    assert services.queries.dossier(instance_id).open_steps[0].task_ref == ref  # nothing completed


def test_a_draft_keeps_accepted_files_and_says_loudly_which_file_was_refused(make_app, make_dossier):
    client, auth, services, instance_id, ref = _dossier_step(make_app, make_dossier)
    url = f"/dossiers/{instance_id}/etape/{ref}"
    page = client.get(url).get_data(as_text=True)
    statuts, rib = field_name(page, "pieces.statuts"), field_name(page, "pieces.rib")
    response = auth.post(
        url,
        {
            statuts: (io.BytesIO(b"%PDF-1.4 statuts"), "statuts.pdf"),
            rib: (io.BytesIO(EXE_AS_PDF), "rib.pdf"),
            field_name(page, "identite.denomination"): "Association brouillon",
            field_name(page, "budget.0.montant"): "beaucoup",
            "action": "brouillon",
        },
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    alert = re.search(r'<div class="flash flash-error" role="alert" id="form-message">(.*?)</div>', body, re.S)
    assert alert, "the refusal is announced at the top of the page"
    assert "rib.pdf" in alert.group(1) and "refusé" in alert.group(1)
    assert "Type de fichier refusé" in _error_text(body, "pieces-rib")
    assert "Saisissez un nombre." in _error_text(body, "budget-0-montant")
    assert "Association brouillon" in body and "statuts.pdf" in body
    draft = services.drafts.load("porteur1", instance_id, ref)
    kept = draft["pieces"]["statuts"]
    assert draft["identite"]["denomination"] == "Association brouillon"
    assert "rib" not in draft["pieces"]
    assert [d.filename for d in services.attachments.list(instance_id) if d.ref == kept] == ["statuts.pdf"]

    # The draft reopens with the accepted file and the time it was saved.
    reopened = client.get(url).get_data(as_text=True)
    assert "Association brouillon" in reopened
    assert re.search(r'id="f-pieces-statuts-current"[^>]*>.*?statuts\.pdf', reopened, re.S)
    assert f'value="{kept}"' in reopened
    assert "Dernier enregistrement du brouillon" in reopened

    # A refused replacement keeps the file already there.
    from werkzeug.datastructures import MultiDict

    posted = [(statuts, kept), (statuts, (io.BytesIO(EXE_AS_PDF), "statuts-v2.pdf")), ("action", "brouillon")]
    replaced = client.post(
        url, data=MultiDict([*posted, ("csrf_token", auth.token())]), content_type="multipart/form-data"
    )
    assert replaced.status_code == 400 and "statuts-v2.pdf" in replaced.get_data(as_text=True)
    assert services.drafts.load("porteur1", instance_id, ref)["pieces"]["statuts"] == kept


def test_a_clean_draft_says_so_and_when(make_app, make_dossier):
    client, auth, services, instance_id, ref = _dossier_step(make_app, make_dossier)
    url = f"/dossiers/{instance_id}/etape/{ref}"
    page = client.get(url).get_data(as_text=True)
    assert "Dernier enregistrement du brouillon" not in page
    saved = auth.post(url, {field_name(page, "identite.denomination"): "Asso", "action": "brouillon"})
    assert saved.status_code == 302
    reopened = client.get(url).get_data(as_text=True)
    assert "Brouillon enregistré" in reopened and "Dernier enregistrement du brouillon" in reopened


def test_withdrawal_is_offered_only_while_the_model_accepts_it(client, auth, services):
    """After the porteur signed the convention the model no longer catches the withdrawal: no form."""
    before, after = dossier_at(services, "signature_porteur"), dossier_at(services, "signature_region")
    for dossier, offered in ((before, True), (after, False)):
        auth.login(dossier.porteur)
        page = client.get(f"/dossiers/{dossier.id}").get_data(as_text=True)
        assert ("Retirer ma candidature" in page) is offered, dossier.ref
        auth.logout()

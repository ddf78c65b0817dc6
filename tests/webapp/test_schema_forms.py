"""webapp.schema_forms: rendering every real form accessibly, parsing posts back, read-only view."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Flask
from flask_babel import Babel
from werkzeug.datastructures import FileStorage, MultiDict

from engine.forms import field_errors, make_validator
from webapp.schema_forms import FormParseResult, parse_form, render_form, render_readonly
from webapp.schema_forms.i18n import translate_error
from webapp.schema_forms.schema import enum_options, resolve, widget_kind

FORMS = Path(__file__).resolve().parents[2] / "forms"
FORM_NAMES = sorted(p.name.removesuffix(".schema.json") for p in FORMS.glob("*.schema.json"))
NBSP = "\u00a0"
REF = "sha256:" + "ab" * 32
#: jsonschema's messages for an empty form -> the French text shown next to the field
EMPTY_FORM_MESSAGES = {"is a required property": "Ce champ est obligatoire.",
                       "should be non-empty": "Ajoutez au moins un élément."}


def load(name: str) -> tuple[dict, dict]:
    schema = json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))
    ui_path = FORMS / f"{name}.uischema.json"
    ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.exists() else {}
    return schema, ui


# -- a minimal browser: what the HTML contains and what a submit would post ------------------
class Page(HTMLParser):
    """Collects controls, labels, ids and per-element attributes of rendered HTML."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.controls: list[dict] = []  # input / select / textarea, with "value" and "options"
        self.labels: list[str] = []  # the for= of every <label>
        self.ids: list[str] = []
        self.elements: dict[str, dict] = {}  # id -> attributes (+ "text")
        self.text_stack: list[str] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None
        self._open: list[tuple[str, str | None]] = []
        self.feed(str(html))
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {k: ("" if v is None else v) for k, v in attrs}
        if "id" in attributes:
            self.ids.append(attributes["id"])
            self.elements[attributes["id"]] = {**attributes, "tag": tag, "text": ""}
        if tag not in ("input", "br", "img"):
            self._open.append((tag, attributes.get("id")))
        if tag == "label":
            self.labels.append(attributes.get("for", ""))
        elif tag == "input":
            self.controls.append({"tag": tag, **attributes})
        elif tag == "select":
            self._select = {"tag": tag, **attributes, "options": []}
            self.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {**attributes, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {"tag": tag, **attributes, "value": ""}
            self.controls.append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            # the HTML parser of a browser drops the newline right after <textarea>
            self._textarea["value"] = self._textarea["value"].removeprefix("\n")
            self._textarea = None
        while self._open:
            open_tag, _ident = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data
        if self._option is not None:
            self._option["text"] += data
        for _tag, ident in self._open:
            if ident:
                self.elements[ident]["text"] += data

    def post(self) -> MultiDict:
        """The fields a browser submits (no file chosen): checked boxes only, selected options."""
        posted = MultiDict()
        for control in self.controls:
            name = control.get("name")
            if not name or "disabled" in control:
                continue
            if control["tag"] == "textarea":
                posted.add(name, control["value"])
            elif control["tag"] == "select":
                selected = [o for o in control["options"] if "selected" in o] or control["options"][:1]
                for option in selected:
                    posted.add(name, option.get("value", option["text"]))
            elif control.get("type") in ("checkbox", "radio"):
                if "checked" in control:
                    posted.add(name, control.get("value", "on"))
            elif control.get("type") != "file":
                posted.add(name, control.get("value", ""))
        return posted

    def control(self, ident: str) -> dict:
        return next(c for c in self.controls if c.get("id") == ident)


def assert_accessible(page: Page) -> None:
    """Unique ids; every visible control has a <label for>; every label points to a control."""
    assert len(page.ids) == len(set(page.ids)), [i for i in page.ids if page.ids.count(i) > 1]
    control_ids = {c.get("id") for c in page.controls}
    for control in page.controls:
        if control.get("type") == "hidden":
            continue
        assert control.get("id"), control
        assert control["id"] in page.labels, f"no <label for> for {control}"
        for ref in control.get("aria-describedby", "").split():
            assert ref in page.ids, f"{control['id']} is described by a missing #{ref}"
    for target in page.labels:
        assert target in control_ids, f"<label for={target!r}> points to no control"


# -- sample data generated from a schema -----------------------------------------------------
def sample(schema: dict, ui: dict, root: dict, *, flip: bool = False):
    schema = resolve(schema, root)
    kind = widget_kind(schema, ui)
    if kind == "object":
        return {
            name: sample(prop, ui.get(name, {}), root, flip=flip)
            for name, prop in schema["properties"].items()
        }
    if kind == "rows":
        items = schema["items"]
        return [sample(items, ui.get("items", {}), root, flip=i % 2 == 1) for i in range(2)]
    if kind == "checkboxes":
        return [v for v, _ in enum_options(schema["items"])][:2]
    if kind == "file":
        return REF
    options = enum_options(schema)
    if options:
        return options[0 if flip else -1][0]
    if schema.get("type") == "boolean":
        return not flip
    if schema.get("type") == "integer":
        return schema.get("maximum", schema.get("minimum", 0) + 3)
    if schema.get("type") == "number":
        return 12500.5 if not flip else 300
    if kind == "date":
        return "2015-01-23"
    if kind == "email":
        return "contact@exemple.fr"
    if kind == "textarea":
        return "Première ligne\nDeuxième ligne « citée » & <balise>"
    return "Valeur d'exemple"


# -- every real form -------------------------------------------------------------------------
@pytest.mark.parametrize("name", FORM_NAMES)
def test_every_form_renders_accessibly_empty_and_filled(name):
    schema, ui = load(name)
    for data in ({}, sample(schema, ui, schema)):
        html = render_form(schema, ui, data)
        assert html.startswith('<div class="sf-form">')
        assert_accessible(Page(html))
        assert "<script" not in html


@pytest.mark.parametrize("name", FORM_NAMES)
def test_every_form_round_trips(name):
    schema, ui = load(name)
    for flip in (False, True):
        data = sample(schema, ui, schema, flip=flip)
        posted = Page(render_form(schema, ui, data)).post()
        result = parse_form(schema, ui, posted)
        assert isinstance(result, FormParseResult)
        assert result.errors == {}
        assert result.data == data


@pytest.mark.parametrize("name", FORM_NAMES)
def test_every_form_shows_validation_errors_next_to_fields(name):
    """Submitting an empty form: jsonschema's errors (through the engine) land on rendered fields."""
    schema, ui = load(name)
    result = parse_form(schema, ui, Page(render_form(schema, ui, {})).post())
    errors = field_errors(make_validator(schema), result.data)
    assert errors
    html = render_form(schema, ui, result.data, errors)
    page = Page(html)
    assert_accessible(page)
    summary = page.elements["f-error-summary"]
    assert summary["role"] == "alert"
    for path, messages in errors.items():
        ident = "f-" + path.replace(".", "-")
        assert f'href="#{ident}' in html, path
        error_box = page.elements[ident + "-error"]["text"]
        for message in messages:  # an empty form only misses values: required fields, non-empty lists
            french = next(text for end, text in EMPTY_FORM_MESSAGES.items() if message.endswith(end))
            assert french in error_box and message not in error_box, (path, error_box)


# -- parsing ---------------------------------------------------------------------------------
def test_numbers_accept_french_decimal_comma_and_spaces():
    schema, ui = load("fiche")
    posted = MultiDict(
        {
            "f.budget_global": "12 500,50",
            "f.montant_demande": f"3{NBSP}000",
            "f.nombre_beneficiaires": "1 200",
            "f.cofinancements.0.financeur": "Ville",
            "f.cofinancements.0.montant": "1.500,25",
        }
    )
    result = parse_form(schema, ui, posted)
    assert result.errors == {}
    assert result.data["budget_global"] == 12500.5
    assert result.data["montant_demande"] == 3000 and isinstance(result.data["montant_demande"], int)
    assert result.data["nombre_beneficiaires"] == 1200
    assert result.data["cofinancements"] == [{"financeur": "Ville", "montant": 1500.25}]


@pytest.mark.parametrize(
    "raw, message",
    [
        ("abc", "Saisissez un nombre entier."),
        ("12,5", "Saisissez un nombre entier."),
        ("nan", "Saisissez un nombre entier."),
        ("1,2,3", "Saisissez un nombre entier."),
    ],
)
def test_unconvertible_numbers_are_parse_errors(raw, message):
    schema, ui = load("fiche")
    result = parse_form(schema, ui, MultiDict({"f.nombre_beneficiaires": raw, "f.titre": "Titre"}))
    assert result.errors == {"nombre_beneficiaires": [message]}
    assert "nombre_beneficiaires" not in result.data
    assert result.data["titre"] == "Titre"
    assert not result.ok


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2015-01-23", "2015-01-23"),
        ("23/01/2015", "2015-01-23"),
        ("2015-02-30", None),
        ("demain", None),
    ],
)
def test_dates_are_kept_as_iso_strings(raw, expected):
    schema, ui = load("notification_convention")
    result = parse_form(schema, ui, MultiDict({"f.date_notification": raw}))
    if expected:
        assert result.data == {"date_notification": expected}
    else:
        assert result.errors == {"date_notification": ["Saisissez une date valide au format AAAA-MM-JJ."]}


def test_empty_strings_are_omitted_so_required_is_reported():
    schema, ui = load("confirmation_president")
    posted = MultiDict(
        {"f.avis_final": "", "f.motivation": "   ", "f.montant_propose": "", "f.conditions": ""}
    )
    result = parse_form(schema, ui, posted)
    assert result.data == {}
    errors = field_errors(make_validator(schema), result.data)
    assert set(errors) == {"avis_final", "motivation"}


def test_booleans_checkbox_absent_is_false_radio_absent_is_omitted():
    schema, ui = load("examen_jury")
    assert parse_form(schema, ui, MultiDict()).data == {"conflit_interet": False}
    hidden_then_checked = MultiDict([("f.conflit_interet", "false"), ("f.conflit_interet", "true")])
    assert parse_form(schema, ui, hidden_then_checked).data == {"conflit_interet": True}
    schema, ui = load("signature_porteur")
    assert parse_form(schema, ui, MultiDict()).data == {}
    assert parse_form(schema, ui, MultiDict({"f.accepte": "false"})).data == {"accepte": False}
    assert parse_form(schema, ui, MultiDict({"f.accepte": "peut-être"})).errors == {
        "accepte": ["Choisissez oui ou non."]
    }


def test_enums_stay_strings():
    schema, ui = load("recevabilite")
    result = parse_form(
        schema, ui, MultiDict({"f.decision": "incomplet", "f.mobilisation_habitants": "autre"})
    )
    assert result.data == {"decision": "incomplet", "mobilisation_habitants": "autre"}


def test_plain_dict_formdata_is_accepted():
    schema, ui = load("signature_region")
    result = parse_form(schema, ui, {"f.signataire": "  La présidente ", "f.date_signature": ["2015-03-01"]})
    assert result.data == {"signataire": "La présidente", "date_signature": "2015-03-01"}


# -- repeatable rows -------------------------------------------------------------------------
PARTNERS = [{"partenaire": "Centre social", "role": "Accueil"}, {"partenaire": "Mairie", "role": "Locaux"}]


def test_rows_render_existing_rows_plus_one_empty_row_with_delete_boxes():
    schema, ui = load("dossier")
    page = Page(render_form(schema, ui, {"partenariat": PARTNERS}))
    names = {c.get("name") for c in page.controls}
    assert {"f.partenariat.0.partenaire", "f.partenariat.1.partenaire", "f.partenariat.2.partenaire"} <= names
    assert "f.partenariat.3.partenaire" not in names
    assert {"f.partenariat.0._delete", "f.partenariat.1._delete"} <= names
    assert "f.partenariat.2._delete" not in names  # the new row has nothing to delete
    assert page.elements["f-partenariat-2--row"]["tag"] == "fieldset"
    assert "nouvelle ligne" in page.elements["f-partenariat-2--row"]["text"]
    assert "required" not in page.control("f-partenariat-2-partenaire")  # the new row is optional


def test_rows_add_and_delete():
    schema, ui = load("dossier")
    posted = Page(render_form(schema, ui, {"partenariat": PARTNERS})).post()
    posted.setlist("f.partenariat.2.partenaire", ["Bailleur"])
    posted.setlist("f.partenariat.2.role", ["Médiation"])
    assert parse_form(schema, ui, posted).data["partenariat"] == [
        *PARTNERS,
        {"partenaire": "Bailleur", "role": "Médiation"},
    ]
    posted.add("f.partenariat.0._delete", "1")
    assert parse_form(schema, ui, posted).data["partenariat"] == [
        PARTNERS[1],
        {"partenaire": "Bailleur", "role": "Médiation"},
    ]


def test_rows_carry_what_the_script_needs_and_say_how_to_get_more_without_it():
    """forms.js adds and removes rows from the group's data-* and its <template>; without JavaScript
    the hint says how to get another row, or that the list is full."""
    import re

    schema, ui = load("dossier")
    html = str(render_form(schema, ui, {"partenariat": PARTNERS}))
    page = Page(html)
    group = page.elements["f-partenariat"]
    assert group["data-rows"] == "f.partenariat" and group["data-rows-id"] == "f-partenariat"
    assert group["data-min-items"] == "0" and group["data-max-items"] == "50"
    assert group["data-add-label"] == "Ajouter une ligne" and "{n}" in group["data-legend"]
    assert "{legend}" in group["data-remove-name"]
    assert page.elements["f-budget"]["data-min-items"] == "1"
    assert "Enregistrez le brouillon pour obtenir une ligne supplémentaire." in group["text"]
    templates = re.findall(r'<template class="sf-row-template">(.*?)</template>', html, re.S)
    template = next(t for t in templates if "f-partenariat-__index__" in t)
    assert 'name="f.partenariat.__index__.partenaire"' in template
    assert 'id="f-partenariat-__index__--row"' in template and "_delete" not in template
    # A full list shows no empty row and says why.
    full = render_form({**schema, "properties": {**schema["properties"], "partenariat": {
        **schema["properties"]["partenariat"], "maxItems": 2}}}, ui, {"partenariat": PARTNERS})
    assert "f.partenariat.2.partenaire" not in str(full).split("<template")[0]
    assert "Nombre maximal de lignes atteint : 2." in str(full)


def test_read_only_rows_have_no_row_buttons():
    schema, ui = load("dossier")
    ui = {**ui, "partenariat": {**ui.get("partenariat", {}), "ui:readonly": True}}
    html = str(render_form(schema, ui, {"partenariat": PARTNERS}))
    assert 'data-rows="f.partenariat"' not in html and "f.partenariat.__index__" not in html
    assert 'data-rows="f.budget"' in html


def test_rows_are_renumbered_with_their_errors():
    schema, ui = load("redaction_convention")
    posted = MultiDict(
        {
            "f.echeancier.0._delete": "1",
            "f.echeancier.0.date": "2015-03-01",
            "f.echeancier.0.montant": "10",
            "f.echeancier.1.date": "",
            "f.echeancier.1.montant": "",  # an empty row: ignored
            "f.echeancier.5.date": "2015-06-01",
            "f.echeancier.5.montant": "beaucoup",
            "f.echeancier.7.date": "2015-09-01",
            "f.echeancier.7.montant": "2 000",
        }
    )
    result = parse_form(schema, ui, posted)
    assert result.data["echeancier"] == [{"date": "2015-06-01"}, {"date": "2015-09-01", "montant": 2000}]
    assert result.errors == {"echeancier.0.montant": ["Saisissez un nombre."]}
    page = Page(render_form(schema, ui, result.data, result.errors))
    assert page.control("f-echeancier-0-montant")["aria-invalid"] == "true"
    assert page.control("f-echeancier-1-montant").get("value") == "2000"


# -- attachments -----------------------------------------------------------------------------
def test_attachments_survive_a_re_render():
    schema, ui = load("dossier")
    data = {"pieces": {"statuts": REF, "rib": "sha256:" + "cd" * 32}}
    html = render_form(
        schema,
        ui,
        data,
        {"pieces.comptes": ["'comptes' is a required property"]},
        context={
            "attachment_url": lambda ref: f"/pieces/{ref}",
            "attachment_name": lambda ref: "statuts.pdf" if ref == REF else None,
        },
    )
    page = Page(html)
    assert_accessible(page)
    assert page.control("f-pieces-statuts")["type"] == "file"
    assert "required" not in page.control("f-pieces-statuts")  # a file is already there
    assert "required" in page.control("f-pieces-comptes")
    assert "Fichier actuel" in page.elements["f-pieces-statuts-current"]["text"]
    assert f'<a href="/pieces/{REF}">statuts.pdf</a>' in html
    assert "f-pieces-statuts-current" in page.control("f-pieces-statuts")["aria-describedby"]
    result = parse_form(schema, ui, page.post(), MultiDict())
    assert result.data["pieces"] == data["pieces"]


def test_uploads_go_through_store_attachment():
    schema, ui = load("dossier")
    calls = []

    def store(file_storage, path):
        calls.append((file_storage.filename, file_storage.read(), path))
        return "sha256:new"

    files = MultiDict(
        {
            "f.pieces.statuts": FileStorage(stream=_bytes(b"%PDF-1.4"), filename="statuts.pdf"),
            "f.pieces.rib": FileStorage(stream=_bytes(b""), filename=""),  # no file chosen
        }
    )
    posted = MultiDict({"f.pieces.statuts": REF, "f.pieces.rib": REF})
    result = parse_form(schema, ui, posted, files, store_attachment=store)
    assert calls == [("statuts.pdf", b"%PDF-1.4", "pieces.statuts")]
    assert result.data["pieces"] == {"statuts": "sha256:new", "rib": REF}


def test_a_refused_upload_keeps_the_file_already_there():
    """store_attachment returns None for a file it refuses: the current reference stays, nothing is
    invented for a field that had none."""
    schema, ui = load("dossier")
    refused = []

    def store(file_storage, path):
        refused.append(path)
        return None

    files = MultiDict(
        {
            "f.pieces.statuts": FileStorage(stream=_bytes(b"MZ"), filename="statuts.pdf"),
            "f.pieces.rib": FileStorage(stream=_bytes(b"MZ"), filename="rib.pdf"),
        }
    )
    result = parse_form(schema, ui, MultiDict({"f.pieces.statuts": REF}), files, store_attachment=store)
    assert refused == ["pieces.statuts", "pieces.rib"]
    assert result.data["pieces"] == {"statuts": REF}


def test_store_attachment_errors_propagate():
    class TooLarge(Exception):
        pass

    def store(file_storage, path):
        raise TooLarge(path)

    schema, ui = load("redaction_convention")
    files = MultiDict({"f.projet_convention": FileStorage(stream=_bytes(b"x"), filename="c.pdf")})
    with pytest.raises(TooLarge):
        parse_form(schema, ui, MultiDict(), files, store_attachment=store)


def test_list_of_attachments_add_and_delete():
    schema, ui = load("complements")
    page = Page(render_form(schema, ui, {"reponse": "Voici", "pieces": [REF]}))
    assert_accessible(page)
    posted = page.post()
    files = MultiDict({"f.pieces.1": FileStorage(stream=_bytes(b"y"), filename="bilan.pdf")})
    result = parse_form(schema, ui, posted, files, store_attachment=lambda f, path: f"sha256:{path}")
    assert result.data == {"reponse": "Voici", "pieces": [REF, "sha256:pieces.1"]}
    posted.add("f.pieces.0._delete", "on")
    assert parse_form(schema, ui, posted).data == {"reponse": "Voici", "pieces": []}


def _bytes(content: bytes):
    from io import BytesIO

    return BytesIO(content)


# -- errors, required marking, widgets -------------------------------------------------------
def test_errors_are_linked_to_their_fields():
    schema, ui = load("dossier")
    errors = {
        "identite.siret": ["'123' does not match '^[0-9]{14}$'"],
        "budget.0.montant": ["-5 is less than the minimum of 0"],
        "budget": ["[] should be non-empty"],
        "": ["Le budget n'est pas équilibré."],
    }
    data = {"identite": {"siret": "123"}, "budget": [{"sens": "charge", "poste": "Loyer", "montant": -5}]}
    html = render_form(schema, ui, data, errors)
    page = Page(html)
    siret = page.control("f-identite-siret")
    assert siret["aria-invalid"] == "true"
    assert "f-identite-siret-error" in siret["aria-describedby"].split()
    assert "format de la valeur saisie est incorrect" in page.elements["f-identite-siret-error"]["text"]
    montant = page.control("f-budget-0-montant")
    assert montant["aria-invalid"] == "true"
    assert "supérieure ou égale à 0" in page.elements["f-budget-0-montant-error"]["text"]
    assert "Ajoutez au moins un élément." in page.elements["f-budget-error"]["text"]
    summary = page.elements["f-error-summary"]["text"]
    assert "Le formulaire contient 4 erreurs" in summary
    assert "Le budget n'est pas équilibré." in summary
    assert 'href="#f-identite-siret"' in html and 'href="#f-budget-0-montant"' in html
    assert "aria-invalid" not in page.control("f-identite-denomination")


def test_radio_group_errors_and_required():
    schema, ui = load("recevabilite")
    html = render_form(schema, ui, {}, {"decision": ["'decision' is a required property"]})
    page = Page(html)
    group = page.elements["f-decision"]
    assert group["tag"] == "fieldset" and group["role"] == "radiogroup"
    assert "(obligatoire)" in group["text"]
    radios = [c for c in page.controls if c.get("name") == "f.decision"]
    assert len(radios) == 3
    assert all(r["aria-invalid"] == "true" and "f-decision-error" in r["aria-describedby"] for r in radios)
    assert all("required" in r for r in radios)
    assert 'href="#f-decision-0"' in html
    # conditionally required fields (if/then) are not marked
    assert 'for="f-motif">Motif (communiqué au porteur)</label>' in html
    assert "required" not in page.control("f-motif")


def test_required_marking_is_text_and_attributes():
    schema, ui = load("fiche")
    page = Page(render_form(schema, ui, {}))
    titre = page.control("f-titre")
    assert "required" in titre and titre["aria-required"] == "true"
    assert titre["maxlength"] == "150"
    html = render_form(schema, ui, {})
    assert 'for="f-titre">Titre de l&#39;action <span class="sf-required">(obligatoire)</span>' in html
    assert "aria-required" not in page.control("f-nombre_beneficiaires")


def test_widgets():
    schema, ui = load("fiche")
    page = Page(render_form(schema, ui, {"budget_global": 12500}))
    budget = page.control("f-budget_global")
    assert (budget["type"], budget["step"], budget["min"], budget["value"]) == (
        "number",
        "0.01",
        "0",
        "12500",
    )
    assert page.control("f-nombre_beneficiaires")["step"] == "1"
    assert page.control("f-objectifs")["tag"] == "textarea"
    assert page.control("f-territoire")["placeholder"] == "Ex. : Boulogne-sur-Mer, quartier Transmanche"
    assert "f-priorite-help" in page.control("f-priorite")["aria-describedby"]
    html = render_form(schema, ui, {})
    assert '<span class="sf-suffix">€</span>' in html
    order = [c["name"] for c in page.controls if c.get("name", "").count(".") == 1]
    assert order[:3] == ["f.titre", "f.objectifs", "f.public_cible"]
    schema, ui = load("dossier")
    page = Page(render_form(schema, ui, {}))
    assert page.control("f-projet-date_debut")["type"] == "date"
    assert page.control("f-identite-representant_email")["type"] == "email"
    assert page.control("f-participation-gup-mise_en_oeuvre")["type"] == "checkbox"
    assert page.elements["f-participation"]["tag"] == "fieldset"


def test_select_checkboxes_readonly_and_options():
    schema = {
        "type": "object",
        "properties": {
            "epci": {
                "type": "string",
                "title": "EPCI",
                "oneOf": [
                    {"const": "CAB", "title": "CA du Boulonnais"},
                    {"const": "CAVM", "title": "CA Valenciennes"},
                ],
            },
            "themes": {
                "type": "array",
                "title": "Thèmes",
                "items": {"type": "string", "enum": ["jeunesse", "santé"]},
            },
            "note": {"type": "string", "title": "Note"},
            "ref": {"type": "string", "title": "Référence"},
            "texte": {"type": "string", "title": "Texte"},
        },
        "required": ["epci"],
    }
    ui = {
        "ref": {"ui:readonly": True},
        "epci": {"ui:readonly": True},
        "texte": {"ui:widget": "textarea", "ui:options": {"rows": 9}},
    }
    data = {"epci": "CAVM", "themes": ["santé"], "ref": "R-1"}
    html = render_form(schema, ui, data)
    page = Page(html)
    assert_accessible(page)
    select = page.control("f-epci")
    assert select["tag"] == "select" and "disabled" in select
    assert [o.get("value") for o in select["options"] if "selected" in o] == ["CAVM"]
    assert "readonly" in page.control("f-ref")
    assert page.control("f-texte")["rows"] == "9"
    assert page.control("f-themes-1")["type"] == "checkbox" and "checked" in page.control("f-themes-1")
    result = parse_form(schema, ui, page.post())
    assert result.data == data


def test_default_from_variable_and_schema_default():
    schema, ui = load("confirmation_president")
    page = Page(render_form(schema, ui, {}, context={"variables": {"avis_calcule": "ajourne"}}))
    assert "checked" in page.control("f-avis_final-2")
    assert "checked" not in page.control("f-avis_final-0")
    page = Page(
        render_form(
            schema, ui, {"avis_final": "favorable"}, context={"variables": {"avis_calcule": "ajourne"}}
        )
    )
    assert "checked" in page.control("f-avis_final-0")
    schema = {"type": "object", "properties": {"n": {"type": "integer", "title": "N", "default": 4}}}
    assert Page(render_form(schema, None, None)).control("f-n")["value"] == "4"


def test_prefix_changes_names_and_ids():
    schema, ui = load("signature_region")
    page = Page(render_form(schema, ui, {"signataire": "X"}, prefix="task1"))
    assert page.control("task1-signataire")["name"] == "task1.signataire"
    assert parse_form(schema, ui, page.post(), prefix="task1").data == {"signataire": "X"}


# -- escaping --------------------------------------------------------------------------------
def test_malicious_schema_and_values_are_escaped():
    evil = '"><script>alert(1)</script>'
    schema = {
        "type": "object",
        "title": evil,
        "description": evil,
        "properties": {
            "a": {"type": "string", "title": evil, "description": evil},
            "b": {"type": "string", "title": "B", "oneOf": [{"const": evil, "title": evil}]},
            "c": {
                "type": "array",
                "title": evil,
                "items": {"type": "object", "title": evil, "properties": {"d": {"type": "string"}}},
            },
            "e": {"type": "string", "format": "attachment", "title": evil},
        },
    }
    ui = {"a": {"ui:help": evil, "ui:placeholder": evil}, "b": {"ui:widget": "radio"}}
    data = {"a": evil, "b": evil, "c": [{"d": evil}], "e": evil}
    errors = {"a": [evil], "": [evil]}
    for html in (
        render_form(schema, ui, data, errors, context={"attachment_url": lambda r: evil}),
        render_readonly(schema, ui, data),
    ):
        assert "<script" not in html
        assert "&lt;script&gt;" in html
    page = Page(render_form(schema, ui, data))
    assert page.control("f-a")["value"] == evil
    assert parse_form(schema, ui, page.post()).data == data


# -- read-only view --------------------------------------------------------------------------
def test_render_readonly_formats_values():
    schema, ui = load("fiche")
    html = render_readonly(
        schema,
        ui,
        {
            "titre": "Jardins partagés",
            "budget_global": 12500,
            "montant_demande": 4000.5,
            "nombre_beneficiaires": 1200,
            "cofinancements": [{"financeur": "Ville", "montant": 1500, "statut": "acquis"}],
            "calendrier": "Mars\nAvril",
        },
    )
    assert html.startswith('\n<dl class="sf-readonly">') or html.startswith('<dl class="sf-readonly">')
    assert f"<dt>Budget global de l&#39;action (€)</dt>\n<dd>12{NBSP}500,00{NBSP}€</dd>" in html
    assert f"4{NBSP}000,50{NBSP}€" in html
    assert f"<dd>1{NBSP}200</dd>" in html
    assert "<dd>Acquis</dd>" in html and "acquis<" not in html
    assert "Mars<br>Avril" in html
    assert "Objectifs" not in html  # absent values are not listed
    schema, ui = load("signature_porteur")
    html = render_readonly(
        schema,
        ui,
        {"accepte": True, "date_signature": "2015-04-02", "convention_signee": REF},
        context={"attachment_url": lambda ref: "/f/1", "attachment_name": lambda ref: "conv.pdf"},
    )
    assert "<dd>Oui</dd>" in html and "<dd>2 avril 2015</dd>" in html
    assert '<a href="/f/1">conv.pdf</a>' in html
    assert "<dd>Non</dd>" in render_readonly(schema, ui, {"accepte": False})
    schema, ui = load("recevabilite")
    assert "<dd>Insuffisante (éliminatoire)</dd>" in render_readonly(
        schema, ui, {"mobilisation_habitants": "insuffisante"}
    )


@pytest.mark.parametrize("name", FORM_NAMES)
def test_render_readonly_every_form(name):
    schema, ui = load(name)
    html = render_readonly(schema, ui, sample(schema, ui, schema))
    assert html.count("<dt>") >= len(schema["properties"])


# -- messages --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "message, schema, expected",
    [
        ("'titre' is a required property", {}, "Ce champ est obligatoire."),
        ("'abc' is not of type 'integer'", {}, "Saisissez un nombre entier."),
        ("'abc' is not of type 'number'", {}, "Saisissez un nombre."),
        (
            "'x' is not a 'email'",
            {},
            "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
        ),
        ("'2015-13-01' is not a 'date'", {}, "Saisissez une date valide au format AAAA-MM-JJ."),
        ("-1 is less than the minimum of 0", {}, "La valeur doit être supérieure ou égale à 0."),
        ("6 is greater than the maximum of 5", {}, "La valeur doit être inférieure ou égale à 5."),
        (
            "0 is less than or equal to the minimum of 0.5",
            {},
            "La valeur doit être strictement supérieure à 0,5.",
        ),
        (
            "'ab' is too short",
            {"type": "string", "minLength": 10},
            "Ce texte est trop court : 10 caractères au minimum.",
        ),
        ("'' should be non-empty", {"type": "string", "minLength": 1}, "Ce champ ne doit pas être vide."),
        (
            "'abcdef' is too long",
            {"type": "string", "maxLength": 3},
            "Ce texte est trop long : 3 caractères au maximum.",
        ),
        ("[] should be non-empty", {"type": "array", "minItems": 1}, "Ajoutez au moins un élément."),
        ("'r' is not one of ['p', 'q']", {}, "Choisissez une valeur dans la liste proposée."),
        (
            "'z' is not valid under any of the given schemas",
            {},
            "Choisissez une valeur dans la liste proposée.",
        ),
        ("'1' does not match '^[0-9]{14}$'", {}, "Le format de la valeur saisie est incorrect."),
        ("Un message déjà en français.", {}, "Un message déjà en français."),
    ],
)
def test_error_messages_in_french(message, schema, expected):
    assert translate_error(message, schema) == expected


def test_real_jsonschema_messages_are_translated():
    schema, ui = load("examen_jury")
    data = {"conflit_interet": False, "qualite_inventivite": 9, "commentaire": "ok"}
    errors = field_errors(make_validator(schema), data)
    html = render_form(schema, ui, data, errors)
    assert "La valeur doit être inférieure ou égale à 5." in html
    assert "Ce texte est trop court : 5 caractères au minimum." in html
    assert html.count("Ce champ est obligatoire.") == 2 * 3  # next to the field and in the summary
    assert "is a required property" not in html


def test_messages_go_through_flask_babel(tmp_path):
    catalog = Catalog(locale="en")
    catalog.add("Ce champ est obligatoire.", "This field is required.")
    catalog.add("(obligatoire)", "(required)")
    (tmp_path / "en" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "en" / "LC_MESSAGES" / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    Babel(app, locale_selector=lambda: "en")
    schema, ui = load("signature_region")
    errors = {"signataire": ["'signataire' is a required property"]}
    with app.test_request_context():
        html = render_form(schema, ui, {}, errors)
    assert "This field is required." in html and "(required)" in html
    assert "Ce champ est obligatoire." in render_form(schema, ui, {}, errors)  # outside a request: French


def test_limits_use_the_decimal_separator_of_the_language(app):
    from flask_babel import force_locale

    from webapp.schema_forms.i18n import _number

    with app.app_context():
        with force_locale("en"):
            assert _number("0.5") == "0.5"
        with force_locale("fr"):
            assert _number("0.5") == "0,5"

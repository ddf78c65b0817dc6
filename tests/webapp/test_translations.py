"""The English catalogue covers every message of the code and templates, and the app switches to it.

The msgids are French; a string added to the code without an English translation would show in
French to English users. The extraction here mirrors ``pybabel extract -F webapp/babel.cfg -k _l``.
To fix a failure, from the repository root::

    .venv/bin/pybabel extract -F webapp/babel.cfg -k _l -o webapp/translations/messages.pot webapp
    .venv/bin/pybabel update -i webapp/translations/messages.pot -d webapp/translations
    # translate the new entries of webapp/translations/en/LC_MESSAGES/messages.po, remove "fuzzy"
    .venv/bin/pybabel compile -d webapp/translations
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .conftest import ROOT, AuthActions, dossier_at

WEBAPP = ROOT / "webapp"
TRANSLATIONS = WEBAPP / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}  # -k _l (flask_babel.lazy_gettext)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extracted_messages() -> dict[tuple[str, str | None], tuple[str, ...]]:
    """(msgid, context) -> all ids (singular, plural) of every message the code and templates mark."""
    with open(WEBAPP / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    messages = {}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(WEBAPP), method_map, options_map, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        if ids[0]:
            messages[(ids[0], context)] = ids
    return messages


def catalogue(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=lang)


def test_extraction_finds_python_and_template_messages():
    messages = extracted_messages()
    assert ("Identifiant ou mot de passe incorrect.", None) in messages  # python, gettext as _
    assert ("Porteur de projet", None) in messages  # python, lazy_gettext as _l
    assert ("Se connecter", None) in messages  # Jinja template
    assert ("%(num)s dossier", None) in messages  # Jinja ngettext
    assert len(messages) > 200


def test_every_message_has_an_english_translation():
    en = catalogue("en")
    problems = []
    for (msgid, context), ids in sorted(extracted_messages().items(), key=lambda item: item[0][0]):
        entry = en.get(msgid, context)
        if entry is None:
            problems.append(f"not in the English catalogue (re-run extract + update): {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if len(ids) > 1 and not entry.pluralizable:
            problems.append(f"plural forms missing (re-run update): {msgid!r}")
        if not all(s.strip() for s in strings) or (len(ids) > 1 and len(strings) != en.num_plurals):
            problems.append(f"untranslated: {msgid!r}")
            continue
        expected = set(PLACEHOLDER.findall(" ".join(ids)))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) - expected:
                problems.append(f"unknown placeholder in {string!r} for {msgid!r}")
            elif len(ids) == 1 and set(PLACEHOLDER.findall(string)) != expected:
                problems.append(f"placeholders differ in {string!r} for {msgid!r}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def compiled_translations(tmp_path):
    """The .po catalogues compiled into a temp dir, so the test sees the sources, not stale .mo files."""
    for lang in ("en", "fr"):
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        with open(target / "messages.mo", "wb") as mo:
            write_mo(mo, catalogue(lang))
    return tmp_path


def test_login_page_in_english_after_switching_language(make_app, compiled_translations):
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(compiled_translations))
    client = app.test_client()
    french = client.get("/connexion").get_data(as_text=True)
    assert 'lang="fr"' in french and "Mot de passe" in french and "Se connecter" in french

    response = AuthActions(client).post("/langue", {"lang": "en"})  # the header's language form
    assert response.status_code == 302

    page = client.get("/connexion").get_data(as_text=True)
    assert 'lang="en"' in page
    for english in ("Log in", "Login", "Password", "Language", "Skip to content"):
        assert english in page
    for french_text in ("Mot de passe", "Se connecter", "Identifiant", "Aller au contenu", "Langue"):
        assert french_text not in page

    response = client.post(
        "/connexion", data={"login": "nobody", "password": "wrong", "csrf_token": AuthActions(client).token()}
    )
    assert "Incorrect login or password." in response.get_data(as_text=True)


def test_scope_refusals_speak_the_users_language(make_app, compiled_translations):
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(compiled_translations))
    client = app.test_client()
    auth = AuthActions(client)
    outside = dossier_at(app.extensions["dsdt"], "adequation_epci", "CAVM")
    auth.login("tech.epci.cab")
    french = client.get(f"/dossiers/{outside.id}")
    assert french.status_code == 403 and "hors de votre périmètre" in french.get_data(as_text=True)
    auth.post("/langue", {"lang": "en"})
    english = client.get(f"/dossiers/{outside.id}").get_data(as_text=True)
    assert "outside your scope" in english and "hors de votre périmètre" not in english
    assert "reserved for other roles" in client.get("/admin/utilisateurs").get_data(as_text=True)


def test_language_switch_in_the_app_bin_run_serves(make_app):
    """The catalogues ``bin/setup`` compiled (``bin/test`` runs it first, as ``bin/run`` does) are the
    ones the served app reads, not a copy: a setup that failed to compile them fails here.

    Not run again from here: with several pytest workers, a compile would rewrite the catalogues
    while another worker's app reads them."""
    for lang in ("en", "fr"):
        folder = TRANSLATIONS / lang / "LC_MESSAGES"
        assert (folder / "messages.mo").stat().st_mtime >= (folder / "messages.po").stat().st_mtime
    client = make_app().test_client()  # the default translation directory, as `dsdt run` serves it
    AuthActions(client).post("/langue", {"lang": "en"})
    page = client.get("/connexion").get_data(as_text=True)
    assert 'lang="en"' in page and "Password" in page and "Mot de passe" not in page

"""French typography of the user-visible text: the apostrophe is the typographic ’, never a straight '.

Two sources are scanned: the messages the code and templates mark for translation (the French
msgids, as ``pybabel extract`` finds them), and the text the templates write outside any message
(text nodes and the attributes a person reads or hears). Code is left out: Jinja expressions and
statements, comments, scripts and styles, and the quotes that delimit HTML attributes.
"""

from __future__ import annotations

import re

from .conftest import ROOT
from .test_translations import extracted_messages

TEMPLATES = ROOT / "webapp" / "templates"
STRAIGHT = re.compile(r"[A-Za-zÀ-ÿœŒ]'[A-Za-zÀ-ÿœŒ]")  # l'étape, n'est, aujourd'hui
CODE = re.compile(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}|<script\b.*?</script>|<style\b.*?</style>", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
READ_ATTRIBUTE = re.compile(r"""\b(?:title|alt|placeholder|aria-label|aria-description)\s*=\s*(["'])(.*?)\1""", re.S)


def visible_text(template: str) -> list[str]:
    """The text nodes and the read attributes of a template, its Jinja code and scripts removed."""
    source = CODE.sub(" ", template)
    attributes = [value for tag in TAG.findall(source) for _quote, value in READ_ATTRIBUTE.findall(tag)]
    return [*TAG.sub("\n", source).split("\n"), *attributes]


def test_the_scan_finds_straight_apostrophes_and_skips_code():
    template = """{# the porteur's page #}<p title="L'aide">{{ url_for('x') }} C'est {% if a == 'b' %}ok{% endif %}</p>
    <script>const s = 'it's';</script><a href='/x' aria-label="Retour à l’accueil">Aujourd’hui</a>"""
    found = [" ".join(text.split()) for text in visible_text(template) if STRAIGHT.search(text)]
    assert found == ["C'est ok", "L'aide"]


def test_no_straight_apostrophe_in_french_messages():
    straight = sorted(msgid for ids in extracted_messages().values() for msgid in ids if STRAIGHT.search(msgid))
    assert straight == [], f"{len(straight)} message(s) with a straight apostrophe (write ’): {straight[:10]}"


def test_no_straight_apostrophe_in_template_text():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for text in visible_text(path.read_text(encoding="utf-8")):
            if STRAIGHT.search(text):
                problems.append(f"{path.relative_to(ROOT)}: {text.strip()[:80]!r}")
    assert problems == [], "straight apostrophes in template text (write ’):\n" + "\n".join(problems)

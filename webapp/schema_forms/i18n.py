"""Messages: Flask-Babel's ``gettext`` when an app has it, the (French) source string otherwise.

The msgids are French because French is the application's default language; the English
catalogue translates them. jsonschema's English messages are mapped to French ones here, from
the message shape and the field's schema (for limits the message does not carry).
"""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date as babel_format_date
from flask import current_app, has_app_context
from flask_babel import format_date as flask_format_date
from flask_babel import get_locale
from flask_babel import gettext as _babel_gettext


def _(msgid: str, **variables: object) -> str:
    """Translate ``msgid`` and interpolate ``%(name)s`` variables; works outside a request."""
    if has_app_context() and "babel" in current_app.extensions:
        return _babel_gettext(msgid, **variables)
    return msgid % variables if variables else msgid


def format_long_date(value: date) -> str:
    """``23 janvier 2015`` (French outside a request, else the page's language)."""
    if has_app_context() and "babel" in current_app.extensions:
        return flask_format_date(value, "long")
    return babel_format_date(value, "long", locale="fr")


def _number(text: str) -> str:
    """A limit from a jsonschema message, with the decimal separator of the page's language."""
    if has_app_context() and "babel" in current_app.extensions and str(get_locale() or "fr") != "fr":
        return text
    return text.replace(".", ",")


def translate_error(message: str, schema: dict | None = None) -> str:
    """A French (or, through the catalogue, English) message for one jsonschema error message.

    Messages that are not recognised (already translated, or from a custom check) pass through.
    """
    schema = schema or {}
    is_array = schema.get("type") == "array"
    if message.endswith("is a required property"):
        return _("Ce champ est obligatoire.")
    match = re.search(r"is not of type '(\w+)'", message)
    if match:
        expected = match.group(1)
        if expected == "integer":
            return _("Saisissez un nombre entier.")
        if expected == "number":
            return _("Saisissez un nombre.")
        if expected == "boolean":
            return _("Choisissez oui ou non.")
        if expected == "string":
            return _("Saisissez un texte.")
        return _("La valeur saisie n’a pas le type attendu.")
    match = re.search(r"is not a '([\w-]+)'$", message)
    if match:
        fmt = match.group(1)
        if fmt == "email":
            return _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr.")
        if fmt == "date":
            return _("Saisissez une date valide au format AAAA-MM-JJ.")
        return _("Le format de la valeur saisie est incorrect.")
    match = re.search(r"is less than or equal to the minimum of (\S+)$", message)
    if match:
        return _("La valeur doit être strictement supérieure à %(limit)s.", limit=_number(match.group(1)))
    match = re.search(r"is less than the minimum of (\S+)$", message)
    if match:
        return _("La valeur doit être supérieure ou égale à %(limit)s.", limit=_number(match.group(1)))
    match = re.search(r"is greater than or equal to the maximum of (\S+)$", message)
    if match:
        return _("La valeur doit être strictement inférieure à %(limit)s.", limit=_number(match.group(1)))
    match = re.search(r"is greater than the maximum of (\S+)$", message)
    if match:
        return _("La valeur doit être inférieure ou égale à %(limit)s.", limit=_number(match.group(1)))
    if message.endswith("should be non-empty") or message.endswith("is too short"):
        if is_array:
            count = schema.get("minItems", 1)
            if count <= 1:
                return _("Ajoutez au moins un élément.")
            return _("Ajoutez au moins %(count)s éléments.", count=count)
        if "minLength" in schema and schema["minLength"] > 1:
            return _("Ce texte est trop court : %(count)s caractères au minimum.", count=schema["minLength"])
        return _("Ce champ ne doit pas être vide.")
    if message.endswith("is too long") or message.endswith("is expected to be empty"):
        if is_array:
            return _("Pas plus de %(count)s élément(s).", count=schema.get("maxItems", 0))
        if "maxLength" in schema:
            return _("Ce texte est trop long : %(count)s caractères au maximum.", count=schema["maxLength"])
        return _("Ce texte est trop long.")
    if re.search(r"is not one of \[", message) or message.endswith(
        "is not valid under any of the given schemas"
    ):
        return _("Choisissez une valeur dans la liste proposée.")
    if re.search(r" does not match '", message):
        return _("Le format de la valeur saisie est incorrect.")
    if message.endswith("was expected"):
        return _("Cette valeur n’est pas acceptée.")
    if message.startswith("Additional properties are not allowed"):
        return _("Le formulaire contient des champs inconnus.")
    return message

"""Forms as data: server-side HTML for a JSON Schema + UI schema, and the post parsed back.

* :func:`render_form` – accessible form fields (RGAA: labels, fieldsets, linked help and errors,
  error summary), repeatable rows and file fields that work without JavaScript;
* :func:`parse_form` – the posted strings converted to typed JSON data (:class:`FormParseResult`),
  ready for jsonschema validation;
* :func:`render_readonly` – submitted data shown as a ``<dl>`` for earlier steps.

Field names are ``<prefix>.<dotted path>`` (``f.partenariat.0.partenaire``); error keys are the
dotted path alone (``partenariat.0.partenaire``, ``""`` for the whole form), as produced by
``engine.forms.field_errors``. HTML is produced by the package's own autoescaping Jinja
environment (``templates/``), never by string concatenation.
"""

from .parse import FormParseResult, parse_form
from .readonly import render_readonly
from .render import render_form

__all__ = ["FormParseResult", "parse_form", "render_form", "render_readonly"]

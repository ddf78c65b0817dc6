"""The package's own Jinja environment: autoescaped, strict, templates next to this module.

It is separate from the Flask app's environment so the forms render the same inside and outside
a request (tests, CLI, e-mails); ``_`` is the package's gettext (see :mod:`.i18n`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from .i18n import _

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    """The environment (built once); every value is escaped unless it is already ``Markup``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals["_"] = _
    return env


def render(template: str, **values: object) -> Markup:
    """Render ``template`` with ``values`` into safe markup."""
    tpl: Template = environment().get_template(template)
    return Markup(tpl.render(**values))

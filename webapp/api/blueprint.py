"""The API's blueprint class: flask-smorest's, with the arguments parser that reads the JSON body
the bounds check parsed (:class:`webapp.bounds.CheckedParser`) instead of parsing it again."""

from __future__ import annotations

import flask_smorest

from ..bounds import CheckedParser


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = CheckedParser()

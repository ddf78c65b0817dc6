"""``dsdt bench``: the engine's costs measured as the web app runs it (issue 13).

:func:`engine.bench.report.run` measures everything in one run and returns a dict with stable
keys (README, *The ``dsdt`` command*); the other modules hold its parts: one dossier walked step
by step (:mod:`.walk`), the lifecycle on each store and in memory (:mod:`.lifecycle`), warm, cold
and fresh-process completions (:mod:`.loads`), sizes of accounts and open tasks (:mod:`.scale`).
"""

from .report import run  # noqa: E402

__all__ = ["run"]

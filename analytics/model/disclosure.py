"""Small-cell protection: whether counts under a threshold may be published, and how a
withheld count reads.

Registries publish under disclosure rules: a count from 1 to 10 could identify a
patient, so it reads "<11", and whatever would let a reader work it out (a percentage,
a complement, a total) is withheld too. Trials publish every count. The setting
belongs to whoever deploys the dashboard, not to a viewer:

- ``DVA_SMALL_CELLS``: ``on``, ``off`` or ``auto`` (the default): ``auto`` protects a
  registry (a folder of study folders) and any extract whose manifest
  (``dataset.json``) says ``"small_cell_protection": true``.
- ``DVA_SMALL_CELLS_VIEWER``: ``allow`` lets a viewer switch protection in the browser;
  anything else (the default) keeps the deployment's choice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

THRESHOLD = 11
SETTING = "DVA_SMALL_CELLS"
VIEWER_SETTING = "DVA_SMALL_CELLS_VIEWER"
MANIFEST_FLAG = "small_cell_protection"


@dataclass(frozen=True)
class Disclosure:
    """On: counts from 1 to `threshold` - 1 are withheld."""

    on: bool = False
    threshold: int = THRESHOLD
    why: str = "off"  # how the setting was decided, for the provenance

    def hides(self, n: float | None) -> bool:
        return self.on and n is not None and 1 <= n < self.threshold

    def hides_share(self, n: float | None, total: float) -> bool:
        """A count of `total` (and its share) withheld: it, or the rest, from 1 to 10."""
        return n is not None and (self.hides(n) or self.hides(total - n))

    def too_few(self, n: float | None) -> bool:
        """A group too small to show at all: its curve, estimate and share."""
        return self.hides(n)

    def view_reason(self, n: int, total: int) -> str | None:
        """Why a view of `n` of the `total` patients shows nothing (None: it may). Too
        few patients; or too few left out, whom its numbers beside those of all patients
        (published too) would give away: the query-set-size control of a statistical
        database, which keeps a view from being the complement of a small group."""
        if self.too_few(n):
            return self.reason
        if self.hides(total - n):
            return (
                f"This view leaves out fewer than {self.threshold} of the patients: its "
                "numbers beside those of all patients would give them away. Withheld under "
                "small-cell protection."
            )
        return None

    @property
    def marker(self) -> str:
        return f"<{self.threshold}"

    @property
    def reason(self) -> str:
        return f"Fewer than {self.threshold} patients: withheld under small-cell protection."

    def describe(self) -> str:
        if not self.on:
            return "Small-cell protection off: every count is shown."
        return (
            f"Small-cell protection on ({self.why}): counts from 1 to {self.threshold - 1} "
            f'read "{self.marker}", and any share, complement or total that would reveal '
            "one is withheld too; groups under "
            f"{self.threshold} patients are not drawn."
        )


def decide(
    manifest: Mapping[str, object],
    registry: bool,
    environ: Mapping[str, str] | None = None,
) -> Disclosure:
    """The deployment's protection for these data."""
    env = os.environ if environ is None else environ
    setting = env.get(SETTING, "auto").strip().lower()
    if setting == "on":
        return Disclosure(True, why="set by the deployment")
    if setting == "off":
        return Disclosure(False, why="set off by the deployment")
    if registry:
        return Disclosure(True, why="a registry extract")
    if manifest.get(MANIFEST_FLAG) is True:
        return Disclosure(True, why="the extract's manifest asks for it")
    return Disclosure(False)


def viewer_may_switch(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(VIEWER_SETTING, "").strip().lower() == "allow"

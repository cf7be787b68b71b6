"""The report basket: the cards a user has put aside for a committee pack, each a kind
of figure or table with the view it was taken in, a title and a comment.

The basket travels in the URL as one ``card`` parameter per card, in order, each value
the card's own query text (``kind=sites&title=...&note=...``, then the page settings it
carries, ``opt.outcome=amputation``, then its view's parameters, `View.to_query`), so a
colleague who opens the link gets the same deck and the command line takes the same
text (``python -m analytics pack --card "..."``).

Reading is bounded and never raises: at most `MAX_CARDS` cards of at most
`MAX_CARD_TEXT` characters each are read, and a card that cannot be used is named in
`Basket.problems` rather than dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

from analytics.model.card_options import MAX_OPTION_TEXT, OPTIONS
from analytics.model.filters import MAX_FILTER_TEXT
from analytics.model.labels import Labels
from analytics.model.view import View

KIND, TITLE, NOTE, OPTION = "kind", "title", "note", "opt."
MAX_CARDS = 30
MAX_TITLE = 120
MAX_NOTE = 1000
MAX_OPTIONS = 20
MAX_CARD_TEXT = MAX_FILTER_TEXT + MAX_TITLE * 3 + MAX_NOTE * 3 + MAX_OPTIONS * MAX_OPTION_TEXT

# code -> the card's default title, in the order of the standard committee pack
KINDS: dict[str, str] = {
    "overview": "Patients in view and headline outcomes",
    "afs": "Amputation-free survival, limb salvage and survival",
    "primary": "Primary endpoint: amputation-free survival against the performance goal",
    "patency": "Patency",
    "subgroups": "Subgroups: amputation-free survival",
    "wounds": "Target wound status at each visit",
    "rutherford": "Change in Rutherford category",
    "table1": "Table 1: baseline characteristics",
    "table2": "Table 2: procedure",
    "sites": "Sites: amputation-free survival at the landmark",
    "audit": "NICE IPG773 audit",
    # not in the standard pack: added from their pages
    "competing": "Major amputation with death as a competing risk",
    "reintervention": "Freedom from reintervention",
    "wound_area": "Target wound area",
    "all_healed": "All wounds healed",
    "adverse_events": "Adverse events",
    "deaths": "Deaths by cause",
    "evidence": "The cohort beside the published evidence",
    "design": "Trial design: where the simulated trials stopped",
    "design_power": "Trial design: probability of success by true rate",
}
STANDARD: tuple[str, ...] = tuple(KINDS)[: list(KINDS).index("audit") + 1]


@dataclass(frozen=True)
class Card:
    """One figure or table of the pack, in the view it was taken in."""

    kind: str
    view: View = field(default_factory=View)
    title: str = ""  # empty: the kind's default title
    note: str = ""  # the user's comment, printed in the slide's notes
    # the page's settings (`analytics.model.card_options.OPTIONS`), name -> value pairs
    options: tuple[tuple[str, str], ...] = ()

    @property
    def heading(self) -> str:
        return self.title or KINDS.get(self.kind, self.kind)

    def option(self, name: str, default: str | None = None) -> str | None:
        """The first value of the setting `name`, or `default` when the card has none."""
        return next((v for k, v in self.options if k == name), default)

    def option_list(self, name: str) -> list[str]:
        return [v for k, v in self.options if k == name]

    def options_in_words(self, labels: Labels) -> str:
        """The settings as a reader reads them ("outcome: major amputation; ...")."""
        specs = OPTIONS.get(self.kind, {})
        return "; ".join(
            f"{specs[k].label}: {specs[k].words(v, labels)}" for k, v in self.options if k in specs
        )

    def describe(self, labels: Labels) -> str:
        """The card's view in words, then the page settings it carries."""
        settings = self.options_in_words(labels)
        line = self.view.describe(labels)
        return f"{line}. Settings: {settings}" if settings else line

    def to_text(self) -> str:
        """The card's URL value: its kind, title, note and settings, then its view."""
        query = [(KIND, self.kind)]
        if self.title:
            query.append((TITLE, self.title))
        if self.note:
            query.append((NOTE, self.note))
        query.extend((OPTION + k, v) for k, v in self.options)
        query.extend(self.view.to_query().items())
        return urlencode(query)

    @classmethod
    def from_text(cls, text: str) -> tuple[Card | None, str | None]:
        """A card from its URL value, or None and why it cannot be used."""
        if len(text) > MAX_CARD_TEXT:
            return None, f"a card of {len(text):,} characters (at most {MAX_CARD_TEXT:,})"
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=200)
        first = dict(pairs)
        kind = first.get(KIND, "")
        if kind not in KINDS:
            shown = kind[:40] or "nothing"
            return None, f"kind={shown!r}: not a kind of card ({', '.join(KINDS)})"
        rest: dict[str, list[str]] = {}
        options: list[tuple[str, str]] = []
        problems: list[str] = []
        for name, value in pairs:
            if name.startswith(OPTION):
                found = _option(kind, name.removeprefix(OPTION), value, options)
                if found is not None:
                    problems.append(found)
            elif name not in (KIND, TITLE, NOTE):
                rest.setdefault(name, []).append(value)
        view = View.from_query(rest)
        card = cls(
            kind=kind,
            view=replace(view, problems=(), ignored=()),
            title=" ".join(first.get(TITLE, "").split())[:MAX_TITLE],
            note=first.get(NOTE, "").strip()[:MAX_NOTE],
            options=tuple(options),
        )
        problems.extend(view.problems)
        if problems:
            return card, f"card {card.heading!r}: " + "; ".join(problems)
        return card, None


def _option(kind: str, name: str, value: str, options: list[tuple[str, str]]) -> str | None:
    """Keep the setting `name` = `value` in `options` when the kind of card takes it;
    else why not (the card keeps the page's default)."""
    spec = OPTIONS.get(kind, {}).get(name)
    shown = f"{OPTION}{name[:40]}={value[:40]!r}"
    if spec is None:
        return f"{shown}: not a setting of this card"
    problem = spec.problem(value)
    if problem is not None:
        return f"{shown}: {problem}"
    if len(options) >= MAX_OPTIONS or (not spec.many and any(k == name for k, _ in options)):
        return f"{shown}: given more than once"
    options.append((name, value))
    return None


@dataclass(frozen=True)
class Basket:
    """The cards in order, and what the link held that could not be used."""

    cards: tuple[Card, ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)

    def to_query(self) -> list[str]:
        """The ``card`` parameter's values, in order."""
        return [c.to_text() for c in self.cards]

    @classmethod
    def from_query(cls, values: Sequence[str]) -> Basket:
        cards: list[Card] = []
        problems: list[str] = []
        if len(values) > MAX_CARDS:
            problems.append(f"{len(values)} cards in the link; the first {MAX_CARDS} are read")
        for text in values[:MAX_CARDS]:
            card, problem = Card.from_text(text)
            if card is not None:
                cards.append(card)
            if problem is not None:
                problems.append(problem)
        return cls(tuple(cards), tuple(problems))

    @classmethod
    def standard(cls, view: View, kinds: Iterable[str] = STANDARD) -> Basket:
        """The standard committee pack for one view."""
        return cls(tuple(Card(kind, view) for kind in kinds))

    def add(self, card: Card) -> Basket:
        return replace(self, cards=(*self.cards, card)[:MAX_CARDS])

    def remove(self, index: int) -> Basket:
        return replace(self, cards=self.cards[:index] + self.cards[index + 1 :])

    def move(self, index: int, step: int) -> Basket:
        """The card at `index` moved `step` places (-1: up), kept within the basket."""
        cards = list(self.cards)
        to = min(max(index + step, 0), len(cards) - 1)
        cards.insert(to, cards.pop(index))
        return replace(self, cards=tuple(cards))

    def edit(self, index: int, *, title: str | None = None, note: str | None = None) -> Basket:
        card = self.cards[index]
        changed = replace(
            card,
            title=card.title if title is None else " ".join(title.split())[:MAX_TITLE],
            note=card.note if note is None else note.strip()[:MAX_NOTE],
        )
        return replace(self, cards=(*self.cards[:index], changed, *self.cards[index + 1 :]))

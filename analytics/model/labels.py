"""Clinical words for the data model's codes: what a person reads instead of `DIALFL`,
`Y` or `BLACK OR AFRICAN AMERICAN`.

Codes stay in the data, the URL and the command line (a saved link survives a change
of wording); every page, figure, table, export and filter line reads them through a
`Labels` value. An extract can bring its own labels (SAS variable labels, a mapping
file's ``labels`` section): they override these defaults, cleaned of control
characters and shortened, because they are shown as they are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from analytics.model.filters import Clause, FilterState
from analytics.model.schema import CENSOR_REASONS, ENDPOINTS, TABLES

NOT_RECORDED = "Not recorded"
MAX_LABEL = 80  # characters of an extract's own label that are shown
YES_NO = {"Y": "Yes", "N": "No"}
# codes whose words are not their sentence case
_VALUES: dict[str, dict[str, str]] = {
    "SEX": {"M": "Male", "F": "Female"},
    "AGEGR1": {"<=70": "70 or younger", ">70": "Over 70"},
    "RUTHCAT": {
        "4": "4 (rest pain)",
        "5": "5 (minor tissue loss)",
        "6": "6 (major tissue loss)",
    },
    "PARAMCD": dict(ENDPOINTS),
    "CNSR": {"0": "Event", **{str(k): v for k, v in CENSOR_REASONS.items()}},
}
# columns whose values are identifiers, shown as they are
_IDENTIFIERS = frozenset({"STUDYID", "USUBJID", "SITEID"})
# words kept in capitals when a term is put in sentence case
_ACRONYMS = frozenset(
    {
        "AV",
        "MI",
        "CKD",
        "CLTI",
        "DVA",
        "ICU",
        "TIA",
        "AKI",
        "DVT",
        "PE",
        "CIN",
        "COPD",
        "HIV",
        "COVID-19",
        "CT",
        "MRI",
        "ECG",
        "UK",
        "US",
        "NICE",
        "IPG773",
        "II",
    }
)
_UNIT = re.compile(r"\s*\(([^)]*)\)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_FLAGS = frozenset(c.name for t in TABLES.values() for c in t.columns if c.type == "flag")
# the subject table's label wins (RUTHCAT is the baseline class there, a visit's elsewhere)
_SCHEMA_LABELS = {c.name: c.label for t in reversed(TABLES.values()) for c in t.columns}
_OPERATORS = {">=": "≥", "<=": "≤"}


_PROPER = {
    "hispanic": "Hispanic",
    "latino": "Latino",
    "african": "African",
    "american": "American",
    "asian": "Asian",
    "rutherford": "Rutherford",
}


def sentence_case(text: str) -> str:
    """A term in capitals in sentence case: `NOT HISPANIC OR LATINO` reads `Not Hispanic
    or Latino`. Proper words (a short list) keep their capital and acronyms stay in
    capitals; text that is not all in capitals is someone's own casing, left alone."""
    if not text or text != text.upper() or not any(ch.isalpha() for ch in text):
        return text
    words = text.lower().split(" ")
    out = []
    for i, word in enumerate(words):
        if word.upper() in _ACRONYMS:
            out.append(word.upper())
        elif word in _PROPER:
            out.append(_PROPER[word])
        else:
            out.append(word.capitalize() if i == 0 else word)
    return " ".join(out)


def clean(text: object) -> str:
    """An extract's own label as it may be shown: no control or direction characters,
    single spaces, at most `MAX_LABEL` characters."""
    words = " ".join(_CONTROL.sub(" ", str(text)).split())
    return words if len(words) <= MAX_LABEL else words[: MAX_LABEL - 1].rstrip() + "…"


@dataclass(frozen=True)
class Labels:
    """Column and value labels; `DEFAULT` holds the data model's own."""

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def with_labels(
        self,
        columns: Mapping[str, str] | None = None,
        values: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Labels:
        """These labels with an extract's own on top (cleaned, see `clean`)."""
        merged_values = {k: dict(v) for k, v in self.values.items()}
        for column, mapping in (values or {}).items():
            merged_values.setdefault(column, {}).update(
                {str(code): clean(word) for code, word in mapping.items() if clean(word)}
            )
        own = {c: clean(w) for c, w in (columns or {}).items() if clean(w)}
        return Labels({**self.columns, **own}, merged_values)

    def column(self, name: str, *, units: bool = False) -> str:
        """A column's clinical label ("On dialysis"); with `units`, its unit in
        parentheses as the data model gives it. An unknown column reads in sentence
        case rather than as a bare code."""
        if name in self.columns:
            return self.columns[name]
        text = _SCHEMA_LABELS.get(name)
        if text is None:
            return name.replace("_", " ").capitalize()
        return text if units else _UNIT.sub("", text)

    def unit(self, name: str) -> str:
        found = _UNIT.search(_SCHEMA_LABELS.get(name, ""))
        return found.group(1) if found else ""

    def value(self, column: str, code: object) -> str:
        """The words for one value of `column`."""
        if code is None or (isinstance(code, float) and math.isnan(code)) or code == "":
            return NOT_RECORDED
        text = str(code)
        own = self.values.get(column, {})
        if text in own:
            return own[text]
        if column in _VALUES and text in _VALUES[column]:
            return _VALUES[column][text]
        if column in _FLAGS and text in YES_NO:
            return YES_NO[text]
        if column in _IDENTIFIERS:
            return text
        return sentence_case(text)

    def level(self, column: str, code: object) -> str:
        """A group as legends and tables name it: "On dialysis: Yes"."""
        return f"{self.column(column)}: {self.value(column, code)}"

    def clause(self, clause: Clause) -> str:
        """A filter clause in words: "On dialysis = No", "Age at enrolment ≥ 60 years"."""
        name = self.column(clause.column)
        if clause.op in _OPERATORS:
            value = _bound(clause.values[0], self.unit(clause.column))
            return f"{name} {_OPERATORS[clause.op]} {value}"
        words = " or ".join(self.value(clause.column, v) for v in clause.values)
        return f"{name} {'=' if clause.op == 'in' else '≠'} {words}"

    def filters(self, state: FilterState) -> str:
        """The filters in words, or "none (all patients)"."""
        if not state.clauses:
            return "none (all patients)"
        return "; ".join(self.clause(c) for c in state.clauses)


def _bound(text: str, unit: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return f"{text} {unit}".strip() if unit else text
    return f"{day.day} {day.strftime('%b')} {day.year}"


DEFAULT = Labels()

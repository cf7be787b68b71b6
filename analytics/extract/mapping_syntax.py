"""Reading a mapping file's TOML or YAML with the line of every key, so that a problem
names file, line and key. Anchors, aliases and deep nesting are refused before
anything is built.
"""

from __future__ import annotations

import re
import tomllib

import yaml

from analytics.extract.issues import DataError, DataIssue

Path_ = tuple[str, ...]
MAX_DEPTH = 16  # a mapping nests three levels (values.SEX."1"); far deeper is not one


def fail(source: str, lines: dict[Path_, int], path: Path_, message: str,
         value: object = None) -> DataError:
    line = lines.get(path)
    key = ".".join(path)
    where = f"line {line}, " if line else ""
    issue = DataIssue(source, line, key or None, None if value is None else str(value), "error",
                      message)
    return DataError(f"{source}: {where}key {key}: {message}" if key else f"{source}: {message}",
                     [issue])


_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")
_TOML_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_TOML_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\- ]+?)\s*=""")


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(r""""((?:[^"\\]|\\.)*)"|'([^']*)'|([^.\s]+)""", text)
    return [a or b or c for a, b, c in parts]


def parse_toml(text: str, source: str) -> tuple[dict[str, object], dict[Path_, int]]:
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise _too_deep(source, None) from None
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_AT.search(str(exc))
        line = int(m.group(1)) if m else None
        detail = _TOML_AT.sub("", str(exc)).strip()
        issue = DataIssue(source, line, None, None, "error", f"not valid TOML: {detail}")
        where = f", line {line}" if line else ""
        raise DataError(f"{source}{where}: not valid TOML ({detail})", [issue]) from None
    lines: dict[Path_, int] = {}
    current: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER.match(raw)
        if header:
            current = _split_dotted(header.group(1))
            lines.setdefault(tuple(current), number)
            continue
        key = _TOML_KEY.match(raw)
        if key:
            lines.setdefault((*current, *_split_dotted(key.group(1))), number)
    return data, lines


class _DuplicateKeyError(Exception):
    def __init__(self, path: Path_, line: int) -> None:
        self.path, self.line = path, line


def _too_deep(source: str, line: int | None) -> DataError:
    message = (f"nested more than {MAX_DEPTH} levels deep; a mapping has at most three levels "
               "(section, table or column, key)")
    where = f" line {line}:" if line else ":"
    return DataError(f"{source}{where} {message}",
                     [DataIssue(source, line, None, None, "error", message)])


_ANCHORS = ("YAML anchors and aliases (&name, *name) are not accepted in a mapping file; "
            "write each value out")


def _check_yaml_events(text: str, source: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything is built: an alias is a
    reference, and expanding nested ones ("billion laughs") takes gigabytes. The event
    parser is iterative, so even a deeply nested file cannot exhaust the stack here."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            line = event.start_mark.line + 1
            raise DataError(f"{source} line {line}: {_ANCHORS}",
                            [DataIssue(source, line, None, None, "error", _ANCHORS)])
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(source, event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_yaml(text: str, source: str) -> tuple[dict[str, object], dict[Path_, int]]:
    try:
        _check_yaml_events(text, source)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        issue = DataIssue(source, line, None, None, "error", f"not valid YAML: {problem}")
        where = f", line {line}" if line else ""
        raise DataError(f"{source}{where}: not valid YAML ({problem})", [issue]) from None
    lines: dict[Path_, int] = {}
    if node is None:
        return {}, lines
    try:
        data = _yaml_value(node, (), lines)
    except _DuplicateKeyError as dup:
        raise fail(source, lines, dup.path, "the key is given twice") from None
    if not isinstance(data, dict):
        raise fail(source, lines, (), "expected sections such as columns: and values:")
    return data, lines


def _yaml_value(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> object:
    # Scalars keep their text as written: YAML 1.1 would read Yes/No as booleans and
    # 01 as 1, which is exactly what a recode table must not do.
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            here = (*path, key)
            if key in out:
                lines[here] = key_node.start_mark.line + 1
                raise _DuplicateKeyError(here, key_node.start_mark.line + 1)
            lines[here] = key_node.start_mark.line + 1
            out[key] = _yaml_value(value_node, here, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_value(n, path, lines) for n in node.value]
    value = node.value
    if node.tag.endswith(":null") and value in ("", "~", "null", "Null", "NULL"):
        return ""
    return str(value)

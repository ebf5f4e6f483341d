"""Read a protocol file into a `Protocol`, naming every problem by YAML path and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from aftercrisis.protocol.models import Protocol
from aftercrisis.protocol.references import reference_problems

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: Path_
    line: int | None
    message: str

    @property
    def dotted(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "(top level)"

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "line ?"
        return f"{where}: {self.dotted}: {self.message}"


class ProtocolError(Exception):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{listing}")


def _line_index(node: yaml.Node, path: Path_, index: dict[Path_, int]) -> None:
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            _line_index(value, child, index)
            index[child] = key.start_mark.line + 1  # the key's line reads better than its value's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), index)


def _nearest_line(path: Path_, index: dict[Path_, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in index:
            return index[path[:end]]
    return None


def parse_protocol(text: str, source: str = "<protocol>") -> Protocol:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ProtocolError(
            source, [Problem((), line, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
        ) from exc
    index: dict[Path_, int] = {}
    if node is not None:
        _line_index(node, (), index)
    if not isinstance(data, dict):
        raise ProtocolError(source, [Problem((), 1, "a protocol file is a mapping of sections")])
    problems: list[Problem] = []
    protocol: Protocol | None = None
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(p for p in error["loc"] if isinstance(p, (str, int)))
            problems.append(Problem(path, _nearest_line(path, index), error["msg"]))
    problems += [Problem(p, _nearest_line(p, index), m) for p, m in reference_problems(data)]
    if problems or protocol is None:
        raise ProtocolError(source, sorted(problems, key=lambda p: (p.line or 0, p.dotted)))
    return protocol


def load_protocol(path: str | Path) -> Protocol:
    path = Path(path)
    return parse_protocol(path.read_text(encoding="utf-8"), source=str(path))

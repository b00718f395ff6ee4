"""Safe YAML loading that remembers where every node stands in the file.

Only plain mappings, sequences and scalars are built: any explicit tag (``!!python/object``...)
is an error, never a constructor call. Duplicate keys, oversize files, deep nesting and alias
expansion bombs are refused before anything is built, and so are the characters the text rule refuses
(``engagement.text``: NUL and other controls but tab and line breaks, bidi overrides that make a file read
otherwise than it runs), said where they stand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engagement import text as text_rule
from engagement.i18n import N_, Phrase

# libyaml's composer when PyYAML has it (about 5x faster); its marks carry the same positions.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_BYTES = 256 * 1024
MAX_DEPTH = 24
MAX_NODES = 100_000

Path = tuple[str | int, ...]
STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one file, printed as ``path:line:column: error: message``."""

    path: str
    line: int
    column: int
    message: str  # in English, as the command line prints it
    severity: str = "error"
    template: str = field(default="", compare=False)  # the English template ``message`` was made from
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, path: str, line: int, column: int, message: str | Phrase, severity: str = "error") -> Diagnostic:
        """A diagnostic keeping the template and parameters of ``message`` when it is a Phrase."""
        if isinstance(message, Phrase):
            return cls(path, line, column, str(message), severity, message.template, message.params)
        return cls(path, line, column, message, severity)

    def text(self, translate: Callable[[str], str]) -> str:
        """The message in a reader's language: ``translate`` is a gettext (English without a template)."""
        return Phrase(self.template, self.params).render(translate) if self.template else self.message

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass
class Located:
    """A loaded document and the 1-based (line, column) of every key and value in it."""

    data: Any
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, key: bool = False) -> tuple[int, int]:
        """The position of ``path`` (its key if asked and known), else of its nearest ancestor."""
        table = self.keys if key else self.values
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))


class LoadError(Exception):
    """The file cannot be loaded; ``phrase`` is ``message`` with its template and parameters."""

    def __init__(self, line: int, column: int, message: str | Phrase) -> None:
        super().__init__(str(message))
        self.line, self.column, self.message = line, column, str(message)
        self.phrase = message if isinstance(message, Phrase) else Phrase(message)


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, located: Located) -> None:
        self.located = located
        self.count = 0

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise LoadError(*_pos(node), Phrase(N_("document has more than %(count)s nodes (alias expansion?)"),
                                                {"count": MAX_NODES}))
        if depth > MAX_DEPTH:
            raise LoadError(*_pos(node), Phrase(N_("nesting deeper than %(count)s levels"), {"count": MAX_DEPTH}))
        if node.tag not in STANDARD_TAGS:
            raise LoadError(*_pos(node), Phrase(N_("tag %(tag)r is not allowed"), {"tag": node.tag}))
        self.located.values[path] = _pos(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return _scalar(node)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise LoadError(*_pos(key_node), Phrase(N_("merge keys (<<) are not allowed")))
            if not isinstance(key_node, ScalarNode):
                raise LoadError(*_pos(key_node), Phrase(N_("mapping keys must be plain scalars")))
            key = self.build(key_node, (*path, "<key>"), depth + 1)
            if isinstance(key, bool | int | float) or key is None:
                key = str(key_node.value)  # `on:`/`yes:`/`1:` stay the words that were written
            if key in result:
                line, column = _pos(key_node)
                first = self.located.keys[(*path, key)]
                raise LoadError(line, column, Phrase(N_("duplicate key %(key)r (first at line %(line)s)"),
                                 {"key": key, "line": first[0]}))
            self.located.keys[(*path, key)] = _pos(key_node)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        self.located.values.pop((*path, "<key>"), None)
        return result


_SCALARS = yaml.SafeLoader("")


def _scalar(node: ScalarNode) -> Any:
    if node.tag == "tag:yaml.org,2002:timestamp":  # dates stay text: the checker and the forms parse them
        try:
            return _SCALARS.construct_object(node, deep=True).isoformat()
        except ValueError:  # 2025-02-30 looks like a date and is none: the checker says so where it stands
            return node.value
    return _SCALARS.construct_object(node, deep=True)


def _refuse_invisible(text: str) -> None:
    """A ``LoadError`` at the first character the text rule refuses in a file (multi-line text), if any."""
    index = text_rule.first_refused(text, multiline=True)
    if index is None:
        return
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    raise LoadError(line, column, Phrase(N_("invisible control character %(character)s: remove it"),
                                         {"character": text_rule.described(text, index)}))


def load_text(text: str) -> Located:
    """Parse one YAML document; raises `LoadError` with a 1-based position."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise LoadError(1, 1, Phrase(N_("file is larger than %(kib)s KiB"), {"kib": MAX_BYTES // 1024}))
    _refuse_invisible(text)
    try:
        root = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise LoadError(line, column, Phrase(N_("YAML syntax error: %(problem)s"),
                                            {"problem": exc.problem or exc.context})) from None
    except yaml.YAMLError as exc:
        raise LoadError(1, 1, Phrase(N_("YAML error: %(error)s"), {"error": str(exc)})) from None
    located = Located(data=None)
    if root is None:
        raise LoadError(1, 1, Phrase(N_("the file is empty")))
    located.data = _Builder(located).build(root, (), 0)
    return located

"""French typography in every French text the product shows: the apostrophe ’ and a no-break space.

    python tools/typography.py --check   # list the French strings that break the rules (exit status 1 if any)
    python tools/typography.py --fix     # rewrite them in place, then list what is left to fix by hand

The rules (Imprimerie nationale, as GOV.FR applies them): the apostrophe is ’ (U+2019), never ' ; a
no-break space comes before : ; ! ? and inside « » (U+00A0, which the catalogue already uses; the narrow
U+202F is accepted too). What is machine-read is left alone: Python and Jinja placeholders, HTML tags and
their attribute quotes, entities, URLs, e-mail addresses, times (14:30) and `code`.

Where the French is: the msgstr of the French catalogue, the ``fr:`` values of the workflow files, of the
studio's starter and of the invitation's content, the legal pages (French only), the French mail
templates, and the French literals of the demonstration data. ``tests/unit/test_typography.py`` runs the
check, so a French string added with a typewriter apostrophe fails the suite.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import re
import sys
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NBSP, NNBSP, APOSTROPHE = "\u00a0", "\u202f", "\u2019"
CATALOGUE = "translations/fr/LC_MESSAGES/messages.po"
FR_FIELDS = ("workflows/*.yml", "workflows/*.yaml", "web/studio/starter.yml", "engagement/invitations/content.yml")
FRENCH_YAML = ("engagement/pages/legal.yml",)  # every string value is French
MAIL_TEMPLATES = ("templates/email/*/fr/*",)
FRENCH_PYTHON = ("engagement/demo_events.py", "engagement/pages/service.py")

# What typography must never touch. Each match is masked by one private-use character while the rules run.
PROTECTED = re.compile(r"""
      \{\{.*?\}\} | \{%.*?%\} | \{\#.*?\#\}                             # Jinja
    | %\(\w+\)[-#0+ ]?\d*(?:\.\d+)?[diouxXeEfFgGcrsa]                  # %(name)s
    | %[-#0+]?\d*(?:\.\d+)?[diouxXeEfFgGcrsa%](?![\w])                 # %s %d %%
    | \{[^{}\n]*(?:\{[^{}\n]*\}[^{}\n]*)*\}                              # {name}, {0:>3}, {fr: ..., en: ...}
    | <[^<>]*>                                                         # HTML tags, their attributes
    | &(?:\#\d+|\#x[0-9a-fA-F]+|[A-Za-z]\w*);                          # entities
    | (?:https?|mailto|ftp|tel):[^\s<>"]+ | www\.[^\s<>"]+             # addresses of the web
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                                     # e-mail addresses
    | `[^`\n]*` | (?<![^\W_])'[^'\s][^'\n]*?'(?![^\W_])                  # code, 'code'
    | \b\d{1,2}:\d{2}\b                                                # times
""", re.VERBOSE | re.DOTALL)
MASK_BASE, ENTITY_MASK_BASE = 0xE000, 0xF000  # the private use area: never in a real text
MASKED, ENTITY_MASKED = "[\ue000-\uefff]", "[\uf000-\uf8ff]"
WORDLIKE = rf"(?:[^\W_]|{MASKED}|[)\]»’”])"  # what a word may end with (a placeholder is a word)
SPACED = rf"[\s\u00a0\u202f]|{ENTITY_MASKED}"  # already spaced: a space of any kind, or &nbsp;
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?<=[^\W\d_])'(?=\w|{MASKED})"), APOSTROPHE),             # l'école, d'1 km -> l’école, d’1 km
    (re.compile(r"[ \t]+(?=[:;!?])"), NBSP),                              # compte : -> no-break space
    (re.compile(rf"(?<={WORDLIKE})(?=[:;!?](?:[\s\"”»)\]]|{MASKED}|$))"), NBSP),  # compte: -> compte :
    (re.compile(rf"(?<=«)(?:[ \t]+|(?!{SPACED}))"), NBSP),                 # «mot» and « mot » -> « mot »
    (re.compile(rf"(?:[ \t]+|(?<!{SPACED}|«))(?=»)"), NBSP),
)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml, as engagement.workflow.loader reads workflows
LEFT_OVER = re.compile(r"'")  # a typewriter apostrophe no rule could place: a quotation to rewrite by hand


@dataclass(frozen=True)
class Finding:
    """One French string that breaks a rule: where it is and what the fixed text would be."""

    where: str
    text: str
    fixed: str
    by_hand: bool  # a quotation in 'single quotes': no rule guesses « » for it

    def __str__(self) -> str:
        what = "straight quote left, fix by hand" if self.by_hand else "fixable"
        return f"{self.where}: {what}: {self.text!r} -> {self.fixed!r}"


def _mask(text: str) -> tuple[str, list[str]]:
    """``text`` with each protected piece replaced by one private-use character: in the word-like range for
    what reads as a word (a placeholder, a link), in the other for an entity (``&nbsp;`` is a space)."""
    kept: list[str] = []

    def hide(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        base = ENTITY_MASK_BASE if match.group(0).startswith("&") else MASK_BASE
        return chr(base + len(kept) - 1)

    return PROTECTED.sub(hide, text), kept


def _unmask(text: str, kept: list[str]) -> str:
    def shown(match: re.Match[str]) -> str:
        code = ord(match.group(0))
        return kept[code - (ENTITY_MASK_BASE if code >= ENTITY_MASK_BASE else MASK_BASE)]

    return re.sub(f"{MASKED}|{ENTITY_MASKED}", shown, text)


def fix(text: str) -> str:
    """``text`` in French typography; placeholders, markup, URLs and times untouched."""
    masked, kept = _mask(text)
    for pattern, replacement in RULES:
        masked = pattern.sub(replacement, masked)
    return _unmask(masked, kept)


def straight_quotes_left(text: str) -> bool:
    """Whether ``text`` still holds a typewriter ' outside what is protected (a quotation, a typo)."""
    return bool(LEFT_OVER.search(_mask(fix(text))[0]))


def is_french_python_literal(value: str) -> bool:
    """A demo literal is French prose when it has a French letter or an elision (English log lines have none)."""
    return bool(re.search(r"[àâçéèêëîïôûùüœÀÂÇÉÈÊÎÔÛ’«]|\b(?:[dlnmstcj]|qu)'", value, re.IGNORECASE))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def finding(where: str, text: str) -> Finding | None:
    fixed = fix(text)
    by_hand = straight_quotes_left(text)
    return Finding(where, text, fixed, by_hand) if fixed != text or by_hand else None


# --- The French catalogue: msgstr rewritten in place, line by line, keeping the catalogue's layout. ---

PO_STRING = re.compile(r'^(?P<head>(?:#~ )?(?:msgid(?:_plural)?|msgstr(?:\[\d+\])?|msgctxt) )?"(?P<body>.*)"\s*$')


def _po_unescape(body: str) -> str:
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body)


def _po_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
            .replace('"', '\\"'))


@dataclass
class PoString:
    """One msgid/msgstr/... value: its keyword and the (line number, decoded text) of each of its lines."""

    keyword: str
    lines: list[tuple[int, str]]

    @property
    def text(self) -> str:
        return "".join(part for _, part in self.lines)


def po_strings(lines: list[str]) -> Iterator[PoString]:
    current: PoString | None = None
    for number, line in enumerate(lines):
        match = PO_STRING.match(line)
        if match is None:
            if current is not None:
                yield current
            current = None
            continue
        if match.group("head"):
            if current is not None:
                yield current
            current = PoString(match.group("head").strip(), [])
        if current is not None:
            current.lines.append((number, _po_unescape(match.group("body"))))
    if current is not None:
        yield current


def po_msgstrs(lines: list[str]) -> Iterator[tuple[PoString, str]]:
    """Each msgstr with its msgid; the header (msgid "") and obsolete entries (#~) are not prose."""
    msgid = ""
    for value in po_strings(lines):
        if value.keyword == "msgid":
            msgid = value.text
        elif value.keyword.startswith("msgstr") and msgid and not value.keyword.startswith("#~"):
            yield value, msgid


def _spread(old_parts: list[str], new: str) -> list[str]:
    """The new text cut where the old one was cut across lines (an insertion goes with what follows it)."""
    opcodes = difflib.SequenceMatcher(None, "".join(old_parts), new, autojunk=False).get_opcodes()

    def moved(old_at: int) -> int:
        for tag, i1, i2, j1, _j2 in opcodes:
            if (tag == "insert" and i1 == old_at) or i1 <= old_at < i2:
                return j1 + (old_at - i1 if tag == "equal" else 0)
        return len(new)

    cuts, position = [], 0
    for part in old_parts:
        cuts.append(moved(position))
        position += len(part)
    cuts.append(len(new))
    return [new[cuts[i]:cuts[i + 1]] for i in range(len(old_parts))]


def check_po(path: Path) -> list[Finding]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for value, msgid in po_msgstrs(lines):
        hit = finding(f"{_name(path)}:{value.lines[0][0] + 1} ({msgid[:40]!r})", value.text)
        if hit:
            found.append(hit)
    return found


def fix_po(path: Path) -> int:
    """Rewrite the msgstr values in place; read and written in one quick pass (others may append)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = 0
    for value, _msgid in po_msgstrs(lines):
        fixed = fix(value.text)
        if fixed == value.text:
            continue
        changed += 1
        for (number, old), new in zip(value.lines, _spread([p for _, p in value.lines], fixed), strict=True):
            if new != old:
                prefix = lines[number][:lines[number].index('"')]
                lines[number] = f'{prefix}"{_po_escape(new)}"'
    path.write_text("\n".join(lines), encoding="utf-8")
    return changed


# --- YAML: the French values rewritten in their source span, the file re-read to prove nothing else moved. ---

def _french_nodes(node: yaml.Node, all_strings: bool, french: bool = False) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        if (french or all_strings) and node.tag == "tag:yaml.org,2002:str":
            yield node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            is_fr = isinstance(key, yaml.ScalarNode) and key.value == "fr"
            yield from _french_nodes(value, all_strings, french or is_fr)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _french_nodes(item, all_strings, french)


def yaml_french(text: str, all_strings: bool) -> list[yaml.ScalarNode]:
    root = yaml.compose(text, Loader=LOADER)
    return [] if root is None else list(_french_nodes(root, all_strings))


def check_yaml(path: Path, all_strings: bool) -> list[Finding]:
    text = path.read_text(encoding="utf-8")
    found = []
    for node in yaml_french(text, all_strings):
        hit = finding(f"{_name(path)}:{node.start_mark.line + 1}", node.value)
        if hit:
            found.append(hit)
    return found


def _fixed_span(span: str, style: str | None) -> str:
    if style == "'":
        inner = span[1:-1].replace("''", "'")
        return "'" + fix(inner).replace("'", "''") + "'"
    return fix(span)


def _expected(data: Any, french: bool, all_strings: bool) -> Any:
    if isinstance(data, dict):
        return {k: _expected(v, french or k == "fr", all_strings) for k, v in data.items()}
    if isinstance(data, list):
        return [_expected(v, french, all_strings) for v in data]
    return fix(data) if isinstance(data, str) and (french or all_strings) else data


def fix_yaml(path: Path, all_strings: bool) -> int:
    """Fix each French scalar in its own characters (comments, quoting and layout kept); refuse to write
    unless the result loads as the same data with exactly those values fixed."""
    text = path.read_text(encoding="utf-8")
    nodes = [n for n in yaml_french(text, all_strings) if fix(n.value) != n.value]
    new = text
    for node in sorted(nodes, key=lambda n: n.start_mark.index, reverse=True):
        start, end = node.start_mark.index, node.end_mark.index
        new = new[:start] + _fixed_span(new[start:end], node.style) + new[end:]
    if yaml.load(new, Loader=LOADER) != _expected(yaml.load(text, Loader=LOADER), False, all_strings):  # noqa: S506
        raise SystemExit(f"{path}: a value would not load as fixed; fix it by hand")
    path.write_text(new, encoding="utf-8")
    return len(nodes)


# --- Mail templates: the whole file is French (Jinja and markup are protected). ---

def check_text_file(path: Path) -> list[Finding]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        hit = finding(f"{_name(path)}:{number}", line)
        if hit:
            found.append(hit)
    return found


def fix_text_file(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    fixed = "\n".join(fix(line) for line in text.split("\n"))
    path.write_text(fixed, encoding="utf-8")
    return int(fixed != text)


# --- Python demo data: French string literals without escapes, rewritten token by token. ---

def _literal_text(source: str) -> str | None:
    """The text of a string literal; an f-string's with ``{}`` where its values go; None for bytes."""
    if source.lstrip("rRuU")[:1] in "fF" or source[:2].lower() in ("rf", "fr"):
        parts = ast.parse(source, mode="eval").body
        assert isinstance(parts, ast.JoinedStr)
        return "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in parts.values)  # type: ignore[misc]
    value = ast.literal_eval(source)
    return value if isinstance(value, str) else None


def _python_literals(text: str) -> Iterator[tuple[tokenize.TokenInfo, str]]:
    """French literals other than docstrings (docstrings and log lines are English)."""
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.STRING or token.string.lstrip("rRuUfFbB").startswith(('"""', "'''")):
            continue
        value = _literal_text(token.string)
        if value is not None and is_french_python_literal(value):
            yield token, value


def check_python(path: Path) -> list[Finding]:
    text = path.read_text(encoding="utf-8")
    found = []
    for token, value in _python_literals(text):
        hit = finding(f"{_name(path)}:{token.start[0]}", value)
        if hit:
            found.append(hit)
    return found


def fix_python(path: Path) -> int:
    """Only a literal whose source is its value between quotes is rewritten (no escapes to re-encode)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    changed = 0
    for token, value in reversed(list(_python_literals(text))):
        quote = token.string[0]
        fixed = fix(value)
        if fixed == value or token.string != f"{quote}{value}{quote}" or quote in fixed or token.start[0] != \
                token.end[0]:
            continue
        row, (col, end) = token.start[0] - 1, (token.start[1], token.end[1])
        lines[row] = lines[row][:col] + f"{quote}{fixed}{quote}" + lines[row][end:]
        changed += 1
    path.write_text("".join(lines), encoding="utf-8")
    return changed


# --- Where the French is, and the command line. ---

def _glob(patterns: tuple[str, ...], root: Path) -> list[Path]:
    return sorted({path for pattern in patterns for path in root.glob(pattern) if path.is_file()})


def sources(root: Path = ROOT) -> list[tuple[Path, Callable[[Path], list[Finding]], Callable[[Path], int]]]:
    """Every French file with how to check it and how to fix it."""
    found: list[tuple[Path, Callable[[Path], list[Finding]], Callable[[Path], int]]] = [
        (root / CATALOGUE, check_po, fix_po)]
    found += [(p, lambda p: check_yaml(p, False), lambda p: fix_yaml(p, False)) for p in _glob(FR_FIELDS, root)]
    found += [(p, lambda p: check_yaml(p, True), lambda p: fix_yaml(p, True)) for p in _glob(FRENCH_YAML, root)]
    found += [(p, check_text_file, fix_text_file) for p in _glob(MAIL_TEMPLATES, root)]
    found += [(p, check_python, fix_python) for p in _glob(FRENCH_PYTHON, root)]
    return found


def check(root: Path = ROOT) -> list[Finding]:
    return [hit for path, checker, _fixer in sources(root) for hit in checker(path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fix", action="store_true", help="rewrite the French strings in place first")
    parser.add_argument("--check", action="store_true", help="list what breaks the rules (the default)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project's directory (default: this one)")
    args = parser.parse_args(argv)
    if args.fix:
        for path, _checker, fixer in sources(args.root):
            if count := fixer(path):
                print(f"{_name(path)}: {count} fixed")
    left = check(args.root)
    for hit in left:
        print(hit)
    print(f"{len(left)} French string(s) to fix", file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())

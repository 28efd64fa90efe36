"""Message templates: Jinja text with the table's column headers as placeholders, rendered per row.

A column can be named four ways: ``{{ Förnamn }}`` (the header, when it is an identifier),
``{{ First name }}`` (a header of words and spaces, as people write it), ``{{ row["First
name"] }}`` (any header) and ``{{ first_name }}`` (``field_name(header)``; any name is matched
this way, so ``{{ FÖRNAMN }}`` finds "Förnamn" too). Every placeholder is checked against the
headers when the template is compiled, so a typo fails once, up front, instead of on every
row; so is text that looks like another tool's placeholder for a column (``{Förnamn}``,
``[Förnamn]``, ...), which would go out as written to everyone unless ``literal`` is asked for.

Rendering rules:

- Cell text is used without its surrounding whitespace (stray spaces typed in Excel).
- An empty cell (None or blank text) behind a placeholder gives a :class:`FieldProblem`, never
  an empty string. A template may handle empty values itself: ``{% if Titel %}...{% endif %}``
  and ``{{ Titel|default("kund") }}`` see an empty cell as undefined.
- Values print as a person would write them (:func:`format_value`): ``12.0`` -> ``12``,
  ``0.1 + 0.2`` -> ``0.3`` (15 significant digits, Excel's own precision), ``True`` -> ``TRUE``
  (Excel's spelling), a date -> ``2026-12-01``, a datetime -> ``2026-12-01 14:30`` (just the date
  at midnight, because Excel dates arrive as midnight datetimes), a time -> ``14:30``.
  Filters receive the raw values: ``date(fmt)``, ``time(fmt)``, ``number(decimals, thousands,
  decimal)`` plus Jinja's built-in filters.
- Block tags eat the newline after them (``trim_blocks``, ``lstrip_blocks``); one final newline
  of the template source is dropped, the rest of the text is kept as written.

Templates run in Jinja's immutable sandbox; attribute names starting with ``_`` are refused at
compile time, and anything else the sandbox refuses at render time raises ``TemplateError``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateError
from .placeholders import find_lookalikes, is_spaced_name, rewrite_spaced_names
from .table import Cell
from .values import FILTERS, EmptyCell, RowProblem, format_value, is_empty

__all__ = ["FieldProblem", "MessageTemplate", "compile_template", "field_name", "format_value"]

ROW = "row"
"""The name of the mapping ``row["Header"]``; a column called "row" is reached as ``row["row"]``."""

_NON_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why one row cannot be rendered; ``column`` is "" when no single column is to blame.

    ``summary`` is the reason without the row's value ("column 'Datum': not a date"), shared
    by every row that fails the same way; "" when ``reason`` holds no value of its own.
    """

    column: str
    reason: str
    summary: str = ""


def field_name(header: str) -> str:
    """The normalized placeholder name of a header: ``"First name"`` -> ``"first_name"``."""
    folded = unicodedata.normalize("NFKC", header).casefold()
    return _NON_ALNUM.sub("_", folded).strip("_")


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=False,  # SMS text, not HTML
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=format_value,
    )
    env.filters.update(FILTERS)
    return env


_ENV = _environment()


# ---------------------------------------------------------------------------------------------
# The compiled template


@dataclass(frozen=True, slots=True, eq=False)
class MessageTemplate:
    """A template checked against one header row; build it with :func:`compile_template`."""

    name: str
    source: str
    fields: tuple[str, ...]
    _template: Template = field(repr=False)
    _names: tuple[tuple[str, int], ...] = field(repr=False)  # placeholder -> column index
    _row_keys: tuple[tuple[str, int], ...] | None = field(repr=False)  # row["key"] -> index
    _headers: tuple[str, ...] = field(repr=False)
    # Plain substitution templates (text and bare {{ name }}) as literal text and column
    # indices: the same output as Jinja, without building a context per row (100,000 rows).
    _plain: tuple[str | int, ...] | None = field(default=None, repr=False)

    def render(self, values: Sequence[Cell]) -> str | FieldProblem:
        """The text for one row (``values`` aligned with the headers), or why it cannot be made."""
        if self._plain is not None:
            return self._render_plain(values)
        context: dict[str, object] = {}
        for name, index in self._names:
            context[name] = self._value(values, index)
        if self._row_keys is not None:
            context[ROW] = {key: self._value(values, index) for key, index in self._row_keys}
        try:
            return self._template.render(context)
        except RowProblem as problem:
            column = self._blame(problem, values)
            summary = (
                problem.summary and (f"column {column!r}: " if column else "") + problem.summary
            )
            return FieldProblem(column, problem.reason, summary)
        except SecurityError as error:
            raise TemplateError(f"not allowed: {error}", file=self.name) from error
        except Exception as error:  # a row-specific failure, e.g. arithmetic on a text cell
            column = self._blame(None, values)
            return FieldProblem(column, f"the template failed: {error}", "the template failed")

    def _render_plain(self, values: Sequence[Cell]) -> str | FieldProblem:
        pieces = []
        for part in self._plain or ():
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = values[part] if part < len(values) else None
            if is_empty(value):
                column = self._headers[part]
                return FieldProblem(column, f"column {column!r} is empty")
            pieces.append(value.strip() if isinstance(value, str) else format_value(value))
        return "".join(pieces)

    def _value(self, values: Sequence[Cell], index: int) -> object:
        value = values[index] if index < len(values) else None
        if is_empty(value):
            return EmptyCell(self._headers[index])
        return value.strip() if isinstance(value, str) else value

    def _blame(self, problem: RowProblem | None, values: Sequence[Cell]) -> str:
        if problem is not None and problem.column is not None:
            return problem.column
        if problem is not None:
            for header in self.fields:
                value = self._value(values, self._headers.index(header))
                if value is problem.value or value == problem.value:
                    return header
        return self.fields[0] if len(self.fields) == 1 else ""


def _summary(column: str, summary: str) -> str:
    if not summary:
        return ""
    return f"column {column!r}: {summary}" if column else summary


def compile_template(
    source: str, headers: Sequence[str], *, name: str = "message", literal: bool = False
) -> MessageTemplate:
    """Parse ``source`` once and bind its placeholders to ``headers``; raises ``TemplateError``.

    ``{{ First name }}`` (a header with spaces) is read as that column. Text that looks like
    another tool's placeholder for a column (``{Namn}``, ``[Namn]``, ``<<Namn>>``, ``%Namn%``,
    ``$Namn``) is refused, since it would go out as written to everyone, unless ``literal``.
    """
    headers = tuple(headers)
    resolver = _Resolver(headers)
    try:
        tree = _ENV.parse(_read_spaced_names(source, resolver, name))
    except TemplateSyntaxError as error:
        raise _syntax_error(error, source, name) from error
    _check_nodes(tree, name)
    if not literal:
        _check_lookalikes(tree, resolver, name)
    undeclared = meta.find_undeclared_variables(tree)
    names = _bind_names(tree, undeclared - {ROW}, resolver, name)
    row_keys = _bind_row(tree, resolver, name) if ROW in undeclared else None
    try:
        template = _ENV.from_string(tree)
    except TemplateSyntaxError as error:
        raise _syntax_error(error, source, name) from error
    used = {index for _, index in names} | {index for _, index in row_keys or ()}
    return MessageTemplate(
        name=name,
        source=source,
        fields=tuple(headers[i] for i in sorted(used)),
        _template=template,
        _names=names,
        _row_keys=row_keys,
        _headers=headers,
        _plain=_plain_parts(tree, dict(names), dict(row_keys or ())),
    )


def _plain_parts(
    tree: nodes.Template, names: dict[str, int], row_keys: dict[str, int]
) -> tuple[str | int, ...] | None:
    """Literal text and column indices, if the template is nothing but text and bare columns."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    parts: list[str | int] = []
    for node in tree.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            parts.append(node.data)
        elif isinstance(node, nodes.Name) and node.name in names:
            parts.append(names[node.name])
        elif (
            isinstance(node, nodes.Getitem)
            and _is_row(node.node)
            and isinstance(node.arg, nodes.Const)
            and node.arg.value in row_keys
        ):
            parts.append(row_keys[node.arg.value])  # row["First name"], as {{ First name }} reads
        else:
            return None
    return tuple(parts)


def _read_spaced_names(source: str, resolver: _Resolver, name: str) -> str:
    """``source`` with ``{{ First name }}`` as ``row["First name"]``; unknown ones fail here."""
    rewritten, unknown = rewrite_spaced_names(source, resolver.header_of, _row_spelling)
    if unknown:
        _fail([f"line {u.line}: {resolver.find(u.words)}" for u in unknown], resolver, name)
    return rewritten


def _check_lookalikes(tree: nodes.Template, resolver: _Resolver, name: str) -> None:
    """Refuse ``{Namn}`` and the like in the literal text when they name a column."""
    found = [
        f"line {item.line}: {item.token!r} looks like a placeholder: write {_spelling(item.header)}"
        for data in tree.find_all(nodes.TemplateData)
        for item in find_lookalikes(data.data, data.lineno, resolver.header_of)
    ]
    if found:
        raise TemplateError(
            "; ".join(found) + " (or send the text as written with --literal)", file=name
        )


def _syntax_error(error: TemplateSyntaxError, source: str, name: str) -> TemplateError:
    lines = source.splitlines()
    where = f"line {error.lineno}"
    if 0 < error.lineno <= len(lines) and lines[error.lineno - 1].strip():
        where += f" ({lines[error.lineno - 1].strip()[:60]!r})"
    return TemplateError(f"{where}: {error.message}", file=name)


class _Resolver:
    """Finds the column a placeholder means: exact header first, then by ``field_name``."""

    def __init__(self, headers: tuple[str, ...]) -> None:
        self.headers = headers
        self.keys = tuple(field_name(h) for h in headers)

    def find(self, placeholder: str, *, in_row: bool = False) -> int | str:
        """The column index, or a sentence saying why there is none."""
        exact = [i for i, h in enumerate(self.headers) if h == placeholder]
        key = field_name(placeholder)
        matches = exact or [i for i, k in enumerate(self.keys) if key and k == key]
        if len(matches) == 1:
            return matches[0]
        if exact:
            return f"{len(exact)} columns are called {placeholder!r}: rename all but one"
        if matches:
            both = " and ".join(repr(self.headers[i]) for i in matches)
            return (
                f'{placeholder!r} matches the columns {both}: write row["..."] with the exact one'
            )
        what = "column" if in_row else "placeholder"
        return f"unknown {what} {placeholder!r}{self._suggestion(placeholder, in_row)}"

    def header_of(self, words: str) -> str | None:
        """The header ``words`` name (exactly, or case-, space- and punctuation-insensitively)."""
        found = self.find(words, in_row=True)
        return self.headers[found] if isinstance(found, int) else None

    def _suggestion(self, placeholder: str, in_row: bool) -> str:
        candidates = {h: h for h in self.headers if h} | {
            k: h for k, h in zip(self.keys, self.headers, strict=True) if k
        }
        close = difflib.get_close_matches(placeholder, candidates, n=1, cutoff=0.6)
        close = close or difflib.get_close_matches(
            field_name(placeholder), candidates, n=1, cutoff=0.6
        )
        if not close:
            return ""
        header = candidates[close[0]]
        return f" (did you mean {_row_spelling(header) if in_row else _spelling(header)}?)"

    def listing(self) -> str:
        named = [repr(h) for h in self.headers if h]
        return (
            f"The columns are: {', '.join(named)}." if named else "The table has no column headers."
        )


def _spelling(header: str) -> str:
    """How to write a placeholder for ``header`` in a template."""
    if (header.isidentifier() and header != ROW) or is_spaced_name(header):
        return "{{ " + header + " }}"
    candidate = field_name(header)
    if candidate.isidentifier() and candidate != ROW:
        return "{{ " + candidate + " }}"
    return "{{ " + _row_spelling(header) + " }}"


def _row_spelling(header: str) -> str:
    quoted = '"' + header.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"row[{quoted}]"


def _fail(problems: list[str], resolver: _Resolver, name: str) -> NoReturn:
    raise TemplateError("; ".join(problems) + ". " + resolver.listing(), file=name)


def _bind_names(
    tree: nodes.Template, placeholders: set[str], resolver: _Resolver, name: str
) -> tuple[tuple[str, int], ...]:
    bound: list[tuple[str, int]] = []
    problems: list[str] = []
    lines = _first_lines(tree)
    for placeholder in sorted(placeholders, key=lambda n: lines.get(n, 0)):
        found = resolver.find(placeholder)
        if isinstance(found, int):
            bound.append((placeholder, found))
        elif placeholder not in _ENV.globals:  # range, dict, namespace, ... stay usable
            problems.append(f"line {lines[placeholder]}: {found}")
    if problems:
        _fail(problems, resolver, name)
    return tuple(bound)


def _first_lines(tree: nodes.Template) -> dict[str, int]:
    lines: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        lines.setdefault(node.name, node.lineno)
    return lines


def _row_uses(tree: nodes.Template) -> Iterator[tuple[nodes.Node, object, int]]:
    """Each ``row`` lookup as (Name node, key or None when it is not a constant text, line)."""
    for node in tree.find_all((nodes.Getitem, nodes.Getattr, nodes.Call)):
        if isinstance(node, nodes.Getitem) and _is_row(node.node):
            key = node.arg.value if isinstance(node.arg, nodes.Const) else None
            yield node.node, key, node.lineno
        elif isinstance(node, nodes.Getattr) and _is_row(node.node) and node.attr != "get":
            yield node.node, node.attr, node.lineno
        elif (
            isinstance(node, nodes.Call)
            and isinstance(node.node, nodes.Getattr)
            and node.node.attr == "get"
            and _is_row(node.node.node)
        ):
            args = node.args
            key = args[0].value if len(args) == 1 and isinstance(args[0], nodes.Const) else None
            yield node.node.node, key, node.lineno


def _is_row(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == ROW and node.ctx == "load"


def _bind_row(tree: nodes.Template, resolver: _Resolver, name: str) -> tuple[tuple[str, int], ...]:
    bound: dict[str, int] = {}
    problems: list[str] = []
    seen: set[int] = set()
    for row_node, key, line in _row_uses(tree):
        seen.add(id(row_node))
        if not isinstance(key, str):
            problems.append(f'line {line}: write row["Column name"] with the header in quotes')
            continue
        found = resolver.find(key, in_row=True)
        if isinstance(found, int):
            bound[key] = found
        else:
            problems.append(f"line {line}: {found}")
    for node in tree.find_all(nodes.Name):
        if _is_row(node) and id(node) not in seen:
            problems.append(f'line {node.lineno}: use row only as row["Column name"]')
    if problems:
        _fail(problems, resolver, name)
    return tuple(bound.items())


def _check_nodes(tree: nodes.Template, name: str) -> None:
    """Refuse what the sandbox would refuse anyway, and what needs files, at compile time."""
    for node in tree.find_all(
        (
            nodes.Getattr,
            nodes.Filter,
            nodes.Test,
            nodes.Include,
            nodes.Extends,
            nodes.Import,
            nodes.FromImport,
        )
    ):
        line = f"line {node.lineno}"
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise TemplateError(f"{line}: access to {node.attr!r} is not allowed", file=name)
        if isinstance(node, nodes.Filter | nodes.Test):
            _check_callable(node, name)
        elif isinstance(node, nodes.Include | nodes.Extends | nodes.Import | nodes.FromImport):
            tag = type(node).__name__.lower()
            raise TemplateError(f"{line}: {tag} is not supported in message templates", file=name)


def _check_callable(node: nodes.Filter | nodes.Test, name: str) -> None:
    known = _ENV.filters if isinstance(node, nodes.Filter) else _ENV.tests
    kind = "filter" if isinstance(node, nodes.Filter) else "test"
    if node.name not in known:
        close = difflib.get_close_matches(node.name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TemplateError(f"line {node.lineno}: no {kind} named {node.name!r}{hint}", file=name)
    if node.name == "attr" and any(
        isinstance(a, nodes.Const) and str(a.value).startswith("_") for a in node.args
    ):
        raise TemplateError(
            f"line {node.lineno}: access to private attributes is not allowed", file=name
        )

"""Placeholders as people write them, before and beside Jinja.

Two things Jinja cannot do on its own: read ``{{ First name }}`` (a header with spaces, the
way people write it; to Jinja a syntax error), and notice ``{Name}``, ``[Name]``,
``<<Name>>``, ``%Name%`` or ``$Name`` in the text, placeholders from other tools that would
go out literally to everyone. Both are found here on the template source and its literal
text; which words name a column is the caller's to say (``resolve``), so the rules of
matching headers stay in one place (:mod:`elksxl.templating`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["Lookalike", "SpacedName", "find_lookalikes", "is_spaced_name", "rewrite_spaced_names"]

# Jinja's word operators: "{{ Namn if Titel else X }}" is an expression, not a spaced name.
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "if", "else"})

# Raw blocks and comments are left alone; so is every string literal inside a tag (a "}}" in
# a string does not end it). A {{ ... }} whose expression begins with two or more words that
# end it or are followed by a filter holds a spaced name; so does {% if/elif words %}.
_TAG_BODY = r"""(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^"'])*?"""
_TAGS = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|\{#.*?#\}"
    rf"|\{{%(?P<statement>{_TAG_BODY})%\}}|\{{\{{(?P<body>{_TAG_BODY})\}}\}}",
    re.DOTALL,
)
_WORDS = r"(?P<words>[^\W\d]\w*(?:[ \t]+\w+)+)"
_SPACED = re.compile(
    rf"(?P<lead>-?[ \t]*){_WORDS}(?P<rest>[ \t]*(?:\|.*|-?[ \t]*))",
    re.DOTALL,
)
_SPACED_CONDITION = re.compile(
    rf"(?P<lead>-?[ \t]*(?:if|elif)[ \t]+){_WORDS}(?P<rest>[ \t]*-?[ \t]*)"
)
_SPACED_HEADER = re.compile(r"[^\W\d]\w*(?: \w+)+")

# Placeholder syntax of other tools (mail merge, shell, templates of SMS services). Lookaheads
# so that overlapping candidates are all seen: in "50% off %Name%" the "%Name%" still counts.
_LOOKALIKES = re.compile(
    r"(?=(\{([^{}\n]{1,60})\}))"
    r"|(?=(\[([^\[\]\n]{1,60})\]))"
    r"|(?=(<<([^<>\n]{1,60})>>))"
    r"|(?=(%([^%\n]{1,60})%))"
    r"|(?=(\$([^\W\d]\w*(?:[ \t]\w+){0,5})))"
)


@dataclass(frozen=True, slots=True)
class SpacedName:
    """``{{ words with spaces }}`` that name no column: where, and the words as written."""

    line: int
    words: str


@dataclass(frozen=True, slots=True)
class Lookalike:
    """Text that looks like another tool's placeholder for a column: ``{Namn}`` on line 1."""

    line: int
    token: str
    header: str


def is_spaced_name(header: str) -> bool:
    """True when ``{{ header }}`` is read as a spaced name: words, single spaces, no keyword."""
    return bool(_SPACED_HEADER.fullmatch(header)) and not _has_keyword(header)


def rewrite_spaced_names(
    source: str, resolve: Callable[[str], str | None], spell: Callable[[str], str]
) -> tuple[str, tuple[SpacedName, ...]]:
    """``source`` with each ``{{ First name }}`` that names a column spelled as ``spell(header)``.

    The same in conditions: ``{% if First name %}`` and ``{% elif First name %}``.

    ``resolve`` turns the words into the header they name, or None. Words that name no column
    and contain no Jinja keyword are returned as :class:`SpacedName` (Jinja would only call
    them a syntax error); words with a keyword are left to Jinja. Line breaks are kept, so
    Jinja's line numbers still match the source.
    """
    unknown: list[SpacedName] = []

    def replace(match: re.Match[str]) -> str:
        spaced, ends = _spaced(match)
        if spaced is None:
            return match.group()
        words = spaced.group("words")
        header = resolve(" ".join(words.split()))
        if header is not None:
            return ends[0] + spaced.group("lead") + spell(header) + spaced.group("rest") + ends[1]
        if not _has_keyword(words):
            unknown.append(SpacedName(source.count("\n", 0, match.start()) + 1, words))
        return match.group()

    return _TAGS.sub(replace, source), tuple(unknown)


def _spaced(match: re.Match[str]) -> tuple[re.Match[str] | None, tuple[str, str]]:
    """The spaced name in a tag, if any, and the tag's delimiters."""
    if (body := match.group("body")) is not None:
        return _SPACED.fullmatch(body), ("{{", "}}")
    if (statement := match.group("statement")) is not None:
        return _SPACED_CONDITION.fullmatch(statement), ("{%", "%}")
    return None, ("", "")


def find_lookalikes(
    text: str, first_line: int, resolve: Callable[[str], str | None]
) -> Iterator[Lookalike]:
    """The placeholder look-alikes in literal ``text`` whose name ``resolve`` finds a column for.

    ``{50%}`` or ``$5`` name no column, so only tokens naming a header count: a ``$`` token
    is tried from its longest run of words down to its first word ("$First name, hi").
    """
    for match in _LOOKALIKES.finditer(text):
        groups = match.groups()
        kind = next(i for i in range(0, len(groups), 2) if groups[i] is not None)
        found = _named(groups[kind], groups[kind + 1], resolve)
        if found is not None:
            line = first_line + text.count("\n", 0, match.start())
            yield Lookalike(line, *found)


def _named(token: str, name: str, resolve: Callable[[str], str | None]) -> tuple[str, str] | None:
    """(token, header) when ``name`` names a column; a ``$`` token is cut after its last word."""
    if not token.startswith("$"):
        header = resolve(" ".join(name.split())) if name.strip() else None
        return None if header is None else (token, header)
    words = name.split()
    for count in range(len(words), 0, -1):
        header = resolve(" ".join(words[:count]))
        if header is not None:
            return "$" + name[: _end_of_word(name, count)], header
    return None


def _end_of_word(text: str, count: int) -> int:
    """Where the ``count``-th whitespace-separated word of ``text`` ends."""
    return list(re.finditer(r"\S+", text))[count - 1].end()


def _has_keyword(words: str) -> bool:
    return any(word in _KEYWORDS for word in words.split())

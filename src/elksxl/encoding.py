"""SMS text: GSM 03.38 or UCS-2, length, parts, the characters that force UCS-2, smart replacement.

GSM-7 counts septets (extension characters take an escape, so 2); UCS-2 counts UTF-16 code
units (an astral character such as most emoji takes 2). One part holds 160 septets or 70
units; a concatenated part holds 153 or 67 because of its header. A character never straddles
two parts: an escape pair, a surrogate pair and (approximately) an emoji sequence or a letter
with its combining marks move whole to the next part.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Final, Literal

__all__ = ["Encoding", "TextInfo", "analyze", "is_gsm", "smart_replace", "split_parts"]

Encoding = Literal["gsm7", "ucs2"]


@dataclass(frozen=True, slots=True)
class TextInfo:
    """How a message travels."""

    encoding: Encoding
    length: int  # septets (gsm7) or UTF-16 code units (ucs2)
    parts: int  # 0 for an empty text
    ucs2_chars: tuple[str, ...]  # distinct characters that forced UCS-2, in order of appearance


# GSM 03.38 default alphabet in code order, 0x00-0x7F, without 0x1B (the escape itself).
# 0x09 is capital Ç (as in ETSI and the carriers' maps): lowercase ç is not GSM.
_BASIC_CHARS: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"  # ΔΦΓΛΩΠΨΣΘΞ: Greek
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs ESC + code = 2 septets in GSM-7 (1 unit once in UCS-2).
_EXTENSION_CHARS: Final = "\f^{}\\[~]|€"

_BASIC: Final = frozenset(_BASIC_CHARS)
_EXTENSION: Final = frozenset(_EXTENSION_CHARS)
_GSM: Final = _BASIC | _EXTENSION

_GSM_SINGLE, _GSM_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67

# A cluster is a code point with what belongs to it (approximate graphemes, no dependency):
# combining marks (common blocks), variation selectors, emoji skin tones, keycap, tags, a ZWJ
# with the code point it joins; and two regional indicators (a flag).
_EXTENDERS: Final = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
    "\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U000e0100-\U000e01ef"
)
_FLAG: Final = "[\U0001f1e6-\U0001f1ff]{2}"
_CLUSTER_RE: Final = re.compile(f"(?:{_FLAG}|.)(?:\u200d.?|[{_EXTENDERS}])+|{_FLAG}", re.DOTALL)
_CLUSTERED: Final = re.compile(f"[{_EXTENDERS}\u200d\U0001f1e6-\U0001f1ff]")
_EXTENSION_RE: Final = re.compile("[" + re.escape(_EXTENSION_CHARS) + "]")
_ASTRAL_RE: Final = re.compile("[\U00010000-\U0010ffff]")

_EMPTY: Final = TextInfo("gsm7", 0, 0, ())


def is_gsm(char: str) -> bool:
    """True if ``char`` is in the GSM 03.38 basic or extension table."""
    return char in _GSM


def analyze(text: str) -> TextInfo:
    """Encoding, length, parts and the characters forcing UCS-2. Fast on the common cases."""
    if not text:
        return _EMPTY
    if _BASIC.issuperset(text):  # the common case: C-speed scans only
        septets = len(text)
        parts = 1 if septets <= _GSM_SINGLE else math.ceil(septets / _GSM_PART)
        return TextInfo("gsm7", septets, parts, ())
    if _GSM.issuperset(text):
        escaped = _positions(_EXTENSION_RE, text)
        septets = len(text) + len(escaped)
        if septets <= _GSM_SINGLE:
            return TextInfo("gsm7", septets, 1, ())
        return TextInfo("gsm7", septets, _count(_gsm_ends(text, escaped)), ())
    units = _units(text)
    forcing = tuple(sorted(set(text) - _GSM, key=text.index))
    parts = 1 if units <= _UCS2_SINGLE else _count(_ucs2_ends(text, units))
    return TextInfo("ucs2", units, parts, forcing)


def split_parts(text: str) -> list[str]:
    """The parts as they would travel; ``"".join(split_parts(text)) == text``."""
    info = analyze(text)
    if info.parts <= 1:
        return [text] if text else []
    if info.encoding == "gsm7":
        ends = _gsm_ends(text, _positions(_EXTENSION_RE, text))
    else:
        ends = _ucs2_ends(text, info.length)
    parts, start = [], 0
    for end in ends:
        parts.append(text[start:end])
        start = end
    parts.append(text[start:])
    return parts


def _units(text: str) -> int:
    # surrogatepass: a lone surrogate (broken paste) still counts as one unit, never raises.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _positions(pattern: re.Pattern[str], text: str) -> list[int]:
    return [match.start() for match in pattern.finditer(text)]


def _count(ends: Iterator[int]) -> int:
    return 1 + sum(1 for _ in ends)


def _gsm_ends(text: str, escaped: list[int]) -> Iterator[int]:
    return _greedy_ends(text, escaped, [], _GSM_PART)


def _ucs2_ends(text: str, units: int) -> Iterator[int]:
    astral = _positions(_ASTRAL_RE, text) if units != len(text) else []
    clusters = []
    if _CLUSTERED.search(text):
        clusters = [
            match.span()
            for match in _CLUSTER_RE.finditer(text)
            if _units(match.group()) <= _UCS2_PART  # a bigger one must be cut anyway
        ]
    return _greedy_ends(text, astral, clusters, _UCS2_PART)


def _greedy_ends(
    text: str, double: list[int], clusters: list[tuple[int, int]], limit: int
) -> Iterator[int]:
    """End index of every part but the last, for a text longer than one part.

    Characters at the ``double`` positions cost 2, all others 1; a part takes as many as fit,
    and never ends inside one of the ``clusters``. Works per part, not per character: jump
    ``limit`` ahead, back off by the excess (dropping n characters saves at least n), creep
    forward while the next one fits, then step back to the start of a cut cluster.
    """

    def cost(start: int, end: int) -> int:
        return end - start + bisect_left(double, end) - bisect_left(double, start)

    cluster_starts = [span[0] for span in clusters]
    start, size = 0, len(text)
    while True:
        end = min(size, start + limit)
        while (excess := cost(start, end) - limit) > 0:
            end -= excess
        while end < size and cost(start, end + 1) <= limit:
            end += 1
        if end >= size:
            return
        inside = bisect_left(cluster_starts, end) - 1  # last cluster starting before end
        if inside >= 0 and start < clusters[inside][0] and end < clusters[inside][1]:
            end = clusters[inside][0]
        yield end
        start = end


def _smart_table() -> dict[int, str]:
    groups = {
        # « » “ ” „ ‟ ʺ ˮ ❝ ❞ 〝 〞 ″
        '"': "\u00ab\u00bb\u201c\u201d\u201e\u201f\u02ba\u02ee\u275d\u275e\u301d\u301e\u2033",
        # ‘ ’ ‚ ‛ ʹ ʻ ʼ ʽ ˈ ˊ ˋ ´ ` ❛ ❜ ′ ‹ ›
        "'": "\u2018\u2019\u201a\u201b\u02b9\u02bb\u02bc\u02bd\u02c8\u02ca\u02cb\u00b4`"
        "\u275b\u275c\u2032\u2039\u203a",
        # hyphens, figure/en/em dash, horizontal bar, minus, small hyphen; bullets
        "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\u2022\u2023\u2043\u25e6\u2219",
        # tab, no-break, en/em/thin/hair/narrow/ideographic and other spaces
        " ": "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
        "\u200a\u202f\u205f\u3000",
        "\n": "\u2028\u2029",  # line and paragraph separators
        # zero-width space, word joiner, BOM, soft hyphen: invisible, so removed
        "": "\u200b\u2060\ufeff\u00ad",
    }
    table = {ord(char): out for out, chars in groups.items() for char in chars}
    table |= {0x2026: "...", 0x203C: "!!", 0x2047: "??", 0x2048: "?!", 0x2049: "!?"}
    # Full-width ASCII (U+FF01-FF5E, typed with an East Asian input method) -> ASCII.
    for code in range(0xFF01, 0xFF5F):
        ascii_char = chr(code - 0xFEE0)
        table[code] = ascii_char if ascii_char in _GSM else "'"  # only ` is not GSM
    return table


_SMART: Final = _smart_table()
# ZWJ/ZWNJ glue emoji sequences and some scripts together: kept between two non-GSM
# characters, where they may be doing that job; removed elsewhere, where they are invisible.
_JOINER_RUN: Final = re.compile("[\u200c\u200d]+")


def smart_replace(text: str) -> str:
    """Replace look-alikes of GSM characters so a message can stay GSM-7; GSM text is untouched.

    Curly quotes and primes -> ' and ", dashes, minus and bullets -> -, … -> ..., ‼ -> !!,
    unusual spaces and tabs -> one space, invisible zero-width characters -> removed,
    full-width ASCII -> ASCII. Replacing can make a text longer (… -> ...). Idempotent.
    """
    if _GSM.issuperset(text):
        return text
    replaced = text.translate(_SMART)
    if "\u200c" in replaced or "\u200d" in replaced:
        replaced = _JOINER_RUN.sub(partial(_joiners, replaced), replaced)
    return replaced


def _joiners(text: str, match: re.Match[str]) -> str:
    before = text[match.start() - 1] if match.start() > 0 else ""
    after = text[match.end()] if match.end() < len(text) else ""
    between_non_gsm = bool(before and after) and before not in _GSM and after not in _GSM
    return match.group() if between_non_gsm else ""

"""The files a campaign's message and prices come from (surfaces read them, the core never)."""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError, TemplateError
from .pricing import PriceTable, load_example

__all__ = ["load_prices", "read_template"]


def read_template(path: Path) -> str:
    """The text of a template file; a final newline is not part of the message."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError("template file not found: check the path", file=str(path)) from None
    except IsADirectoryError:
        raise TemplateError("is a folder, not a template file", file=str(path)) from None
    except UnicodeDecodeError:
        raise TemplateError("is not UTF-8 text: save it as UTF-8", file=str(path)) from None
    return text.removesuffix("\n").removesuffix("\r")


def load_prices(path: Path | None) -> PriceTable:
    """The price table at ``path``, or the packaged example table."""
    if path is None:
        return load_example()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the price table: {exc.strerror}", file=str(path)) from None
    return PriceTable.from_json(text, source=str(path))

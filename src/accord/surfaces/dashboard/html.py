"""HTML that escapes by default: every value put into a template is escaped unless it
is :class:`Safe` (markup this package made). Text from agents (names, payloads) can
only ever reach the page as text."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any


class Safe(str):
    """Markup that is already escaped (or made here): put into a page as it is."""

    __slots__ = ()


def esc(value: Any) -> Safe:
    """``value`` as HTML text: escaped (quotes too), unless it is :class:`Safe` already."""
    if isinstance(value, Safe):
        return value
    return Safe(html.escape(str(value), quote=True))


def fmt(template: str, **values: Any) -> Safe:
    """``template.format(**values)`` with every value escaped (see :func:`esc`)."""
    return Safe(template.format(**{k: esc(v) for k, v in values.items()}))


def join(parts: Iterable[Safe], sep: str = "") -> Safe:
    """Markup pieces joined (each already :class:`Safe`)."""
    return Safe(sep.join(esc(p) for p in parts))

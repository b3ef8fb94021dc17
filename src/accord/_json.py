"""JSON without the per-call set-up of :func:`json.dumps` and :func:`json.loads`.

``json.dumps`` builds a new C encoder on every call and ``json.loads`` goes through
two Python layers; on the hot paths (every state write, every lease record on
SQLite, every event) that set-up costs more than the encoding. These call the C
encoder and scanner of the standard library directly, built once, and fall back to
the plain functions where the interpreter has no ``_json`` accelerator.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable
from typing import Any


def _encoder(
    ensure_ascii: bool, allow_nan: bool, sort_keys: bool = False
) -> Callable[[Any], str]:
    """A compact encoder (``,`` and ``:`` separators); no circular-reference check,
    so walk untrusted data first (``accord._validate.encode`` does)."""
    plain = json.JSONEncoder(
        separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=allow_nan,
        check_circular=False, sort_keys=sort_keys,
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return plain.encode
    enc = json.encoder
    strings = enc.encode_basestring_ascii if ensure_ascii else enc.encode_basestring
    encode = make(None, plain.default, strings, None, ":", ",", sort_keys, False, allow_nan)

    def dumps(value: Any) -> str:
        if isinstance(value, str):
            return str(strings(value))
        return "".join(encode(value, 0))

    return dumps


def _decoder() -> Callable[[str], Any]:
    if getattr(json.scanner, "c_make_scanner", None) is None:
        return json.loads
    scan = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]

    def loads(text: str) -> Any:
        try:
            value, end = scan(text, 0)
        except StopIteration:  # not JSON at all: let json.loads name the problem
            return json.loads(text)
        if end != len(text) and text[end:].strip():
            return json.loads(text)  # trailing data: json.loads raises for it
        return value

    return loads


dumps_data = _encoder(ensure_ascii=False, allow_nan=False)
"""Payloads and state values: UTF-8 text as it is, no NaN or infinity."""

dumps_canonical = _encoder(ensure_ascii=False, allow_nan=False, sort_keys=True)
"""Canonical JSON, what a hash is taken of: sorted keys, no spaces, UTF-8 as it is."""

dumps_record = _encoder(ensure_ascii=True, allow_nan=False)
"""accord's own records in a store."""

quote_record = json.encoder.encode_basestring_ascii
"""One str as :data:`dumps_record` writes it (quoted, escaped, ASCII)."""

loads = _decoder()
"""The inverse of both: any JSON text."""

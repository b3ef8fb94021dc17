"""Hostile store URLs: ConfigError at ``connect`` (or BackendUnavailable at the first
call), never a driver's error, and never a piece of the password in a message or repr.

Passwords are made of four-letter tokens that appear nowhere else (``QXJZ``), joined
by the characters that broke redaction before (``@ : / # ? %``), so a partial leak
shows as a token in the text.
"""

from __future__ import annotations

import contextlib
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accord
from accord.errors import AccordError, BackendUnavailable, ConfigError

TOKENS = st.text(alphabet="QXJZKV", min_size=4, max_size=4)
SEPARATORS = st.sampled_from(["", "@", ":", "/", "#", "?", "%", "%40", "=", "&", " "])
PASSWORDS = st.lists(st.tuples(TOKENS, SEPARATORS), min_size=1, max_size=4).map(
    lambda parts: "".join(t + s for t, s in parts)
)
SCHEMES = st.sampled_from(["redis", "rediss", "REDIS", "redis:", "redis+sentinel", "sqlite"])
HOSTS = st.sampled_from(["127.0.0.1", "localhost", "", "[::1]", "127.0.0.1:1"])
PORTS = st.sampled_from([":1", ":0", ":65536", ":-1", ":abc", ":99999999999", ":", ":6379x"])
DBS = st.sampled_from(["", "/0", "/1", "/x", "/-1", "/99999999999999999999", "//"])
QUERIES = st.sampled_from([
    "", "?foo=bar", "?socket_timeout=abc", "?ssl_ca_certs=/nonexistent", "?db=abc",
    "#frag", "?password=QQQQ", "?", "?&", "?max_connections=-1",
])
USERS = st.sampled_from(["", "user", "us er", "QXJZ"])


@st.composite
def urls(draw: Any) -> tuple[str, str]:
    password = draw(PASSWORDS)
    user = draw(USERS)
    url = (
        f"{draw(SCHEMES)}://{user}:{password}@{draw(HOSTS)}{draw(PORTS)}"
        f"{draw(DBS)}{draw(QUERIES)}"
    )
    return url, password


def _leaks(text: str, password: str) -> list[str]:
    tokens = {password[i : i + 4] for i in range(len(password) - 3)}
    return [t for t in tokens if set(t) <= set("QXJZKV") and t in text]


def _check(text: str, url: str, password: str) -> None:
    leaked = _leaks(text, password)
    assert not leaked, f"password pieces {leaked} of {url!r} shown in: {text}"


@settings(
    max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(urls())
def test_a_hostile_url_fails_with_accords_errors_and_hides_its_password(
    case: tuple[str, str],
) -> None:
    url, password = case
    try:
        coord = accord.connect(url, namespace="hostile-urls")
    except ConfigError as exc:
        _check(str(exc) + repr(exc), url, password)
        return
    except AccordError as exc:  # pragma: no cover - reported as a failure below
        raise AssertionError(f"{url!r}: connect raised {exc!r}, expected ConfigError") from exc
    try:
        _check(coord.url + repr(coord), url, password)
        try:
            coord.state("m").get("k")
        except BackendUnavailable as exc:
            _check(str(exc) + repr(exc), url, password)
    finally:
        coord.close()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(alphabet=string.printable + "é\x00", max_size=40))
def test_any_text_as_a_url_raises_config_error_or_connects(text: str) -> None:
    if "://" in text and text.split("://")[0].strip() in ("memory", "sqlite", "redis", "rediss"):
        return  # a well-formed store URL: may connect or create a file; not this test's case
    with contextlib.suppress(ConfigError):
        accord.connect(text, namespace="hostile-urls").close()

"""Every error is raised by the input that should raise it, and nothing is written.

Also: names are validated everywhere, URLs and options fail with ConfigError
naming what is accepted, and a password never shows in a message or a repr.
"""

from __future__ import annotations

import decimal
import math
from datetime import datetime
from typing import Any

import pytest

import accord
from accord._validate import MAX_COUNT, MAX_DURATION, MAX_TIMEOUT
from accord.errors import (
    ConfigError,
    InvalidName,
    PayloadTooLarge,
)


async def _snapshot(coord: Any, timeless: bool = False) -> tuple[Any, ...]:
    """What a user can see of the test's store: entries, history and locks (without
    the seconds left of each holder if ``timeless``)."""
    m = coord.state("m")
    items = dict(await m.items_page())
    locks = await coord.list_locks()
    if timeless:
        locks = [(s.name, s.last_token, [h.token for h in s.holders]) for s in locks]
    return (
        {k: (e.value, e.version) for k, e in items.items()},
        [(e.value, e.version) for e in await m.history("k")],
        locks,
    )


def _circular() -> list[Any]:
    loop: list[Any] = [1]
    loop.append({"back": loop})
    return loop


@pytest.mark.accord_capability("leases", "state")
@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (object(), "object"),
        ({"a": {1, 2}}, "set"),
        ([1, b"bytes"], "bytes"),
        ({"when": datetime(2024, 1, 1)}, "datetime"),
        (decimal.Decimal("1.5"), "Decimal"),
        ({1: "int key"}, "int"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (_circular(), "circular reference"),
    ],
    ids=["object", "set", "bytes", "datetime", "Decimal", "int-key", "nan", "inf", "circular"],
)
async def test_a_value_that_is_not_json_raises_type_error(
    coord: Any, value: Any, type_name: str
) -> None:
    m = coord.state("m")
    await m.set("k", "before")
    before = await _snapshot(coord)
    with pytest.raises(TypeError, match=type_name):
        await m.set("k", value)
    with pytest.raises(TypeError, match=type_name):
        await m.set("other", value)
    with pytest.raises(TypeError, match=type_name):
        await m.update("k", lambda v: value)
    assert await _snapshot(coord) == before


@pytest.mark.accord_capability("leases", "state")
async def test_a_value_over_max_payload_raises(connect: Any) -> None:
    coord = connect("tester", max_payload=100)
    m = coord.state("m")
    await m.set("k", "x" * 50)
    before = await _snapshot(coord)
    with pytest.raises(PayloadTooLarge) as too_large:
        await m.set("k", "x" * 200)
    assert too_large.value.limit == 100
    assert too_large.value.size > 100
    assert "100" in str(too_large.value)
    with pytest.raises(PayloadTooLarge):
        await m.set("new", {"list": ["y" * 40] * 5})
    with pytest.raises(PayloadTooLarge):
        await m.update("k", lambda v: v * 4)
    with pytest.raises(PayloadTooLarge):
        await m.set("k", "é" * 60)  # counted in encoded bytes, not characters
    assert await _snapshot(coord) == before


@pytest.mark.accord_capability("state")
async def test_the_default_payload_limit_is_one_mib(coord: Any) -> None:
    m = coord.state("m")
    await m.set("k", "x" * 500_000)
    with pytest.raises(PayloadTooLarge):
        await m.set("k", "x" * (2 * 1024 * 1024))
    assert len((await m.get("k")).value) == 500_000


BAD_NAMES = ["", "x" * 513, "a\nb", "a\x00b", "tab\there", "del\x7f", "\x1b[31mred"]


def _short(name: str) -> str:
    return repr(name) if len(name) < 20 else f"{len(name)}-chars"


GOOD_NAMES = ["x" * 512, "ünï 🚀", "with space", "a/b:c", "{tag}", "a*b?[c]", "%_"]


@pytest.mark.accord_capability("leases", "state", "rate_limits")
@pytest.mark.parametrize("bad", BAD_NAMES, ids=_short)
async def test_bad_names_raise_invalid_name(coord: Any, bad: str) -> None:
    m = coord.state("m")
    await m.set("k", 1)
    before = await _snapshot(coord)
    attempts = [
        lambda: coord.lock(bad),
        lambda: coord.semaphore(bad, limit=2),
        lambda: coord.rate_limit(bad, rate=1),
        lambda: coord.state(bad),
        lambda: coord.locks(["ok", bad]),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidName):
            attempt()
    for call in (
        lambda: m.get(bad),
        lambda: m.set(bad, 1),
        lambda: m.update(bad, lambda v: v, default=0),
        lambda: m.incr(bad),
        lambda: m.delete(bad),
        lambda: m.history(bad),
    ):
        with pytest.raises(InvalidName) as invalid:
            await call()
        assert isinstance(invalid.value, ValueError)
        # The name is shown escaped: no raw control character reaches a terminal.
        assert not any(ord(c) < 32 or ord(c) == 127 for c in str(invalid.value))
    assert await _snapshot(coord) == before
    assert not await coord.lock("ok").locked()


@pytest.mark.parametrize("bad", ["", "x" * 513, "a\nb", "a\x00b"], ids=_short)
def test_bad_namespace_or_agent_raise_invalid_name(url: str, bad: str) -> None:
    with pytest.raises(InvalidName):
        accord.connect(url, namespace=bad)
    with pytest.raises(InvalidName):
        accord.connect(url, agent=bad)
    with pytest.raises(InvalidName):
        accord.connect_async(url, namespace=bad)
    with pytest.raises(InvalidName):
        accord.connect_async(url, agent=bad)


@pytest.mark.accord_capability("leases", "state")
async def test_unusual_but_valid_names_work(coord: Any) -> None:
    m = coord.state("m")
    for name in GOOD_NAMES:
        async with coord.lock(name) as lease:
            assert (await coord.lock(name).statistics()).token == lease.token
        await m.set(name, name)
        assert (await m.get(name)).value == name
        assert (await coord.state(name).incr(name)).value == 1
    assert sorted(await m.keys_page()) == sorted(GOOD_NAMES)


BAD_URLS = [
    "mysql://user:s3cret@db/0",
    "postgres://:s3cret@host/0",
    "redis//:s3cret@host/0",
    "memory",
    "http://example.com",
    "sqlite://relative.db",
    "sqlite:///",
    "   ",
    "redis://:s3cret@localhost:notaport/0",
    "redis://:s3cret@localhost:6379/notadb",
]


@pytest.mark.parametrize("bad", BAD_URLS)
@pytest.mark.parametrize("make", [accord.connect, accord.connect_async], ids=["sync", "async"])
def test_bad_urls_raise_config_error_without_the_password(make: Any, bad: str) -> None:
    with pytest.raises(ConfigError) as config:
        make(bad)
    message = str(config.value)
    assert "s3cret" not in message
    assert "s3cret" not in repr(config.value)
    if not bad.startswith(("redis://", "sqlite")):
        for form in ("memory://", "sqlite:///", "redis://"):
            assert form in message, message


def test_accord_url_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_URL", "ftp://user:s3cret@host/")
    with pytest.raises(ConfigError) as config:
        accord.connect()
    assert "s3cret" not in str(config.value)
    assert "memory://" in str(config.value)


BAD_SECONDS = [0, -1, math.nan, math.inf, "5", True, None]


@pytest.mark.accord_capability("leases", "state", "rate_limits")
async def test_bad_ttl_timeout_and_limits_raise_config_error(coord: Any) -> None:
    before = await _snapshot(coord)
    for ttl in BAD_SECONDS:
        with pytest.raises(ConfigError):
            coord.lock("x", ttl=ttl)
        with pytest.raises(ConfigError):
            coord.semaphore("s", limit=2, ttl=ttl)
        with pytest.raises(ConfigError):
            coord.locks(["x", "y"], ttl=ttl)
    for timeout in [-1, -0.001, math.nan, "1", True]:
        with pytest.raises(ConfigError):
            coord.lock("x", timeout=timeout)
        with pytest.raises(ConfigError):
            coord.semaphore("s", limit=2, timeout=timeout)
        with pytest.raises(ConfigError):
            await coord.lock("x").acquire(timeout=timeout)
        with pytest.raises(ConfigError):
            await coord.semaphore("s", limit=2).acquire(timeout=timeout)
    for limit in [0, -1, 1.5, "3", True, None]:
        with pytest.raises(ConfigError):
            coord.semaphore("s", limit=limit)
    bad_options: list[dict[str, Any]] = [
        {"rate": 0},
        {"rate": -1},
        {"rate": math.nan},
        {"rate": "10"},
        {"rate": 10, "per": 0},
        {"rate": 10, "per": -1.0},
        {"rate": 10, "burst": 0},
        {"rate": 10, "burst": 1.5},
    ]
    for kwargs in bad_options:
        with pytest.raises(ConfigError):
            coord.rate_limit("r", **kwargs)
    limit = coord.rate_limit("r", rate=10, burst=2)
    for cost in [0, -1, 1.5]:
        with pytest.raises(ConfigError):
            await limit.try_acquire(cost=cost)
    with pytest.raises(ConfigError):
        await limit.acquire(timeout=-1)
    with pytest.raises(ConfigError):
        await coord.state("m").history("k", limit=0)
    assert await _snapshot(coord) == before
    assert await limit.try_acquire(cost=2)  # nothing was consumed


@pytest.mark.accord_capability("leases")
@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf, "5"], ids=repr)
async def test_extend_with_a_bad_ttl_raises_config_error(coord: Any, ttl: Any) -> None:
    lease = await coord.lock("x", ttl=10).acquire()
    with pytest.raises(ConfigError):
        await lease.extend(ttl)
    stats = await coord.lock("x").statistics()
    assert stats.token == lease.token  # still held, not expired by the bad call
    assert stats.expires_in > 5
    await lease.release()


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1024", True])
def test_bad_max_payload_raises_config_error(url: str, bad: Any) -> None:
    with pytest.raises(ConfigError):
        accord.connect(url, max_payload=bad)
    with pytest.raises(ConfigError):
        accord.connect_async(url, max_payload=bad)


@pytest.mark.accord_capability("leases", "state")
async def test_expected_version_must_be_a_whole_number(coord: Any) -> None:
    m = coord.state("m")
    await m.set("k", 1)
    before = await _snapshot(coord)
    for bad in [-1, 1.0, "1", True]:
        with pytest.raises((TypeError, ConfigError)):
            await m.set("k", 2, expected_version=bad)
        with pytest.raises((TypeError, ConfigError)):
            await m.delete("k", expected_version=bad)
    assert await _snapshot(coord) == before


@pytest.mark.accord_capability("leases")
async def test_locks_takes_a_list_not_a_string(coord: Any) -> None:
    with pytest.raises(TypeError):
        coord.locks("xy")


HUGE_SECONDS = [MAX_DURATION * 1.001, 1e13, 2.0**53, 1e300]


@pytest.mark.accord_capability("leases", "state", "rate_limits", "events", "signals")
async def test_durations_over_a_year_raise_config_error_before_any_effect(coord: Any) -> None:
    lease = await coord.lock("held", ttl=10).acquire()
    before = await _snapshot(coord, timeless=True)
    for ttl in HUGE_SECONDS:
        with pytest.raises(ConfigError, match="at most"):
            coord.lock("x", ttl=ttl)
        with pytest.raises(ConfigError, match="at most"):
            coord.semaphore("s", limit=2, ttl=ttl)
        with pytest.raises(ConfigError, match="at most"):
            coord.locks(["x", "y"], ttl=ttl)
        with pytest.raises(ConfigError, match="at most"):
            await lease.extend(ttl)
        with pytest.raises(ConfigError, match="at most"):
            coord.rate_limit("r", rate=1, per=ttl)
        with pytest.raises(ConfigError, match="at most"):
            coord.when("e", group="g", visibility=ttl)(lambda event: None)
        with pytest.raises(ConfigError, match="at most"):
            await coord.request("nobody", timeout=ttl)
    for timeout in [MAX_TIMEOUT * 2, 1e300, math.inf]:
        with pytest.raises(ConfigError, match="at most"):
            coord.lock("x", timeout=timeout)
        with pytest.raises(ConfigError, match="at most"):
            await coord.lock("x").acquire(timeout=timeout)
        with pytest.raises(ConfigError, match="at most"):
            await coord.rate_limit("r", rate=1).acquire(timeout=timeout)
        with pytest.raises(ConfigError, match="at most"):
            coord.barrier("b", 2, timeout=timeout)
    assert await _snapshot(coord, timeless=True) == before
    stats = await coord.lock("held").statistics()
    assert stats.token == lease.token and 5 < stats.expires_in <= 10
    await lease.release()


@pytest.mark.accord_capability("leases")
async def test_the_longest_ttl_works_on_every_store(coord: Any) -> None:
    lock = coord.lock("year", ttl=MAX_DURATION)
    async with lock as lease:
        stats = await lock.statistics()
        assert stats.holders and stats.expires_in > MAX_DURATION - 60
        await lease.extend(MAX_DURATION)
        assert [s.name for s in await coord.list_locks()] == ["year"]
    async with coord.semaphore("sem", limit=MAX_COUNT, ttl=MAX_DURATION) as permit:
        assert permit.token >= 1
    assert await coord.lock("year").try_acquire() is not None


@pytest.mark.accord_capability("leases", "state", "rate_limits")
async def test_rates_and_counts_out_of_bounds_raise_config_error(coord: Any) -> None:
    before = await _snapshot(coord)
    bad: list[dict[str, Any]] = [
        {"rate": 1e-300},
        {"rate": 1e300},
        {"rate": 1, "per": 1e300},
        {"rate": 10, "burst": MAX_COUNT + 1},
        {"rate": 1, "per": MAX_DURATION, "burst": 2},  # two years to refill
        {"rate": math.inf},
    ]
    for kwargs in bad:
        with pytest.raises(ConfigError):
            coord.rate_limit("r", **kwargs)
    with pytest.raises(ConfigError):
        coord.semaphore("s", limit=2**63)
    with pytest.raises(ConfigError):
        coord.barrier("b", 2**63)
    with pytest.raises(ConfigError):
        await coord.state("m").history("k", limit=2**63)
    limit = coord.rate_limit("r", rate=1, burst=2)
    with pytest.raises(ConfigError):
        await limit.try_acquire(cost=2**63)
    assert await _snapshot(coord) == before
    # the extremes that are allowed work: a burst that refills in a year, 1e9 calls a second
    slow = coord.rate_limit("slow", rate=1000, per=MAX_DURATION, burst=1000)
    assert await slow.try_acquire(cost=1000)
    assert not await slow.try_acquire()
    fast = coord.rate_limit("fast", rate=1e9, per=1.0)
    assert await fast.try_acquire()

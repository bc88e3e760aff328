"""The tests' clock: pinned instants, certificates valid at them, and waiting with deadlines.

"Now" in docexchange comes from :func:`docexchange.domain.timeutil.utcnow`; a test pins it
with ``time-machine``, which moves ``datetime.now``, ``time.time`` and so pyHanko's signing
time, the demo CA's OCSP answers and time stamps with it. The clock keeps ticking from the
pinned instant (a flow that takes seconds takes them), and processes the server starts
(verifier workers) are handed the caller's "now" with each job.

Deadlines use ``time.monotonic``, which time-machine leaves alone: a wait under a pinned
clock still ends on time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import TypeVar

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from docexchange.domain.timeutil import VN_TZ
from docexchange.services import tokens
from docexchange.services.container import Services
from docexchange.services.demo import DEMO_PIN, DEMO_UNITS, DEMO_USERS
from docexchange.services.keys import unit_token_label, user_token_label
from pki import tokens as p11

T = TypeVar("T")


def vn(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` in Vietnam time (aware)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN_TZ)


@contextlib.contextmanager
def pinned(instant: datetime, *, tick: bool = True) -> Iterator[time_machine.Coordinates]:
    """Run the block with the clock at ``instant`` (ticking on from there by default)."""
    with time_machine.travel(instant, tick=tick) as traveller:
        yield traveller


def wait_for(
    condition: Callable[[], T], *, what: str, timeout: float = 30.0, interval: float = 0.05
) -> T:
    """Poll ``condition`` until it returns something truthy; return that.

    Fails the test after ``timeout`` seconds, saying what it waited for and what it last saw.
    """
    deadline = time.monotonic() + timeout
    while True:
        seen = condition()
        if seen:
            return seen
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not so after {timeout:g} s (last seen: {seen!r})")
        time.sleep(interval)


def _labels() -> list[tuple[str, str, str | None, str | None]]:
    """(label, kind, username, unit code) of every demo token."""
    people = [(user_token_label(u.username), "personal", u.username, None) for u in DEMO_USERS]
    units = [
        (unit_token_label(str(u["code"])), "organization", None, str(u["code"])) for u in DEMO_UNITS
    ]
    return people + units


@contextlib.contextmanager
def certificates_valid_at(services: Services, instant: datetime) -> Iterator[None]:
    """Renew every demo token's certificate (same key, same CA) from an hour before
    ``instant``, register the new ones, and put the old ones back on the tokens after.

    The session's tokens were certified when the run began; a test pinned at another
    instant gets certificates that are valid then, as a renewal at that time would give.
    Registers the new certificates in the database (the test's rows are wiped after it).
    """
    keys = services.keys
    chain = [
        c.public_bytes(serialization.Encoding.DER) for c in (keys.ca.intermediate, keys.ca.root)
    ]
    originals: dict[str, bytes] = {}
    try:
        with services.sessions() as session:
            for label, kind, username, unit_code in _labels():
                ref = keys.ref(label)
                old = p11.read_certificate(ref)
                assert old is not None, f"token {label} has no certificate"
                originals[label] = old
                renewed = keys.ca.renew(
                    x509.load_der_x509_certificate(old), valid_from=instant - timedelta(hours=1)
                ).public_bytes(serialization.Encoding.DER)
                p11.store_certificates(ref, DEMO_PIN, renewed, chain)
                tokens.register_certificate(
                    session, renewed, kind=kind, username=username, unit_code=unit_code
                )
            session.commit()
        yield
    finally:
        for label, old in originals.items():
            p11.store_certificates(keys.ref(label), DEMO_PIN, old, chain)


@contextlib.contextmanager
def office_at(services: Services, instant: datetime) -> Iterator[None]:
    """The whole office at ``instant``: the clock pinned there (ticking), the tokens'
    certificates valid then, and verifier workers that hold nothing fetched at another
    time (revocation data is cached per worker)."""
    services.verifier.close()
    try:
        with pinned(instant), certificates_valid_at(services, instant):
            yield
    finally:
        services.verifier.close()

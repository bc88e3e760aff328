"""The audit log on a real database: appends chain, tampering is found."""

from __future__ import annotations

import threading

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from docexchange.services import audit
from docexchange.services.container import Services
from docexchange.storage.models import AuditEvent


def _fill(session: Session, n: int) -> None:
    for i in range(n):
        audit.record(
            session,
            actor="admin",
            action="test.event",
            target=f"t{i}",
            details={"i": i, "vi": "Chân Mộng"},
        )
    session.commit()


def test_appends_form_an_unbroken_chain(session: Session) -> None:
    _fill(session, 5)
    count, broken = audit.verify_chain(session)
    assert (count, broken) == (5, None)
    seqs = session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == [1, 2, 3, 4, 5]


def test_changed_row_is_named(session: Session) -> None:
    _fill(session, 5)
    session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(actor="intruder"))
    session.commit()
    _count, broken = audit.verify_chain(session)
    assert broken is not None and (broken.seq, broken.problem) == (3, "changed")


def test_removed_row_is_named(session: Session) -> None:
    _fill(session, 5)
    session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    session.commit()
    _count, broken = audit.verify_chain(session)
    assert broken is not None and (broken.seq, broken.problem) == (2, "removed")


def test_removed_last_row_is_named(session: Session) -> None:
    _fill(session, 4)
    session.execute(delete(AuditEvent).where(AuditEvent.seq == 4))
    session.commit()
    _count, broken = audit.verify_chain(session)
    assert broken is not None and (broken.seq, broken.problem) == (4, "removed")


def test_inserted_row_is_named(session: Session) -> None:
    _fill(session, 3)
    last = session.get(AuditEvent, 3)
    assert last is not None
    session.execute(
        insert(AuditEvent).values(
            seq=4,
            occurred_at=last.occurred_at,
            actor="intruder",
            action="forged",
            target=None,
            details={},
            prev_hash=last.hash,
            hash="f" * 64,
        )
    )
    session.commit()
    _count, broken = audit.verify_chain(session)
    assert broken is not None and (broken.seq, broken.problem) == (4, "inserted")


def test_the_log_is_not_rewritable_through_raw_sql_without_detection(session: Session) -> None:
    _fill(session, 3)
    session.execute(text("UPDATE audit_events SET details = '{\"i\": 99}' WHERE seq = 1"))
    session.commit()
    assert audit.verify_chain(session)[1] is not None


def test_concurrent_appends_keep_the_chain_whole(services: Services) -> None:
    """Four threads, each with its own connection, append at once; no gap, no fork."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with services.sessions() as s:
                    audit.record(s, actor=f"worker{n}", action="test.concurrent", details={"i": i})
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with services.sessions() as s:
        assert audit.verify_chain(s) == (60, None)

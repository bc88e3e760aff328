"""The documents behind one figure of the ratio report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from docexchange.domain.documents import DocumentState, Secrecy, number_text
from docexchange.domain.reports import (
    Period,
    Scope,
)
from docexchange.domain.timeutil import VN_TZ
from docexchange.errors import NotFound, invalid_field
from docexchange.services import directory
from docexchange.services.authz import Actor
from docexchange.services.reports.ratio import _check_access, _merged_into, _sent_electronically
from docexchange.storage.models import (
    Document,
    InboxEntry,
    PaperRecord,
    Unit,
)

#: What a number of the report counts, for the list behind it.
DRILL_KINDS = ("sent", "sent_electronic", "received", "received_electronic", "secret")


@dataclass(frozen=True)
class DrillRow:
    """One document behind a number of the report."""

    source: str  # document | inbox | paper
    id: str
    day: date
    unit_code: str
    number: str | None
    subject: str
    electronic: bool


def report_documents(
    session: Session,
    *,
    actor: Actor,
    unit: str | None,
    period: Period,
    scope: Scope,
    kind: str,
    rollup: bool = False,
    limit: int = 500,
) -> list[DrillRow]:
    """The documents behind one number of the ratio report (the same rules, listed;
    ``rollup``: with those of units merged into the ones shown).

    :raises InvalidInput: ``invalid_field`` (kind); :raises Forbidden: ``unit_forbidden``.
    """
    if kind not in DRILL_KINDS:
        raise invalid_field("kind", "reason_one_of", values=", ".join(DRILL_KINDS))
    code = unit or actor.unit_code
    if session.get(Unit, code) is None:
        raise NotFound("unit_not_found", code=code[:20])
    _check_access(session, actor, code, scope)
    codes: list[str] | Select[tuple[str]] = (
        [code] if scope is Scope.SELF else directory.subtree_select(code)
    )
    merged_in = _merged_into(session, codes) if rollup else []
    if merged_in:
        shown = codes if isinstance(codes, list) else list(session.scalars(codes))
        codes = [*shown, *merged_in]
    rows: list[DrillRow] = []
    secret_doc = Document.secrecy != Secrecy.NONE.value
    electronic = _sent_electronically()
    if kind not in {"received", "received_electronic"}:
        query = select(Document).where(
            Document.sender_code.in_(codes),
            Document.state == DocumentState.ISSUED,
            Document.issued_at >= period.start,
            Document.issued_at < period.end,
            secret_doc if kind == "secret" else ~secret_doc,
        )
        if kind == "sent_electronic":
            query = query.where(electronic)
        for d in session.scalars(query.order_by(Document.issued_at).limit(limit)):
            is_electronic = bool(d.sent_at and not d.paper_copy and d.verified_valid)
            issued = d.issued_at.astimezone(VN_TZ).date() if d.issued_at else period.first
            number = number_text(d.number, d.notation)
            rows.append(
                DrillRow("document", d.id, issued, d.sender_code, number, d.subject, is_electronic)
            )
    if kind in ("received", "received_electronic"):
        query_in = select(InboxEntry).where(
            InboxEntry.recipient_code.in_(codes),
            InboxEntry.received_at >= period.start,
            InboxEntry.received_at < period.end,
        )
        if kind == "received_electronic":
            query_in = query_in.where(InboxEntry.verified_valid.is_(True), ~InboxEntry.paper_copy)
        for e in session.scalars(query_in.order_by(InboxEntry.received_at).limit(limit)):
            rows.append(
                DrillRow(
                    "inbox",
                    e.id,
                    e.received_at.astimezone(VN_TZ).date(),
                    e.recipient_code,
                    e.number,
                    e.subject,
                    e.verified_valid and not e.paper_copy,
                )
            )
    if kind in ("sent", "received", "secret"):
        paper = select(PaperRecord).where(
            PaperRecord.unit_code.in_(codes),
            PaperRecord.day >= period.first,
            PaperRecord.day <= period.last,
        )
        if kind == "secret":
            paper = paper.where(PaperRecord.secrecy != Secrecy.NONE.value)
        else:
            paper = paper.where(
                PaperRecord.direction == kind, PaperRecord.secrecy == Secrecy.NONE.value
            )
        for p in session.scalars(paper.order_by(PaperRecord.day).limit(limit)):
            rows.append(DrillRow("paper", p.id, p.day, p.unit_code, p.number, p.subject, False))
    return sorted(rows, key=lambda r: (r.day, r.source, r.id))[:limit]

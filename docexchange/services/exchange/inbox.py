"""The inbox and its status moves (02 to 06, 13, 15, 16), with what a page offers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.exchange import (
    RECIPIENT_MOVES,
    SENDER_MOVES,
    DeliveryState,
    OutboxState,
    Status,
    check_move,
)
from docexchange.domain.inputs import ListQuery
from docexchange.domain.search import Paged
from docexchange.domain.timeutil import VN_TZ, today_vn
from docexchange.envelopes import edxml
from docexchange.errors import Conflict, Forbidden, Gone, NotFound, invalid_field
from docexchange.services import audit, directory
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.exchange.common import (
    FORWARDABLE,
    check_not_frozen,
    deadline_column,
    get_inbox_entry,
    not_finished,
    organs,
    source_of,
)
from docexchange.services.exchange.status_outbox import report_back
from docexchange.services.listing import day_span, page_by_key, text_matches
from docexchange.services.numbering import INCOMING_SERIES, next_number
from docexchange.services.peers import Peer, PeerDirectory
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    InboxEntry,
    StatusEvent,
    StatusOutbox,
    Unit,
    User,
)

logger = logging.getLogger(__name__)


def list_inbox(
    session: Session, *, actor: Actor, filters: ListQuery, today: date
) -> Paged[InboxEntry]:
    """One page of what arrived for the actor's unit, urgent first, newest first, as
    ``filters`` narrow it: words (subject, number, type, issuer), the day it arrived, who
    sent or forwarded it, status, type, and (``overdue``) past its deadline ``today``."""
    query = select(InboxEntry.id).where(
        InboxEntry.recipient_code == actor.unit_code,
        *text_matches(session, filters.q, InboxEntry.search_text, issuer=InboxEntry.sender_code),
        *day_span(InboxEntry.received_at, filters.first, filters.last),
    )
    if filters.sender is not None:
        query = query.where(
            or_(InboxEntry.sender_code == filters.sender, InboxEntry.forwarded_by == filters.sender)
        )
    if filters.status is not None:
        query = query.where(InboxEntry.status_code == filters.status.value)
    if filters.doc_type is not None:
        query = query.where(InboxEntry.doc_type == filters.doc_type)
    if filters.overdue:
        query = query.where(deadline_column() < today, not_finished())
    return page_by_key(
        session,
        InboxEntry,
        query.order_by(InboxEntry.urgency_rank, InboxEntry.received_at.desc(), InboxEntry.id),
        filters.paging,
    )


def inbox_senders(session: Session, *, actor: Actor) -> list[tuple[str, str]]:
    """Every unit that sent or forwarded something to the actor's unit: (code, name), by
    name (the inbox's "from" filter)."""
    mine = InboxEntry.recipient_code == actor.unit_code
    senders = session.scalars(select(InboxEntry.sender_code).where(mine).distinct())
    forwarders = session.scalars(select(InboxEntry.forwarded_by).where(mine).distinct())
    return directory.named(session, {c for c in [*senders, *forwarders] if c})


def forwarded_from(session: Session, entry: InboxEntry) -> Sequence[Delivery]:
    """Where the unit forwarded an entry to, by recipient."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.source_entry_id == entry.id)
        .order_by(Delivery.recipient_code)
    ).all()


def entry_file(session: Session, entry_id: str, *, actor: Actor, services: Services) -> bytes:
    """The arrived PDF, unchanged; not served once the sender revoked it.

    :raises NotFound: ``delivery_not_found``; :raises Gone: ``document_revoked``.
    """
    entry = get_inbox_entry(session, entry_id, actor=actor)
    if entry.revoked_at is not None:
        raise Gone("document_revoked", id=entry.document_ref, reason=entry.revoked_reason or "")
    return services.blobs.get(entry.pdf_sha256)


def forward_targets(session: Session, entry: InboxEntry, *, actor: Actor) -> list[Unit]:
    """The units the actor may forward an entry to now (its unit's children), or none."""
    if (
        not actor.has(Role.CLERK)
        or entry.recipient_code != actor.unit_code
        or entry.status_code not in FORWARDABLE
        or entry.revoked_at is not None
        or entry.replaced_by is not None
    ):
        return []
    return directory.resolve_recipients(session, [f"children:{entry.recipient_code}"])


def status_history(session: Session, entry: InboxEntry) -> Sequence[StatusEvent]:
    """Every status change of an entry, oldest first."""
    return session.scalars(
        select(StatusEvent).where(StatusEvent.inbox_entry_id == entry.id).order_by(StatusEvent.id)
    ).all()


#: The order in which the inbox page offers the recipient's moves.
_OFFERED = (
    Status.ACCEPTED,
    Status.RETURNED,
    Status.ASSIGNED,
    Status.PROCESSING,
    Status.DONE,
    Status.TAKE_BACK_AGREED,
    Status.TAKE_BACK_REFUSED,
)


def allowed_moves(entry: InboxEntry, actor: Actor) -> list[Status]:
    """What ``actor`` may do with an entry of its unit now (the same rules as
    :func:`change_status`, asked without changing anything)."""
    if entry.revoked_at is not None or entry.replaced_by is not None:
        return []
    before = Status(entry.status_before_take_back) if entry.status_before_take_back else None
    moves = []
    for code in _OFFERED:
        try:
            _check_recipient_role(entry, code, actor)
            check_move(Status(entry.status_code), code, before_take_back=before)
        except (Forbidden, Conflict):
            continue
        moves.append(code)
    return moves


def _check_recipient_role(entry: InboxEntry, code: Status, actor: Actor) -> None:
    if code in (Status.ASSIGNED,):
        require_role(actor, Role.SIGNER)
    elif code in (Status.PROCESSING, Status.DONE):
        if actor.username != entry.assignee and not actor.has(Role.SIGNER, Role.CLERK):
            raise Forbidden("role_required", roles=f"{Role.SIGNER.value}, {Role.CLERK.value}")
    else:
        require_role(actor, Role.CLERK)


def change_status(
    session: Session,
    item_id: str,
    status: Status,
    *,
    actor: Actor,
    reason: str | None = None,
    assignee: str | None = None,
    instruction: str | None = None,
    due_date: date | None = None,
    peers: PeerDirectory | None = None,
) -> Status:
    """Move a delivery on: the recipient (02, 03, 04, 05, 06, 15, 16) or the sender (13).

    ``item_id`` is an inbox entry of the actor's unit, or a delivery the actor's unit sent.
    Returned documents need a reason; an assignment names a person of the receiving unit,
    with the leader's ``instruction`` and the day it is ``due_date`` (not before today).
    A request to a recipient on a peer server (one of ``peers``) travels as a status message;
    its answer (15 or 16) comes back the same way.

    :raises NotFound: ``delivery_not_found``.
    :raises Conflict: ``status_move_not_allowed``.
    :raises InvalidInput: ``invalid_status_code``, ``invalid_field``.
    """
    note = reason.strip()[:1000] if reason and reason.strip() else None
    now = utcnow()
    entry = session.get(InboxEntry, item_id[:32], with_for_update=True)
    if entry is not None and entry.recipient_code == actor.unit_code:
        check_not_frozen(entry)
        if status not in RECIPIENT_MOVES:
            raise Conflict("status_move_not_allowed", current=entry.status_code, new=status.value)
        _check_recipient_role(entry, status, actor)
        if status is Status.RETURNED and note is None:
            raise invalid_field("reason", "reason_required_for_return")
        if status is Status.ASSIGNED:
            person = session.scalar(
                select(User).where(
                    User.username == (assignee or ""), User.unit_code == entry.recipient_code
                )
            )
            if person is None:
                raise invalid_field("assignee", "reason_person_of_unit", code=entry.recipient_code)
            if due_date is not None and due_date < today_vn(now):
                raise invalid_field("due_date", "reason_not_in_past")
            entry.assignee = person.username
            entry.instruction = instruction.strip()[:1000] if instruction else None
            entry.handling_due = due_date
        before = Status(entry.status_before_take_back) if entry.status_before_take_back else None
        entry.status_code = check_move(
            Status(entry.status_code), status, before_take_back=before
        ).value
        if status is Status.ACCEPTED and entry.incoming_number is None:
            # Registered once the move is allowed, in the year it is accepted (Vietnam time).
            entry.incoming_year = today_vn(now).year
            entry.incoming_number = next_number(
                session, entry.recipient_code, entry.incoming_year, INCOMING_SERIES
            )
        if status in (Status.TAKE_BACK_AGREED, Status.TAKE_BACK_REFUSED):
            entry.status_before_take_back = None
    else:
        delivery = session.get(Delivery, item_id[:32], with_for_update=True)
        if delivery is None or delivery.from_code != actor.unit_code:
            raise NotFound("delivery_not_found", id=item_id[:40])
        if status not in SENDER_MOVES:
            raise Conflict(
                "status_move_not_allowed", current=delivery.status_code or "", new=status.value
            )
        require_role(actor, Role.CLERK)
        peer = peers.for_code(delivery.recipient_code) if peers is not None else None
        if peer is not None:
            return _ask_peer(session, delivery, status, peer, note=note, actor=actor, now=now)
        entry = session.scalar(
            select(InboxEntry)
            .where(InboxEntry.consignment_id == delivery.consignment_id)
            .with_for_update()
        )
        if entry is None:  # not arrived yet
            raise Conflict(
                "status_move_not_allowed", current=delivery.status_code or "", new=status.value
            )
        check_not_frozen(entry)
        current = Status(entry.status_code)
        entry.status_code = check_move(current, status).value
        entry.status_before_take_back = current.value
    session.add(
        StatusEvent(
            inbox_entry_id=entry.id, code=status.value, reason=note, actor=actor.username, at=now
        )
    )
    report_back(session, entry, status, now, note=note, actor=actor.username)
    audit.record(
        session,
        actor=actor.username,
        action="delivery.status",
        target=entry.id,
        details={
            "code": status.value,
            "reason": note,
            **(
                {"assignee": entry.assignee, "due_date": str(entry.handling_due or "")}
                if status is Status.ASSIGNED
                else {}
            ),
        },
    )
    session.commit()
    return status


def _ask_peer(
    session: Session,
    delivery: Delivery,
    status: Status,
    peer: Peer,
    *,
    note: str | None,
    actor: Actor,
    now: datetime,
) -> Status:
    """The sender's move (13) on a delivery a peer holds: recorded here, sent there."""
    current = Status(delivery.status_code) if delivery.status_code else None
    if delivery.state != DeliveryState.DELIVERED or current is None:
        raise Conflict(
            "status_move_not_allowed", current=delivery.status_code or "", new=status.value
        )
    check_move(current, status)
    source = source_of(session, delivery)
    message = edxml.StatusMessage(
        sender=organs(session, [delivery.from_code])[0],
        response_organ_id=source.issuer_code,
        response_code=source.number or "",
        response_date=None,
        response_document_id=source.document_ref,
        status_code=status.value,
        description=note or "",
        timestamp=now.astimezone(VN_TZ).replace(tzinfo=None),
        staff=actor.username,
    )
    session.add(
        StatusOutbox(
            peer=peer.name,
            consignment_id=delivery.consignment_id,
            inbox_entry_id=None,
            code=status.value,
            description=note or "",
            staff=actor.username,
            message=edxml.build_status(message),
            state=OutboxState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    delivery.status_code, delivery.status_at = status.value, now
    audit.record(
        session,
        actor=actor.username,
        action="delivery.status",
        target=delivery.id,
        details={"code": status.value, "reason": note, "peer": peer.name},
    )
    session.commit()
    return status

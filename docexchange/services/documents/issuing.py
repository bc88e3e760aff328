"""Issuing: the next number of the series, and the organisation's signature with it."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import (
    DocumentState,
    Secrecy,
    SignatureKind,
    document_identifier,
    notation,
    number_text,
    series_for,
)
from docexchange.domain.timeutil import VN_TZ, stamp_time
from docexchange.errors import (
    Conflict,
    Forbidden,
)
from docexchange.services import audit, tokens
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.documents.drafts import get_document
from docexchange.services.documents.signing import (
    _field_name,
    _lock_document,
    _record_signature,
    _signed_bytes,
)
from docexchange.services.documents.stamps import issue_fill, read_pdf, seal_placement
from docexchange.services.keys import unit_token_label
from docexchange.services.numbering import next_number
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Document,
    Unit,
)
from pki.signing import Appearance, ImageSide

logger = logging.getLogger(__name__)


def issue_document(
    session: Session, document_id: str, pin: str, *, services: Services, actor: Actor
) -> Document:
    """Number the document and apply the unit's organisation signature, in one transaction.

    If signing fails the transaction rolls back and the number was never given out.

    :raises Forbidden: not a clerk of the sending unit.
    :raises Conflict: ``document_not_issuable`` without a personal signature, or issued already.
    """
    require_role(actor, Role.CLERK)
    document = get_document(session, document_id, actor=actor)
    label = unit_token_label(document.sender_code)
    earlier_failures = tokens.refuse_if_locked(session, label, actor=actor)
    # One transaction from here: the number is taken under a row lock and given back by the
    # rollback if signing fails. (On SQLite that transaction holds the database's single
    # write lock while the unit's token signs.)
    document = _lock_document(session, document_id, actor=actor)
    if document.sender_code != actor.unit_code:
        raise Forbidden("unit_forbidden", code=document.sender_code)
    if document.state != DocumentState.SIGNED:
        raise Conflict("document_not_issuable", id=document.id, state=document.state)
    unit = session.get(Unit, document.sender_code)
    assert unit is not None
    now = utcnow()
    today = now.astimezone(VN_TZ).date()
    series = series_for(document.doc_type, Secrecy(document.secrecy))
    number = next_number(session, unit.code, today.year, series)
    notation_ = notation(document.doc_type, unit.abbreviation, document.drafting_unit)
    shown = number_text(number, notation_)
    signed_at = now.astimezone(VN_TZ).isoformat(timespec="seconds")
    shown_at = stamp_time(now)
    field_name = _field_name(document, SignatureKind.ORGANIZATION)
    current = services.blobs.get(document.current_sha256)
    # The number and date go into the document's own "Số:" and "ngày … tháng … năm" gaps
    # when the leader's revision laid fields there; otherwise the seal's text carries them.
    read = read_pdf(current)
    form, number_in_text = issue_fill(read, number, today)
    seal = services.blobs.get(unit.seal_image_sha256) if unit.seal_image_sha256 else None
    if seal is not None:
        # Under a seal image, at most two short lines, in a band of their own.
        lines: tuple[str, ...] = () if number_in_text else (f"Số: {shown}", shown_at)
    elif number_in_text:
        lines = (unit.name, f"Thời gian ký: {shown_at}")
    else:
        lines = (unit.name, f"Số: {shown}", f"Thời gian ký: {shown_at}")
    appearance = Appearance(
        lines=lines, color=(0.8, 0.0, 0.0), image_png=seal, image_side=ImageSide.TOP
    )
    signed, certificate_der = _signed_bytes(
        session,
        current,
        document_id=document.id,
        services=services,
        actor=actor,
        label=label,
        pin=pin,
        field_name=field_name,
        reason=f"Số {shown}, ban hành {signed_at}",
        location=unit.code,
        appearance=appearance,
        placement=seal_placement(
            read,
            document,
            with_image=seal is not None,
            text_lines=len(lines),
            font_size=appearance.font_size,
        ),
        form=form,
    )
    signature = _record_signature(
        document,
        services=services,
        actor=actor,
        label=label,
        kind=SignatureKind.ORGANIZATION,
        field_name=field_name,
        signed=signed,
        certificate_der=certificate_der,
    )
    if earlier_failures:
        tokens.clear_failures(session, label)
    document.series = series
    document.issued_year = today.year
    document.number = number
    document.notation = notation_
    document.number_in_text = number_in_text
    # Secret documents never travel: numbered in their own series, no exchange identifier
    # (it would repeat the identifier of the ordinary document with the same number).
    secret = Secrecy(document.secrecy) is not Secrecy.NONE
    document.document_id = (
        None if secret else document_identifier(unit.code, today, number, notation_)
    )
    document.issued_at = now
    document.issued_by = actor.username
    document.state = DocumentState.ISSUED
    audit.record(
        session,
        actor=actor.username,
        action="document.issue",
        target=document.id,
        details={
            "number": shown,
            "document_id": document.document_id,
            "serial": signature.certificate_serial,
            "number_in_text": number_in_text,
        },
    )
    session.commit()
    return document

"""Tables: units, recipient groups, users and roles, API tokens, audit events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship
from sqlalchemy.sql.expression import false as sa_false

from docexchange.domain.documents import (
    DOC_TYPES,
    DocumentState,
    SignatureKind,
    SigningState,
    number_text,
)
from docexchange.domain.exchange import DeliveryState, OutboxState
from docexchange.domain.reports import Direction
from docexchange.domain.search import search_text
from docexchange.storage.base import ONLY_ON, Base, UTCDateTime, enum_type, utcnow

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "CertificateRecord",
    "Delivery",
    "Document",
    "DocumentSignature",
    "InboxEntry",
    "LoginFailure",
    "NumberCounter",
    "PaperRecord",
    "RevokedConsignment",
    "RoleHistory",
    "SigningSession",
    "StatusEvent",
    "StatusOutbox",
    "TokenState",
    "Unit",
    "UnitGroup",
    "UnitGroupMember",
    "User",
    "UserRole",
    "VerdictCache",
]

LEVELS = ("central", "province", "district", "commune", "department")
ROLES = ("signer", "clerk", "specialist", "admin", "auditor")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


#: What the inbox's list reads besides its order (kept in its index on PostgreSQL).
INBOX_LIST_COLUMNS = [
    "id",
    "search_text",
    "status_code",
    "doc_type",
    "sender_code",
    "forwarded_by",
    "handling_due",
    "due_date",
]


def _found_by(table: str) -> Index:
    """A trigram index of a table's ``search_text`` on PostgreSQL (``LIKE '%word%'`` from
    the index); SQLite has none and reads a unit's rows through the unit's own index."""
    return Index(
        f"ix_{table}_search_trgm",
        "search_text",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
        info={ONLY_ON: "postgresql"},
    ).ddl_if(dialect="postgresql")


class Unit(Base):
    """A government unit, keyed by its 13-character identifier code."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(f"level IN {_in(LEVELS)}", name="level"),
        _found_by("units"),
    )

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    abbreviation: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT"), index=True
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT")
    )
    #: What a search of the documents it issued finds it by (name, abbreviation), folded.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The unit's seal image (red, transparent PNG) in the blob store.
    seal_image_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UnitGroup(Base):
    """A named list of recipient units, editable by admins (``group:<name>``)."""

    __tablename__ = "unit_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    members: Mapped[list[UnitGroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="UnitGroupMember.position"
    )


class UnitGroupMember(Base):
    """One unit in a recipient group, in the order the admin gave."""

    __tablename__ = "unit_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("unit_groups.id", ondelete="CASCADE"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    group: Mapped[UnitGroup] = relationship(back_populates="members")


class User(Base):
    """A person with an account, tied to one unit."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(100), default="")
    unit_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    #: The person's handwritten signature image (blue, transparent PNG) in the blob store.
    signature_image_sha256: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by an admin's reset (a one-time password): the next sign-in must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    #: The second factor (TOTP, RFC 6238): the secret encrypted with the instance's key,
    #: set on enrolment; ``totp_confirmed_at`` once a first code proved the app has it.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Recovery codes for a lost phone: their SHA-256, each usable once.
    recovery_codes: Mapped[list[str] | None] = mapped_column(JSON)
    #: The TOTP time step (RFC 6238 counter) of the last code that signed in: a code is
    #: good once, so one seen over a shoulder or in a log cannot sign in again.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> frozenset[str]:
        """The user's role names."""
        return frozenset(r.role for r in self.roles)


class LoginFailure(Base):
    """A failed sign-in: which account, from which client address, when. Throttling counts
    these (per account and address, and per address), so it holds across processes."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_user_client_at", "username", "client", "at"),
        Index("ix_login_failures_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserRole(Base):
    """One role held by a user."""

    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(f"role IN {_in(ROLES)}", name="role"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    user: Mapped[User] = relationship(back_populates="roles")


class RoleHistory(Base):
    """Who held which role in which unit, and when (the mandate check looks back with it).

    A row is opened when a role is granted and closed (``valid_to``) when it is taken away
    or the person moves to another unit; rows are never deleted.
    """

    __tablename__ = "role_history"
    __table_args__ = (Index("ix_role_history_username_role", "username", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(13))
    role: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class AuditEvent(Base):
    """One append-only, hash-chained audit event."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_action_at", "action", "occurred_at"),
        Index("ix_audit_events_target_at", "target", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row recording the last appended audit event (detects tail removal)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Document(Base):
    """An outgoing document of one unit and the PDF revisions it went through."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_sender_state", "sender_code", "state"),
        # Covers the ratio report's query (no table rows read): keep in step with it.
        Index(
            "ix_documents_report",
            "sender_code",
            "issued_at",
            "state",
            "secrecy",
            "paper_copy",
            "verified_valid",
            "sent_at",
        ),
        UniqueConstraint("sender_code", "issued_year", "series", "number", name="number"),
        Index("ix_documents_sender_created", "sender_code", "created_at"),
        _found_by("documents"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sender_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT")
    )
    created_by: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[str] = mapped_column(String(8))
    urgency: Mapped[str] = mapped_column(String(16))
    secrecy: Mapped[str] = mapped_column(String(16))
    paper_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    drafting_unit: Mapped[str | None] = mapped_column(String(30))
    due_date: Mapped[date | None] = mapped_column(Date)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[DocumentState] = mapped_column(enum_type(DocumentState))
    pages: Mapped[int] = mapped_column(Integer)
    #: Page (1-based) for the visible signatures; None: the last page.
    signature_page: Mapped[int | None] = mapped_column(Integer)
    original_sha256: Mapped[str] = mapped_column(String(64))
    current_sha256: Mapped[str] = mapped_column(String(64))
    series: Mapped[str | None] = mapped_column(String(16))
    issued_year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    notation: Mapped[str | None] = mapped_column(String(30))
    #: Whether the number was written into the document's own "Số:" gap at issue (else it
    #: is only in the seal's text); ``None`` before issue and for documents received.
    number_in_text: Mapped[bool | None] = mapped_column(Boolean)
    document_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by: Mapped[str | None] = mapped_column(String(64))
    #: When the clerk sent it (the deliveries were written in the same transaction).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Submitted for signature ("trình ký") to this signer of the unit, with a note.
    submitted_to: Mapped[str | None] = mapped_column(String(64), index=True)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submit_note: Mapped[str | None] = mapped_column(String(1000))
    #: Sent back to the drafter ("trả lại"): why, by whom, when (cleared by a new submission).
    returned_reason: Mapped[str | None] = mapped_column(String(1000))
    returned_by: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last verification report (``ValidationReport.as_dict()``, mandate of the sender
    #: applied), the file revision it judged and when.
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verified_sha256: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The verdict (``valid``) on the *current* file, ``None`` when it was not checked since
    #: its last revision: a column so that reports can count it from an index alone.
    verified_valid: Mapped[bool | None] = mapped_column(Boolean)
    #: An earlier document of the same unit that this one replaces (edXML business type 3).
    replaces_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("documents.id"))
    #: Withdrawn by the sender (edXML business type 1): frozen, never sent again.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_reason: Mapped[str | None] = mapped_column(String(1000))
    #: What a search finds it by (type, subject, number, identifier), folded: see
    #: :mod:`docexchange.domain.search`; kept by :func:`_document_found_by`.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    signatures: Mapped[list[DocumentSignature]] = relationship(
        back_populates="document", order_by="DocumentSignature.id", lazy="selectin"
    )


class DocumentSignature(Base):
    """One signature the server applied to a document (who, which token, which certificate)."""

    __tablename__ = "document_signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SignatureKind] = mapped_column(enum_type(SignatureKind))
    field_name: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(64))
    token_label: Mapped[str] = mapped_column(String(32))
    certificate_subject: Mapped[str] = mapped_column(String(500))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sha256_after: Mapped[str] = mapped_column(String(64))
    document: Mapped[Document] = relationship(back_populates="signatures")


class NumberCounter(Base):
    """The last number given in one series of one unit in one year."""

    __tablename__ = "number_counters"

    unit_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class TokenState(Base):
    """Our PIN-failure count and lock for one token (real cards lock too; SoftHSM2 never does)."""

    __tablename__ = "token_states"

    label: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SigningSession(Base):
    """A deferred signature in progress: the prepared PDF waits for the client's signature."""

    __tablename__ = "signing_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(String(64))
    state: Mapped[SigningState] = mapped_column(enum_type(SigningState))
    field_name: Mapped[str] = mapped_column(String(64))
    seen_sha256: Mapped[str] = mapped_column(String(64))
    prepared_sha256: Mapped[str] = mapped_column(String(64))
    document_digest: Mapped[bytes] = mapped_column(LargeBinary)
    reserved_start: Mapped[int] = mapped_column(Integer)
    reserved_end: Mapped[int] = mapped_column(Integer)
    signed_attrs: Mapped[bytes] = mapped_column(LargeBinary)
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    chain: Mapped[list[str]] = mapped_column(JSON)  # base64 DER, intermediate first
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CertificateRecord(Base):
    """A signing certificate this server knows the owner of (for the mandate check)."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("issuer", "serial", name="issuer_serial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    serial: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))
    kind: Mapped[SignatureKind] = mapped_column(enum_type(SignatureKind))
    owner_username: Mapped[str | None] = mapped_column(String(64), index=True)
    owner_unit_code: Mapped[str | None] = mapped_column(String(13), index=True)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """Outbox: one row per (sent document, recipient), written with the send itself.

    A worker takes pending rows (urgent first), hands the document over and marks the row
    delivered; the same ``consignment_id`` is used on every attempt, so a receiver that sees
    it again creates nothing. ``status_code`` is the latest status the recipient reported.

    What travels is either a document of ``from_code`` (``document_id``) or, when a unit
    forwards what it received to its children, that inbox entry's file (``source_entry_id``),
    unchanged. ``state``: pending | delivered | failed | revoked.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("document_id", "recipient_code", name="document_recipient"),
        UniqueConstraint("source_entry_id", "recipient_code", name="forward_recipient"),
        Index("ix_deliveries_pending", "state", "urgency_rank", "next_attempt_at"),
        # The outbox's order: what a unit sent, newest first.
        Index("ix_deliveries_from_created", "from_code", "created_at"),
        CheckConstraint("(document_id IS NULL) <> (source_entry_id IS NULL)", name="one_source"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The unit that sent it (the issuer, or the unit that forwarded it).
    from_code: Mapped[str] = mapped_column(String(13))
    document_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("documents.id", ondelete="RESTRICT"), index=True
    )
    source_entry_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("inbox_entries.id", ondelete="RESTRICT"), index=True
    )
    recipient_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT")
    )
    consignment_id: Mapped[str] = mapped_column(String(36), unique=True)
    urgency_rank: Mapped[int] = mapped_column(Integer)
    state: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    status_code: Mapped[str | None] = mapped_column(String(2))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxEntry(Base):
    """A document that arrived for a unit, with its verdict and processing status.

    ``consignment_id`` is unique: a consignment seen again is answered with the entry made
    the first time. ``document_ref`` is the exchange document id (DESIGN.md §3).
    """

    __tablename__ = "inbox_entries"
    __table_args__ = (
        Index("ix_inbox_recipient_status", "recipient_code", "status_code"),
        Index("ix_inbox_report", "recipient_code", "received_at", "verified_valid", "paper_copy"),
        UniqueConstraint(
            "recipient_code", "incoming_year", "incoming_number", name="inbox_incoming_number"
        ),
        # A unit's inbox in its order (urgent first), carrying what the filters and the search
        # read: on PostgreSQL a page's keys and its count come from this index alone.
        Index(
            "ix_inbox_recipient_order",
            "recipient_code",
            "urgency_rank",
            "received_at",
            postgresql_include=INBOX_LIST_COLUMNS,
        ),
        _found_by("inbox_entries"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    consignment_id: Mapped[str] = mapped_column(String(36), unique=True)
    recipient_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT")
    )
    sender_code: Mapped[str] = mapped_column(String(13))
    document_ref: Mapped[str] = mapped_column(String(80))
    #: The sender's document row when it was sent from this server.
    source_document_id: Mapped[str | None] = mapped_column(String(32))
    #: The peer server it came from (statuses go back there), when not from this server.
    source_peer: Mapped[str | None] = mapped_column(String(64))
    #: The unit that forwarded it here (its parent), when not sent by the issuer itself.
    forwarded_by: Mapped[str | None] = mapped_column(String(13))
    subject: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[str] = mapped_column(String(8))
    number: Mapped[str | None] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(16))
    urgency_rank: Mapped[int] = mapped_column(Integer)
    paper_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    verification: Mapped[dict[str, Any]] = mapped_column(JSON)
    verified_valid: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[str] = mapped_column(String(2))
    #: Where the entry was when the sender asked for it back (restored if refused).
    status_before_take_back: Mapped[str | None] = mapped_column(String(2))
    assignee: Mapped[str | None] = mapped_column(String(64))
    #: The leader's instruction on assigning (ý kiến chỉ đạo, NĐ 30 Điều 23) and the deadline
    #: set then; the sender's own processing deadline (edXML DueDate) comes with the document.
    instruction: Mapped[str | None] = mapped_column(String(1000))
    handling_due: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    #: The incoming register's number ("số đến"), given at acceptance (03): consecutive per
    #: unit and year, shared with paper received (NĐ 30 Điều 22); never given again.
    incoming_year: Mapped[int | None] = mapped_column(Integer)
    incoming_number: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Withdrawn by the sender: frozen, its file no longer served (metadata and trail kept).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(1000))
    #: Replaced by a later document (edXML business type 3): frozen, file kept for the trail.
    replaced_by: Mapped[str | None] = mapped_column(String(32))
    #: What a search finds it by (type, subject, number, identifier), folded.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")


class StatusEvent(Base):
    """One status change of an inbox entry: who, when, why (never deleted)."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbox_entry_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("inbox_entries.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str | None] = mapped_column(String(1000))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: An arrival (01): the unit that handed it over (its issuer, or the unit that forwarded
    #: it); a document that arrives again by another route has one such event per route.
    via: Mapped[str | None] = mapped_column(String(13))


class StoredBlob(Base):
    """A file of the database blob store (``DOCEXCHANGE_BLOB_STORE=database``): named by its
    SHA-256, written once, never changed; a backup or a replica of the database carries it."""

    __tablename__ = "stored_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VerdictCache(Base):
    """A verification report computed once per file content, trust and sender (fan-out)."""

    __tablename__ = "verdict_cache"

    content_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    trust_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender_code: Mapped[str] = mapped_column(String(13), primary_key=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusOutbox(Base):
    """A status to report to a peer server, written with the status change it reports."""

    __tablename__ = "status_outbox"
    __table_args__ = (Index("ix_status_outbox_pending", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer: Mapped[str] = mapped_column(String(64))
    consignment_id: Mapped[str] = mapped_column(String(36))
    inbox_entry_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("inbox_entries.id", ondelete="RESTRICT")
    )
    code: Mapped[str] = mapped_column(String(2))
    #: A message built when it was queued (a revocation notice), sent as it is.
    message: Mapped[bytes | None] = mapped_column(LargeBinary)
    description: Mapped[str] = mapped_column(String(1000), default="")
    staff: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[OutboxState] = mapped_column(enum_type(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedConsignment(Base):
    """A peer withdrew a consignment: kept even when the document never arrived, so that a
    late arrival of it creates nothing."""

    __tablename__ = "revoked_consignments"

    consignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_peer: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperRecord(Base):
    """A document sent or received on paper, registered by a clerk (DESIGN.md §4.4) so that
    the fully-electronic ratio counts it; secret documents are registered here too."""

    __tablename__ = "paper_records"
    __table_args__ = (
        Index("ix_paper_unit_direction_day", "unit_code", "direction", "day"),
        UniqueConstraint(
            "unit_code", "incoming_year", "incoming_number", name="paper_incoming_number"
        ),
        _found_by("paper_records"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("units.code", ondelete="RESTRICT")
    )
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, 8))
    #: The document's date (sent: issued; received: arrived), Vietnam calendar day.
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(500))
    counterpart: Mapped[str] = mapped_column(String(200))
    secrecy: Mapped[str] = mapped_column(String(16))
    #: Received on paper: its number in the incoming register, shared with electronic arrivals.
    incoming_year: Mapped[int | None] = mapped_column(Integer)
    incoming_number: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What a search finds it by (subject, number, counterpart), folded.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")


# What each searchable row is found by, kept in step with the columns it is made of on every
# insert and update made through the ORM (bulk writes must set ``search_text`` themselves).


@event.listens_for(Unit, "before_insert")
@event.listens_for(Unit, "before_update")
def _unit_found_by(_mapper: Mapper[Any], _connection: Any, row: Unit) -> None:
    row.search_text = search_text(row.name, row.abbreviation)


@event.listens_for(Document, "before_insert")
@event.listens_for(Document, "before_update")
def _document_found_by(_mapper: Mapper[Any], _connection: Any, row: Document) -> None:
    row.search_text = search_text(
        DOC_TYPES.get(row.doc_type),
        row.subject,
        number_text(row.number, row.notation),
        row.document_id,
    )


@event.listens_for(InboxEntry, "before_insert")
@event.listens_for(InboxEntry, "before_update")
def _entry_found_by(_mapper: Mapper[Any], _connection: Any, row: InboxEntry) -> None:
    row.search_text = search_text(
        DOC_TYPES.get(row.doc_type), row.subject, row.number, row.document_ref
    )


@event.listens_for(PaperRecord, "before_insert")
@event.listens_for(PaperRecord, "before_update")
def _paper_found_by(_mapper: Mapper[Any], _connection: Any, row: PaperRecord) -> None:
    row.search_text = search_text(row.subject, row.number, row.counterpart)

"""Batch signing: a morning's queue signed with one PIN entry.

One PIN login for the batch and one certificate for every document (pinned when the token
opens); each document is still checked, signed in its own revision, recorded and audited on
its own, so one that cannot be signed (wrong state, another unit's, changed meanwhile) is
reported and the rest signed. A wrong PIN signs nothing and counts once toward the lock; a
token that fails under the batch (the key gone, the module erring) or a certificate revoked
meanwhile stops it, the rest reported undone (``signing_batch_stopped``).

The token stays logged in for the whole batch (the process-wide PKCS#11 lock with it), so a
batch is limited (``DOCEXCHANGE_MAX_SIGNING_BATCH``, default 100).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.errors import DocExchangeError, invalid_field
from docexchange.services import tokens
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.documents.signing import finish_personal, prepare_personal, sign_with
from docexchange.services.keys import user_token_label
from pki.errors import TokenError

__all__ = ["BatchItem", "BatchOutcome", "sign_batch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchItem:
    """What happened to one document of the batch: signed, or why not."""

    document_id: str
    error: DocExchangeError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BatchOutcome:
    """The certificate every document was signed with, and each document's result."""

    certificate_subject: str
    certificate_serial: str
    certificate_sha256: str
    items: list[BatchItem]

    @property
    def signed(self) -> int:
        return sum(1 for item in self.items if item.ok)


def sign_batch(
    session: Session,
    document_ids: Sequence[str],
    pin: str,
    *,
    services: Services,
    actor: Actor,
) -> BatchOutcome:
    """Sign every document of ``document_ids`` (duplicates once) with one PIN login.

    :raises Forbidden: ``role_required``; ``pin_incorrect`` (nothing signed).
    :raises Locked: ``token_locked``.
    :raises InvalidInput: ``invalid_field`` (no document, or more than the batch limit).
    """
    require_role(actor, Role.SIGNER)
    wanted = list(dict.fromkeys(d[:32] for d in document_ids))
    limit = services.settings.max_signing_batch
    if not wanted:
        raise invalid_field("document_ids", "reason_non_empty_list")
    if len(wanted) > limit:
        raise invalid_field("document_ids", "reason_max_items", max_items=limit)
    label = user_token_label(actor.username)
    earlier_failures = tokens.refuse_if_locked(session, label, actor=actor)
    session.commit()
    items: list[BatchItem] = []
    settings = services.settings
    with tokens.token_signer(
        session, label, pin, keys=services.keys, actor=actor, max_failures=settings.max_pin_failures
    ) as (signer, certificate_der):
        certificate = asn1_x509.Certificate.load(certificate_der)
        pinned = hashlib.sha256(certificate_der).hexdigest()
        for index, document_id in enumerate(wanted):
            try:
                prepared = prepare_personal(session, document_id, services=services, actor=actor)
                session.commit()
                if services.keys.is_revoked(certificate_der):
                    raise TokenError("the batch's certificate was revoked during the batch")
                signed = sign_with(
                    signer,
                    prepared.data,
                    document_id=prepared.document.id,
                    services=services,
                    field_name=prepared.field_name,
                    reason="Ký duyệt",
                    location=prepared.document.sender_code,
                    appearance=prepared.appearance,
                    placement=prepared.placement,
                    form=prepared.form,
                )
                finish_personal(
                    session,
                    prepared,
                    signed,
                    certificate_der,
                    services=services,
                    actor=actor,
                    clear_failures=earlier_failures > 0 and not any(i.ok for i in items),
                )
                items.append(BatchItem(document_id))
            except DocExchangeError as exc:
                session.rollback()
                if exc.code != "signing_failed":  # the document's own problem: go on
                    items.append(BatchItem(document_id, exc))
                    continue
                logger.warning("signing batch stopped after %d of %d", index, len(wanted))
                items.append(BatchItem(document_id, exc))
                stopped = DocExchangeError("signing_batch_stopped")
                items.extend(BatchItem(d, stopped) for d in wanted[index + 1 :])
                break
            except TokenError:
                session.rollback()
                logger.warning("signing batch stopped after %d of %d", index, len(wanted))
                stopped = DocExchangeError("signing_batch_stopped")
                items.extend(BatchItem(d, stopped) for d in wanted[index:])
                break
    return BatchOutcome(
        certificate_subject=certificate.subject.human_friendly,
        certificate_serial=format(certificate.serial_number, "x"),
        certificate_sha256=pinned,
        items=items,
    )

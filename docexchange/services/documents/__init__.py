"""Outgoing documents: upload, personal signature, issue (number + organisation signature).

One module per step: :mod:`.drafts` (upload, listing, reading), :mod:`.submission` (to a
leader, back to the drafter, the signing queue), :mod:`.signing` (the leader's personal
signature), :mod:`.batch` (a queue signed with one PIN), :mod:`.issuing` (number and
organisation signature), :mod:`.stamps` (where the stamps, the number and the date go) and
:mod:`.deferred` (a signature made on the leader's own USB token).
"""

from __future__ import annotations

from docexchange.services.documents.batch import BatchItem, BatchOutcome, sign_batch
from docexchange.services.documents.deferred import (
    SIGNING_SESSION_TTL,
    OpenedSigningSession,
    complete_signing_session,
    open_signing_session,
)
from docexchange.services.documents.drafts import (
    DocumentInput,
    create_document,
    document_pdf,
    get_document,
    list_documents,
)
from docexchange.services.documents.issuing import issue_document
from docexchange.services.documents.signing import sign_document
from docexchange.services.documents.stamps import (
    PERSONAL_BOX,
    SEAL_BOX,
    SEAL_OVER_SIGNATURE_BOX,
)
from docexchange.services.documents.submission import (
    return_document,
    signers_of,
    signing_queue,
    submit_document,
)

__all__ = [
    "PERSONAL_BOX",
    "SEAL_BOX",
    "SEAL_OVER_SIGNATURE_BOX",
    "SIGNING_SESSION_TTL",
    "BatchItem",
    "BatchOutcome",
    "DocumentInput",
    "OpenedSigningSession",
    "complete_signing_session",
    "create_document",
    "document_pdf",
    "get_document",
    "issue_document",
    "list_documents",
    "open_signing_session",
    "return_document",
    "sign_batch",
    "sign_document",
    "signers_of",
    "signing_queue",
    "submit_document",
]

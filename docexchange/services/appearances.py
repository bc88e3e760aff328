"""Signature and seal images for visible signatures (NĐ 30/2020 Phụ lục I).

A person's handwritten signature (blue) and a unit's seal (red) are PNG files with a
transparent background, uploaded by admins and kept in the blob store.
"""

from __future__ import annotations

import io
import logging

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.errors import InvalidInput, NotFound
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.storage.blobs import Blobs
from docexchange.storage.models import Unit, User

__all__ = ["MAX_IMAGE_BYTES", "check_png", "set_seal_image", "set_signature_image"]

logger = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 1024 * 1024
MAX_SIDE = 2000


def check_png(data: bytes) -> tuple[int, int]:
    """Accept only a reasonably sized PNG with transparency; return its size.

    :raises InvalidInput: ``image_invalid`` or ``image_not_transparent``.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput("image_invalid")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or max(image.size) > MAX_SIDE or min(image.size) < 8:
                raise InvalidInput("image_invalid")
            transparent = image.mode in {"RGBA", "LA"} or (
                image.mode == "P" and "transparency" in image.info
            )
            size = image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput("image_invalid") from None
    if not transparent:
        raise InvalidInput("image_not_transparent")
    return size


def set_signature_image(
    session: Session, username: str, data: bytes, *, blobs: Blobs, actor: Actor
) -> str:
    """Admin: a person's signature image; returns its SHA-256."""
    require_role(actor, Role.ADMIN)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", username=username)
    size = check_png(data)
    user.signature_image_sha256 = digest = blobs.put(data)
    return _recorded(
        session, digest, size, action="user.signature_image", target=username, actor=actor
    )


def set_seal_image(
    session: Session, unit_code: str, data: bytes, *, blobs: Blobs, actor: Actor
) -> str:
    """Admin: a unit's seal image; returns its SHA-256."""
    require_role(actor, Role.ADMIN)
    unit = session.get(Unit, unit_code)
    if unit is None:
        raise NotFound("unit_not_found", code=unit_code)
    size = check_png(data)
    unit.seal_image_sha256 = digest = blobs.put(data)
    return _recorded(session, digest, size, action="unit.seal_image", target=unit_code, actor=actor)


def _recorded(
    session: Session,
    digest: str,
    size: tuple[int, int],
    *,
    action: str,
    target: str,
    actor: Actor,
) -> str:
    audit.record(
        session,
        actor=actor.username,
        action=action,
        target=target,
        details={"sha256": digest, "size": list(size)},
    )
    session.commit()
    return digest

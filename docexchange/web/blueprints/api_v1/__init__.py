"""JSON API v1 (DESIGN.md §6): authentication, directory, groups, accounts, documents,
exchange, reports.

Routes by area, all on one blueprint (:mod:`.blueprint`): :mod:`.signin` (sign-in and the
contract), :mod:`.directory`, :mod:`.accounts` (users, tokens, signature images),
:mod:`.documents` (upload, sign, issue, verify, trust), :mod:`.exchange` (send, receive,
statuses) and :mod:`.reports`. Importing this package registers every route.
"""

from __future__ import annotations

from docexchange.web.blueprints.api_v1 import (  # noqa: F401 - each registers its routes
    accounts,
    directory,
    documents,
    exchange,
    reports,
    signin,
)
from docexchange.web.blueprints.api_v1.blueprint import OPENAPI_PATH, bp

__all__ = ["OPENAPI_PATH", "bp"]

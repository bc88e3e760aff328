"""A request that only reads never waits for the write lock: while another process holds
it (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an uncommitted update of the reader's own
rows), the inbox, the outbox, the documents and the unit list answer at once."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from docexchange.services.container import Services
from tests.web.test_ui import _login

READS = ["/api/v1/inbox", "/api/v1/outbox", "/api/v1/documents", "/api/v1/units", "/healthz"]
PAGES = ["/", "/inbox", "/outbox", "/documents/", "/directory"]


def test_reads_answer_while_a_writer_holds_the_lock(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    clerk = as_user("cm.vanthu")
    pages = client.application.test_client()
    _login(pages, "cm.vanthu")
    settings = services.settings
    if settings.is_sqlite:
        holder: Any = sqlite3.connect(str(make_url(settings.database_url).database), timeout=1)
        holder.isolation_level = None
        holder.execute("BEGIN IMMEDIATE")  # the one writer's lock, as a long write holds it
    else:
        holder = services.engine.connect()
        holder.begin()
        holder.execute(text("UPDATE users SET position = position WHERE username = 'cm.vanthu'"))
    answers: dict[str, int] = {}

    def read() -> None:
        for path in READS:
            answers[path] = client.get(path, headers=clerk).status_code
        for path in PAGES:
            answers[path] = pages.get(path).status_code

    reader = threading.Thread(target=read)
    try:
        reader.start()
        reader.join(timeout=10)  # a waiting read would wait out the 30 s busy timeout
        assert not reader.is_alive(), f"reads waited for the writer: {answers}"
    finally:
        if settings.is_sqlite:
            holder.execute("ROLLBACK")
        else:
            holder.rollback()
        holder.close()
        reader.join(timeout=60)
    assert answers == dict.fromkeys(READS + PAGES, 200)

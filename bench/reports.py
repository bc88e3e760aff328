"""The fully-electronic ratio over 1,000,000 documents: exact, and fast enough to click.

Usage: ``.venv/bin/python bench/reports.py [--documents N] [--postgres URL] [--only db]``.
For SQLite and PostgreSQL: a fresh database with the national tree (34 provinces, 3,321
communes; a synthetic central unit above the provinces) and the demo units; one year (2026)
of generated history, the same on both (fixed seed): N documents issued (3 % secret, 10 % with
a paper copy, 85 % sent, of those 95 % verified valid), one delivery and one inbox entry per
sent document, and N/10 paper records (5 % secret). Then the subtree report of one province
for the second quarter, and of the whole country, each run 5 times (median), through the
service the API calls. The figures are checked against a tally kept while generating
(independent of SQL) and must be the same on both databases. Target (issue 6): under 300 ms
for the province on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fanout import _settings  # noqa: E402  (the same instance settings)
from national_tree import national_tree  # noqa: E402
from sqlalchemy import create_engine, insert, text, update  # noqa: E402

from docexchange.domain.accounts import Role  # noqa: E402
from docexchange.domain.reports import Period, Scope  # noqa: E402
from docexchange.domain.timeutil import VN_TZ  # noqa: E402
from docexchange.services import demo, directory, reports  # noqa: E402
from docexchange.services.authz import Actor  # noqa: E402
from docexchange.services.container import build_services  # noqa: E402
from docexchange.services.schema import migrate  # noqa: E402
from docexchange.storage.models import (  # noqa: E402
    Delivery,
    Document,
    InboxEntry,
    PaperRecord,
    Unit,
)

CENTRAL = "000.00.00.G01"
PROVINCE = "000.00.00.H07"
QUARTER = Period(date(2026, 4, 1), date(2026, 6, 30))
YEAR_START = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)  # 1 January 2026, 00:00 in Vietnam
CHUNK = 20_000


def _vn_day(moment: datetime) -> date:
    return moment.astimezone(VN_TZ).date()


class History:
    """A year of generated rows, and what the report must say about them."""

    def __init__(self, codes: list[str], parent: dict[str, str | None], count: int) -> None:
        self.codes, self.parent, self.count = codes, parent, count
        self.tally: dict[str, Counter[str]] = {}

    def _province_of(self, code: str) -> str:
        while self.parent.get(code) not in (None, CENTRAL):
            code = self.parent[code] or code
        return code

    def _count(self, code: str, day: date, key: str) -> None:
        if QUARTER.first <= day <= QUARTER.last:
            for scope in (self._province_of(code), CENTRAL):
                self.tally.setdefault(scope, Counter())[key] += 1

    def rows(self) -> Any:
        """Yield (table, rows) chunks; the tally is kept as they are made."""
        rng = random.Random(20261126)
        documents: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        deliveries: list[dict[str, Any]] = []
        for n in range(self.count):
            sender = rng.choice(self.codes)
            issued = YEAR_START + timedelta(seconds=rng.randrange(365 * 86400))
            secret = rng.random() < 0.03
            paper = rng.random() < 0.10
            sent = not secret and rng.random() < 0.85
            valid = sent and rng.random() < 0.95
            sha = f"{n:064x}"
            documents.append(
                {
                    "id": f"d{n:031d}",
                    "sender_code": sender,
                    "created_by": "bench",
                    "subject": "Văn bản thử",
                    "doc_type": "CV",
                    "urgency": "normal",
                    "secrecy": "mat" if secret else "none",
                    "paper_copy": paper,
                    "recipients": [],
                    "state": "issued",
                    "pages": 1,
                    "original_sha256": sha,
                    "current_sha256": sha,
                    "created_at": issued,
                    "issued_at": issued,
                    "sent_at": issued if sent else None,
                    "verified_sha256": sha if sent else None,
                    "verified_valid": valid if sent else None,
                }
            )
            day = _vn_day(issued)
            if secret:
                self._count(sender, day, "secret_sent")
            else:
                self._count(sender, day, "sent_total")
                if sent and valid and not paper:
                    self._count(sender, day, "sent_electronic")
            if sent:
                recipient = rng.choice(self.codes)
                arrived = issued + timedelta(seconds=rng.randrange(1, 7200))
                consignment = f"c{n:035d}"
                deliveries.append(
                    {
                        "id": f"x{n:031d}",
                        "from_code": sender,
                        "document_id": f"d{n:031d}",
                        "recipient_code": recipient,
                        "consignment_id": consignment,
                        "urgency_rank": 3,
                        "state": "delivered",
                        "attempts": 0,
                        "next_attempt_at": issued,
                        "created_at": issued,
                        "delivered_at": arrived,
                        "status_code": "01",
                        "status_at": arrived,
                    }
                )
                entries.append(
                    {
                        "id": f"e{n:031d}",
                        "consignment_id": consignment,
                        "recipient_code": recipient,
                        "sender_code": sender,
                        "document_ref": f"{sender},{n}",
                        "source_document_id": f"d{n:031d}",
                        "subject": "Văn bản thử",
                        "doc_type": "CV",
                        "urgency": "normal",
                        "urgency_rank": 3,
                        "paper_copy": paper,
                        "pdf_sha256": sha,
                        "verification": {"valid": valid},
                        "verified_valid": valid,
                        "status_code": "01",
                        "received_at": arrived,
                    }
                )
                arrival_day = _vn_day(arrived)
                self._count(recipient, arrival_day, "received_total")
                if valid and not paper:
                    self._count(recipient, arrival_day, "received_electronic")
            if len(documents) >= CHUNK:
                yield Document, documents
                yield Delivery, deliveries
                yield InboxEntry, entries
                documents, deliveries, entries = [], [], []
        yield Document, documents
        yield Delivery, deliveries
        yield InboxEntry, entries
        papers = []
        for n in range(self.count // 10):
            unit = rng.choice(self.codes)
            day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
            direction = rng.choice(("sent", "received"))
            secret = rng.random() < 0.05
            papers.append(
                {
                    "id": f"p{n:031d}",
                    "unit_code": unit,
                    "direction": direction,
                    "day": day,
                    "number": f"{n}/GIAY",
                    "subject": "Giấy",
                    "counterpart": "Nơi khác",
                    "secrecy": "mat" if secret else "none",
                    "created_by": "bench",
                    "created_at": YEAR_START,
                }
            )
            key = ("secret_" if secret else "") + direction
            key = {"sent": "sent_total", "received": "received_total"}.get(key, key)
            self._count(unit, day, key)
        yield PaperRecord, papers


def one_run(url: str, schema: str, instance: Path, count: int) -> dict[str, Any]:
    settings = _settings(instance, url, schema)
    svc = build_services(settings)
    migrate(svc.engine)
    with svc.sessions() as session:
        demo.apply_demo(session, hasher=svc.hasher)
        session.add(Unit(code=CENTRAL, name="Trung ương", abbreviation="TW", level="central"))
        session.commit()
        rows = [directory.UnitInput.from_mapping(r) for r in national_tree()]
        directory.import_tree(session, rows, actor=None, source="bench")
        session.execute(
            update(Unit)
            .where(Unit.level == "province", Unit.code != CENTRAL)
            .values(parent_code=CENTRAL)
        )
        session.commit()
        units = {u.code: u.parent_code for u in session.query(Unit)}
    codes = sorted(c for c in units if c != CENTRAL)
    history = History(codes, units, count)
    started = time.perf_counter()
    written = 0
    with svc.engine.begin() as connection:
        for model, chunk in history.rows():
            if chunk:
                connection.execute(insert(model.__table__), chunk)
                written += len(chunk)
    load_s = time.perf_counter() - started
    # What autovacuum would do after such a load: statistics, and the visibility map that
    # lets PostgreSQL answer from the covering indexes alone.
    with svc.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if not svc.settings.is_sqlite else "ANALYZE"))
    admin = Actor(0, "bench", CENTRAL, frozenset({Role.ADMIN}))
    out: dict[str, Any] = {"rows": written, "load_s": load_s}
    for label, root in (("province", PROVINCE), ("country", CENTRAL)):
        times, figures = [], None
        for _ in range(6):
            with svc.sessions() as session:
                t0 = time.perf_counter()
                report = reports.electronic_ratio(
                    session, actor=admin, unit=root, period=QUARTER, scope=Scope.SUBTREE
                )
                times.append(time.perf_counter() - t0)
            c = report.unit.counts
            figures = {
                "sent_total": c.sent_total,
                "sent_electronic": c.sent_electronic,
                "received_total": c.received_total,
                "received_electronic": c.received_electronic,
                "secret_sent": c.secret_sent,
                "secret_received": c.secret_received,
            }
        expected = {k: history.tally.get(root, Counter())[k] for k in figures or {}}
        assert figures == expected, (label, figures, expected)
        out[label] = {
            "median_ms": 1000 * statistics.median(times[1:]),  # the first run warms caches
            "first_ms": 1000 * times[0],
            "children": len(report.children),
            "figures": figures,
        }
    svc.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("sqlite", "postgresql"):
            if args.only and name != args.only:
                continue
            schema = f"bench_{secrets.token_hex(4)}"
            url = f"sqlite:///{tmp}/{schema}.sqlite3" if name == "sqlite" else args.postgres
            if name == "postgresql":
                engine = create_engine(args.postgres)
                with engine.begin() as connection:
                    connection.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                results[name] = one_run(
                    url, schema if name == "postgresql" else "", Path(tmp) / name, args.documents
                )
            finally:
                if name == "postgresql":
                    with engine.begin() as connection:
                        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                    engine.dispose()
            print(name, results[name], file=sys.stderr)
    if len(results) == 2:
        for label in ("province", "country"):
            assert results["sqlite"][label]["figures"] == results["postgresql"][label]["figures"]
    print(f"{args.documents:,} documents; rows written per database: ", end="")
    print(", ".join(f"{n} {r['rows']:,} in {r['load_s']:.0f} s" for n, r in results.items()))
    print("| database | report (Q2 2026, subtree) | median ms | first ms | child units |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        for label in ("province", "country"):
            item = r[label]
            cells = [name, label, f"{item['median_ms']:.0f}", f"{item['first_ms']:.0f}"]
            print("| " + " | ".join([*cells, str(item["children"])]) + " |")


if __name__ == "__main__":
    main()

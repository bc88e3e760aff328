"""Searching one unit's inbox among 1,000,000 entries: with and without Vietnamese marks.

Usage: ``.venv/bin/python bench/search.py [--entries N] [--postgres URL] [--only db]``.
For SQLite and PostgreSQL: a fresh database with the national tree (34 provinces, 3,321
communes) and the demo units; N inbox entries over three years (fixed seed), 5 % of them for
one busy unit (the demo province's People's Committee), the rest spread over every unit;
subjects drawn from a list of real-sounding ones, all NĐ 30 types, numbers, deadlines. Each
row's ``search_text`` is written as the server writes it. Then searches of the busy unit's
inbox through the service the API calls (``exchange.list_inbox``: page 1 of 50 and the
total), each run 6 times (median of the last 5). Every total is checked against a count
made in Python while generating (``domain.search.found_in``, independent of SQL). Target
(issue 14): under 200 ms on PostgreSQL, which matches with a trigram (pg_trgm GIN) index on
``search_text``; SQLite reads the unit's rows through its own index.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fanout import _settings  # noqa: E402  (the same instance settings)
from national_tree import national_tree  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from docexchange.domain.accounts import Role  # noqa: E402
from docexchange.domain.documents import DOC_TYPES  # noqa: E402
from docexchange.domain.exchange import Status, deadline, is_overdue  # noqa: E402
from docexchange.domain.inputs import ListQuery  # noqa: E402
from docexchange.domain.search import found_in, search_text  # noqa: E402
from docexchange.domain.timeutil import VN_TZ  # noqa: E402
from docexchange.services import demo, directory, exchange  # noqa: E402
from docexchange.services.authz import Actor  # noqa: E402
from docexchange.services.container import build_services  # noqa: E402
from docexchange.services.schema import migrate  # noqa: E402
from docexchange.storage.models import InboxEntry, Unit  # noqa: E402

BUSY = demo.PROVINCE  # the demo province's People's Committee
START = datetime(2024, 1, 1, tzinfo=UTC)
TODAY = date(2026, 12, 4)
CHUNK = 20_000
SUBJECTS = (
    "Quyết định về việc phê duyệt kế hoạch phòng, chống thiên tai năm {y}",
    "Công văn về việc triển khai chuyển đổi số trong cơ quan nhà nước",
    "Kế hoạch tổ chức kỳ thi tốt nghiệp trung học phổ thông năm {y}",
    "Báo cáo tình hình kinh tế - xã hội tháng {m} năm {y}",
    "Thông báo kết luận của Chủ tịch Ủy ban nhân dân tỉnh tại buổi làm việc",
    "Chỉ thị về tăng cường công tác phòng chống lụt bão",
    "Tờ trình đề nghị phê duyệt dự án đầu tư xây dựng trường học",
    "Công văn đôn đốc nộp báo cáo thống kê đất đai",
    "Quyết định thành lập Ban chỉ đạo cải cách hành chính",
    "Giấy mời dự hội nghị tổng kết công tác năm {y}",
    "Nghị quyết về dự toán ngân sách địa phương năm {y}",
    "Hướng dẫn thực hiện chính sách hỗ trợ hộ nghèo",
)
STATUSES = (Status.ARRIVED, Status.ACCEPTED, Status.ASSIGNED, Status.PROCESSING, Status.DONE)
SEARCHES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("'quyet dinh' (no marks)", {"q": "quyet dinh"}),
    ("'Quyết định' (marks)", {"q": "Quyết định"}),
    ("'phong chong lut bao'", {"q": "phong chong lut bao"}),
    (
        "'chuyen doi so', 2026 only",
        {"q": "chuyen doi so", "from": "2026-01-01", "to": "2026-12-31"},
    ),
    ("a number '1234/'", {"q": "1234/"}),
    ("type QĐ + status 04", {"doc_type": "QĐ", "status": "04"}),
    ("overdue", {"overdue": "1"}),
    ("'quyet dinh', page 20", {"q": "quyet dinh", "page": "20"}),
    ("no filter", {}),
)


def entries(codes: list[str], count: int) -> Any:
    """Yield chunks of inbox rows; count what each search must find for the busy unit."""
    rng = random.Random(20261204)
    chunk: list[dict[str, Any]] = []
    expected = [0] * len(SEARCHES)
    kinds = sorted(DOC_TYPES)
    for n in range(count):
        recipient = BUSY if rng.random() < 0.05 else rng.choice(codes)
        arrived = START + timedelta(seconds=rng.randrange(3 * 365 * 86400))
        day = arrived.astimezone(VN_TZ).date()
        kind = rng.choice(kinds)
        subject = rng.choice(SUBJECTS).format(y=day.year, m=day.month)
        number = f"{rng.randrange(1, 3000)}/{kind}-UBND"
        status = rng.choice(STATUSES)
        due = day + timedelta(days=rng.randrange(5, 60)) if rng.random() < 0.4 else None
        ref = f"{recipient},{n}"
        if recipient == BUSY:
            for i, (_label, args) in enumerate(SEARCHES):
                expected[i] += _matches(args, kind, subject, number, ref, status, day, due)
        chunk.append(
            {
                "id": f"e{n:031d}",
                "consignment_id": f"c{n:035d}",
                "recipient_code": recipient,
                "sender_code": rng.choice(codes),
                "document_ref": ref,
                "subject": subject,
                "doc_type": kind,
                "number": number,
                "urgency": "normal",
                "urgency_rank": 3,
                "paper_copy": False,
                "pdf_sha256": f"{n:064x}",
                "verification": {"valid": True},
                "verified_valid": True,
                "status_code": status.value,
                "due_date": due,
                "received_at": arrived,
                "search_text": search_text(DOC_TYPES[kind], subject, number, ref),
            }
        )
        if len(chunk) >= CHUNK:
            yield chunk, expected
            chunk = []
    yield chunk, expected


def _matches(
    args: dict[str, Any],
    kind: str,
    subject: str,
    number: str,
    ref: str,
    status: Status,
    day: date,
    due: date | None,
) -> bool:
    """What the search ``args`` must find, worked out without SQL (issuers left out: the
    searches here name no unit)."""
    if not found_in(args.get("q"), DOC_TYPES[kind], subject, number, ref):
        return False
    if "from" in args and day < date.fromisoformat(args["from"]):
        return False
    if "to" in args and day > date.fromisoformat(args["to"]):
        return False
    if "doc_type" in args and kind != args["doc_type"]:
        return False
    if "status" in args and status.value != args["status"]:
        return False
    return not ("overdue" in args and not is_overdue(deadline(None, due), status, TODAY))


def one_run(url: str, schema: str, instance: Path, count: int) -> dict[str, Any]:
    settings = _settings(instance, url, schema)
    svc = build_services(settings)
    migrate(svc.engine)
    with svc.sessions() as session:
        demo.apply_demo(session, hasher=svc.hasher)
        rows = [directory.UnitInput.from_mapping(r) for r in national_tree()]
        directory.import_tree(session, rows, actor=None, source="bench")
        codes = sorted(session.scalars(select(Unit.code)))
    started = time.perf_counter()
    expected: list[int] = []
    with svc.engine.begin() as connection:
        for chunk, counted in entries(codes, count):
            expected = counted
            if chunk:
                connection.execute(insert(InboxEntry.__table__), chunk)
    load_s = time.perf_counter() - started
    with svc.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if not svc.settings.is_sqlite else "ANALYZE"))
    clerk = Actor(0, "bench", BUSY, frozenset({Role.CLERK}))
    out_plan = _plan(svc, clerk) if not svc.settings.is_sqlite else ""
    out: dict[str, Any] = {"rows": count, "load_s": load_s, "searches": {}}
    for (label, args), want in zip(SEARCHES, expected, strict=True):
        filters = ListQuery.model_validate(args)
        times = []
        for _ in range(6):
            with svc.sessions() as session:
                t0 = time.perf_counter()
                found = exchange.list_inbox(session, actor=clerk, filters=filters, today=TODAY)
                times.append(time.perf_counter() - t0)
        assert found.total == want, (label, found.total, want)
        out["searches"][label] = {
            "median_ms": 1000 * statistics.median(times[1:]),  # the first run warms caches
            "first_ms": 1000 * times[0],
            "total": found.total,
            "shown": len(found.items),
        }
    out["plan"] = out_plan
    svc.engine.dispose()
    return out


def _plan(svc: Any, clerk: Actor) -> str:
    """PostgreSQL's plan for the count of the first search (which index answers it)."""
    from sqlalchemy.dialects import postgresql

    from docexchange.services.listing import text_matches

    with svc.sessions() as session:
        query = select(InboxEntry.id).where(
            InboxEntry.recipient_code == clerk.unit_code,
            *text_matches(
                session, "quyet dinh", InboxEntry.search_text, issuer=InboxEntry.sender_code
            ),
        )
        sql = str(
            query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        )
        rows = session.execute(
            text(f"EXPLAIN (ANALYZE, BUFFERS OFF) SELECT count(*) FROM ({sql}) q")
        )
        return "\n".join(r[0] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    for db in ("sqlite", "postgresql"):
        if args.only and db != args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            instance = Path(tmp)
            url = f"sqlite:///{instance / 'bench.db'}" if db == "sqlite" else args.postgres
            schema = "" if db == "sqlite" else f"bench_search_{secrets.token_hex(4)}"
            admin = create_engine(args.postgres) if schema else None
            if admin is not None:
                with admin.begin() as connection:
                    connection.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                result = one_run(url, schema, instance, args.entries)
            finally:
                if admin is not None:
                    with admin.begin() as connection:
                        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                    admin.dispose()
        print(f"\n{db}: {result['rows']:,} entries loaded in {result['load_s']:.0f} s")
        print(f"| search (busy unit, {BUSY}) | total | median ms | first ms |")
        print("|---|---|---|---|")
        if result["plan"]:
            print(result["plan"])
        for label, figures in result["searches"].items():
            print(
                f"| {label} | {figures['total']:,} | {figures['median_ms']:.1f} |"
                f" {figures['first_ms']:.1f} |"
            )


if __name__ == "__main__":
    main()

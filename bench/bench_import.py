"""Time a whole-tree import of the 2-level national directory through the HTTP API.

Usage: ``.venv/bin/python bench/bench_import.py [--runs N] [--postgres URL]``.
Each run uses a fresh database (SQLite file, or a new PostgreSQL schema), creates one admin,
then POSTs the 3,355-row CSV to ``/api/v1/units/import`` and times the request; a second
POST of the same file (everything unchanged) is timed too. Prints a Markdown table.
Target (issue 2): under 10 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from national_tree import national_tree_csv

from docexchange.services import accounts, directory
from docexchange.services.container import build_services
from docexchange.services.schema import migrate
from docexchange.settings import Settings
from docexchange.web.app import create_app

PASSWORD = "bench-password-123"


def one_run(url: str, schema: str, instance: Path) -> tuple[float, float]:
    settings = Settings(
        instance_dir=instance,
        database_url=url,
        database_schema=schema,
        secret_key=secrets.token_urlsafe(32),
    )
    svc = build_services(settings)
    migrate(svc.engine)
    with svc.sessions() as session:
        directory.create_unit(
            session,
            directory.UnitInput.from_mapping(
                {
                    "code": "000.00.00.G22",
                    "name": "Văn phòng Chính phủ",
                    "abbreviation": "VPCP",
                    "level": "central",
                }
            ),
            actor=None,
        )
        accounts.create_user(
            session,
            accounts.NewUser.from_mapping(
                {
                    "username": "admin",
                    "password": PASSWORD,
                    "full_name": "Admin",
                    "unit_code": "000.00.00.G22",
                    "roles": ["admin"],
                }
            ),
            hasher=svc.hasher,
            actor=None,
        )
    client = create_app(services=svc).test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    data = national_tree_csv()
    timings = []
    for expected in (
        {"created": 3355, "updated": 0, "unchanged": 0},
        {"created": 0, "updated": 0, "unchanged": 3355},
    ):
        start = time.perf_counter()
        response = client.post("/api/v1/units/import", data=data, headers=headers)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == expected, response.get_json()
    svc.engine.dispose()
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = []
    for name in ("SQLite", "PostgreSQL"):
        first, second = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                if name == "SQLite":
                    url, schema = f"sqlite:///{tmp}/bench.sqlite3", ""
                else:
                    url, schema = args.postgres, f"dx_bench_{secrets.token_hex(4)}"
                    admin = create_engine(url)
                    with admin.begin() as conn:
                        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    a, b = one_run(url, schema, Path(tmp))
                finally:
                    if schema:
                        with admin.begin() as conn:
                            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                        admin.dispose()
            first.append(a)
            second.append(b)
        rows.append((name, statistics.median(first), max(first), statistics.median(second)))
    print("| database | first import, median (s) | worst (s) | re-import unchanged, median (s) |")
    print("|---|---|---|---|")
    for name, med, worst, again in rows:
        print(f"| {name} | {med:.2f} | {worst:.2f} | {again:.2f} |")


if __name__ == "__main__":
    main()

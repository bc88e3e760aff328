"""The 2-level national directory (34 provinces, 3,321 communes) imports whole and resolves."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docexchange.services import directory
from docexchange.storage.models import Unit

BENCH = Path(__file__).resolve().parents[2] / "bench" / "national_tree.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("national_tree", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_national_tree_imports_in_one_call(session: Session) -> None:
    data = _generator().national_tree_csv()
    result = directory.import_file(session, data, "csv", max_rows=100_000, actor=None)
    assert (result.created, result.updated) == (3355, 0)
    by_level = dict(session.execute(select(Unit.level, func.count()).group_by(Unit.level)).all())
    assert by_level == {"province": 34, "commune": 3321}
    communes = directory.resolve_recipients(session, ["communes:000.00.00.H01"])
    children = directory.resolve_recipients(session, ["children:000.00.00.H01"])
    assert [u.code for u in communes] == [u.code for u in children]
    assert len(communes) == 98  # 3,321 communes over 34 provinces: 23 get 98, 11 get 97
    total = sum(
        len(directory.resolve_recipients(session, [f"communes:000.00.00.H{n:02d}"]))
        for n in range(1, 35)
    )
    assert total == 3321
    exported = directory.export_tree(session)
    assert len(exported) == 3355

"""Generate a 2-level national directory: 34 provinces and 3,321 communes (DOMAIN.md §6).

The names are synthetic; the shape (counts, levels, code layout) is the 2025 reform's.
Codes: province ``000.00.00.Hnn``; commune ``000.BB.AA.Hnn`` numbered inside its province.
"""

from __future__ import annotations

import csv
import io
import sys

PROVINCES = 34
COMMUNES = 3321
FIELDS = ("code", "name", "abbreviation", "level", "parent_code", "valid_from")


def national_tree() -> list[dict[str, str]]:
    """Provinces first, then communes spread as evenly as the counts allow."""
    rows: list[dict[str, str]] = []
    province_codes = [f"000.00.00.H{n:02d}" for n in range(1, PROVINCES + 1)]
    for n, code in enumerate(province_codes, start=1):
        rows.append(
            {
                "code": code,
                "name": f"UBND tỉnh số {n}",
                "abbreviation": "UBND",
                "level": "province",
                "parent_code": "",
                "valid_from": "2025-07-01",
            }
        )
    for i in range(COMMUNES):
        province = province_codes[i % PROVINCES]
        index = i // PROVINCES + 1  # 1..98 inside the province
        level2, level3 = index % 100, 1 + index // 100
        rows.append(
            {
                "code": f"000.{level3:02d}.{level2:02d}.{province[-3:]}",
                "name": f"UBND xã số {index} ({province[-3:]})",
                "abbreviation": "UBND",
                "level": "commune",
                "parent_code": province,
                "valid_from": "2025-07-01",
            }
        )
    return rows


def national_tree_csv() -> bytes:
    """The tree as an import file."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(national_tree())
    return buffer.getvalue().encode()


if __name__ == "__main__":
    sys.stdout.buffer.write(national_tree_csv())

"""The paper register and the fully-electronic ratio report (DESIGN.md §3, §4.4).

Counts come from three places, each one grouped query per report (indexes on unit and
date): documents issued here (``documents``), documents that arrived (``inbox_entries``) and
documents registered on paper (``paper_records``). They are summed up the unit tree in
Python, so a subtree report of a province costs the same three queries as a commune's.

One module per concern: :mod:`.paper` (the manual register), :mod:`.ratio` (the fully-electronic
ratio and its trend), :mod:`.exports` (XLSX, CSV, PDF of it), :mod:`.drill` (the documents
behind a figure) and :mod:`.coverage` (signature coverage and expiring certificates).
"""

from __future__ import annotations

from docexchange.services.reports.coverage import (
    EXPIRY_WARNING_DAYS,
    Coverage,
    CoverageFailure,
    CoverageRow,
    ExpiringCertificate,
    signature_coverage,
)
from docexchange.services.reports.drill import DRILL_KINDS, DrillRow, report_documents
from docexchange.services.reports.exports import (
    EXPORT_HEADINGS,
    PAPER_FIELDS,
    XLSX_MIMETYPE,
    Export,
    export_rows,
    render_ratio,
)
from docexchange.services.reports.paper import DIRECTIONS, list_paper, register_paper
from docexchange.services.reports.ratio import (
    RatioReport,
    UnitFigures,
    electronic_ratio,
    monthly,
    parse_targets,
)

__all__ = [
    "DIRECTIONS",
    "DRILL_KINDS",
    "EXPIRY_WARNING_DAYS",
    "EXPORT_HEADINGS",
    "PAPER_FIELDS",
    "XLSX_MIMETYPE",
    "Coverage",
    "CoverageFailure",
    "CoverageRow",
    "DrillRow",
    "ExpiringCertificate",
    "Export",
    "RatioReport",
    "UnitFigures",
    "electronic_ratio",
    "export_rows",
    "list_paper",
    "monthly",
    "parse_targets",
    "register_paper",
    "render_ratio",
    "report_documents",
    "signature_coverage",
]

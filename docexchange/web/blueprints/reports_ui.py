"""Pages for the reports: the paper register (clerks), the ratio dashboard with its drill-down
and exports, and the signature-coverage audit."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from docexchange.domain.accounts import Role
from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import PaperBody, PaperQuery, RegisterQuery
from docexchange.domain.reports import Period, Scope, parse_period, parse_scope
from docexchange.domain.search import Paged
from docexchange.domain.timeutil import today_vn, utcnow
from docexchange.errors import DocExchangeError
from docexchange.services import registers, reports
from docexchange.services.register_exports import render_register
from docexchange.web.context import current_actor, db, download, ratio_targets
from docexchange.web.errors import flash_refusal
from docexchange.web.forms import PaperForm
from docexchange.web.schemas import parse_query

bp = Blueprint("reports_ui", __name__)


@bp.route("/paper", methods=["GET", "POST"])
def paper() -> str | WerkzeugResponse:
    """Clerks: register documents sent or received on paper; the unit's register."""
    form = PaperForm()
    if form.validate_on_submit():
        try:
            entry = {name: form[name].data for name in reports.PAPER_FIELDS}
            reports.register_paper(
                db(),
                parse_input(PaperBody, {**entry, "date": str(entry["date"] or "")}),
                actor=current_actor(),
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(form.number.data, "registered")
            return redirect(url_for("reports_ui.paper"))
    found = reports.list_paper(
        db(), actor=current_actor(), filters=parse_query(PaperQuery), today=today_vn()
    )
    return render_template(
        "reports/paper.html",
        form=form,
        found=found,
        can_register=current_actor().has(Role.CLERK),
    )


@bp.get("/registers/<any(incoming, outgoing):kind>")
def register(kind: str) -> str | Response:
    """A register of a year, with its XLSX and PDF (``?year=&unit=&format=``)."""
    query = parse_input(RegisterQuery, request.args.to_dict())
    year = query.year or today_vn().year
    found = registers.register_of(
        db(),
        registers.RegisterKind(kind),
        actor=current_actor(),
        unit=query.unit,
        year=year,
        first=query.first,
        last=query.last,
        query=query.q,
    )
    if query.format != "json":
        return download(render_register(found, query.format))
    return render_template(
        f"registers/{kind}.html",
        register=found,
        found=Paged.of(found.rows, query.paging),
        kind=kind,
        years=range(year - 4, today_vn().year + 1),
    )


def _query() -> tuple[str | None, Period, Scope, bool]:
    """unit, period (``from``+``to``, or ``period`` containing ``from``; default: this
    month), scope (leaders and auditors: subtree by default) and rollup from the query."""
    args = request.args
    wide = current_actor().has(Role.SIGNER, Role.AUDITOR, Role.ADMIN)
    scope = parse_scope(args.get("scope"), default=Scope.SUBTREE if wide else Scope.SELF)
    if args.get("to"):
        period = parse_period(args.get("from"), args.get("to"), today=today_vn())
    else:
        kind = args.get("period") or "month"
        period = parse_period(args.get("from"), None, kind=kind, today=today_vn())
    return args.get("unit") or None, period, scope, args.get("rollup") == "1"


@bp.get("/reports")
def dashboard() -> str:
    """The fully-electronic ratio of a unit and period: figures, a year's trend, the child
    units ranked against their target, every number a link to the documents behind it."""
    unit, period, scope, rollup = _query()
    actor = current_actor()
    report = reports.electronic_ratio(
        db(),
        actor=actor,
        unit=unit,
        period=period,
        scope=scope,
        rollup=rollup,
        targets=ratio_targets(),
    )
    trend = reports.monthly(
        db(), actor=actor, unit=report.unit.code, scope=scope, last=period.last, rollup=rollup
    )
    return render_template(
        "reports/dashboard.html", report=report, trend=trend, scope=scope, rollup=rollup
    )


@bp.get("/reports/documents")
def documents() -> str:
    """The documents behind one number of the dashboard."""
    unit, period, scope, rollup = _query()
    kind = request.args.get("kind", "sent")
    rows = reports.report_documents(
        db(),
        actor=current_actor(),
        unit=unit,
        period=period,
        scope=scope,
        kind=kind,
        rollup=rollup,
    )
    return render_template(
        "reports/documents.html", rows=rows, kind=kind, period=period, unit=unit, scope=scope
    )


@bp.get("/reports/export")
def export() -> Response:
    """The dashboard's report as XLSX or CSV (same figures as the API)."""
    unit, period, scope, rollup = _query()
    fmt = request.args.get("format", "xlsx")
    report = reports.electronic_ratio(
        db(),
        actor=current_actor(),
        unit=unit,
        period=period,
        scope=scope,
        rollup=rollup,
        targets=ratio_targets(),
    )
    export = reports.render_ratio(report, fmt)
    return download(export)


@bp.get("/reports/signatures")
def signatures() -> str:
    """Auditors and leaders: which documents carry valid signatures, who signed, what failed
    and why, and which certificates expire soon."""
    unit, period, scope, _ = _query()
    coverage = reports.signature_coverage(
        db(),
        actor=current_actor(),
        unit=unit,
        period=period,
        scope=scope,
        now=utcnow(),
    )
    return render_template(
        "reports/signatures.html",
        coverage=coverage,
        unit=unit or current_actor().unit_code,
        period=period,
        scope=scope,
    )

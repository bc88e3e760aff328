"""The paper register and the reports."""

from __future__ import annotations

import logging

from flask import Response, jsonify, request

from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import PaperBody, PaperQuery, RegisterQuery, ReportQuery
from docexchange.domain.reports import Period
from docexchange.domain.timeutil import today_vn, utcnow
from docexchange.services import (
    registers,
    reports,
)
from docexchange.services.register_exports import render_register
from docexchange.web.blueprints.api_v1.blueprint import _page, bp
from docexchange.web.context import (
    current_actor,
    db,
    download,
    ratio_targets,
)
from docexchange.web.schemas import (
    coverage_to_dict,
    paper_record_to_dict,
    parse_body,
    parse_query,
    ratio_report_to_dict,
    register_to_dict,
)

logger = logging.getLogger(__name__)


@bp.post("/paper-records")
def register_paper() -> tuple[Response, int]:
    """Clerk: a document the unit sent or received on paper (the ratio counts it)."""
    record = reports.register_paper(db(), parse_body(PaperBody), actor=current_actor())
    return jsonify(paper_record_to_dict(record)), 201


@bp.get("/paper-records")
def list_paper() -> Response:
    """The caller's unit's paper register, newest first: one page, searched (``?q=``), by
    date (``?from=&to=`` or ``?period=``)."""
    found = reports.list_paper(
        db(), actor=current_actor(), filters=parse_query(PaperQuery), today=today_vn()
    )
    return _page(found, paper_record_to_dict)


def _query() -> ReportQuery:
    return parse_input(ReportQuery, request.args.to_dict())


def _period() -> Period:
    return _query().span(today=today_vn())


@bp.get("/reports/electronic-ratio")
def electronic_ratio() -> Response:
    """The fully-electronic ratio, ``?unit=&from=&to=`` (or ``&period=week|month|quarter|year``)
    ``&scope=self|subtree&rollup=1&format=json|csv|xlsx``."""
    query = _query()
    report = reports.electronic_ratio(
        db(),
        actor=current_actor(),
        unit=query.unit,
        period=query.span(today=today_vn()),
        scope=query.scope,
        rollup=query.rollup,
        targets=ratio_targets(),
    )
    if query.format == "json":
        return jsonify(ratio_report_to_dict(report))
    export = reports.render_ratio(report, query.format)
    return download(export)


@bp.get("/reports/signature-coverage")
def signature_coverage() -> Response:
    """Per unit and signer, documents issued and received with valid personal and
    organisation signatures; the failing ones with reasons; certificates expiring soon
    (``?unit=&from=&to=`` or ``&period=``, ``&scope=self|subtree``)."""
    query = _query()
    coverage = reports.signature_coverage(
        db(),
        actor=current_actor(),
        unit=query.unit,
        period=query.span(today=today_vn()),
        scope=query.scope,
        now=utcnow(),
    )
    return jsonify(coverage_to_dict(coverage))


@bp.get("/registers/incoming", defaults={"kind": "incoming"})
@bp.get("/registers/outgoing", defaults={"kind": "outgoing"})
def register(kind: str) -> Response:
    """The incoming or outgoing register (``?unit=&year=&from=&to=&format=json|xlsx|pdf``):
    incoming in the order of its numbers (electronic arrivals accepted, paper received);
    outgoing by date and number (documents issued, paper sent)."""
    query = parse_input(RegisterQuery, request.args.to_dict())
    found = registers.register_of(
        db(),
        registers.RegisterKind(kind),
        actor=current_actor(),
        unit=query.unit,
        year=query.year or today_vn().year,
        first=query.first,
        last=query.last,
        query=query.q,
    )
    if query.format == "json":
        return jsonify(register_to_dict(found, query.paging))
    return download(render_register(found, query.format))

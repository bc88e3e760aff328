"""The demo CA's public services: CRL, OCSP responder, RFC 3161 time-stamping, CA certificates.

Public (no login, no CSRF): relying parties, PDF readers and signing clients call them.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, abort, request

from docexchange.services.keys import ca_certificate_pem, crl_der, ocsp_answer, tsa_answer
from docexchange.web.context import services

bp = Blueprint("pki_http", __name__, url_prefix="/pki")

_MAX_REQUEST = 64 * 1024


@bp.get("/crl/intermediate.crl")
def crl() -> Response:
    """The intermediate's CRL (DER)."""
    return Response(crl_der(services().keys), mimetype="application/pkix-crl")


@bp.get("/<any(root, intermediate):which>.crt")
def ca_certificate(which: str) -> Response:
    """A CA certificate (PEM)."""
    return Response(ca_certificate_pem(services().keys, which), mimetype="application/x-pem-file")


@bp.post("/ocsp")
def ocsp_post() -> Response:
    """OCSP over POST (RFC 6960 appendix A)."""
    return _ocsp(request.get_data(cache=False)[:_MAX_REQUEST])


@bp.get("/ocsp/<path:encoded>")
def ocsp_get(encoded: str) -> Response:
    """OCSP over GET: the DER request, base64 and URL-encoded, in the path."""
    try:
        der = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        abort(400)
    return _ocsp(der)


def _ocsp(der: bytes) -> Response:
    return Response(ocsp_answer(services().keys, der), mimetype="application/ocsp-response")


@bp.post("/tsa")
def tsa() -> Response:
    """RFC 3161 time-stamping over HTTP."""
    answer = tsa_answer(services().keys, request.get_data(cache=False)[:_MAX_REQUEST])
    return Response(answer, mimetype="application/timestamp-reply")

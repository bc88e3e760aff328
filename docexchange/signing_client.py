"""``docexchange-sign``: sign a document on the server with a token on this computer.

Deferred signing (DESIGN.md §4.3): the server prepares the PDF and sends only the digest to
be signed; this client signs it on the local token through the token vendor's PKCS#11
module and sends the signature back. The PDF never leaves the server; the key never leaves
the token. The PIN is asked for (hidden) or read from ``DOCEXCHANGE_SIGN_PIN``; it goes to
the token only.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pki import tokens
from pki.config import TokenRef
from pki.errors import PinIncorrect, PkiError

__all__ = ["main"]


class ServerError(Exception):
    """The server answered with a coded error."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        error = body.get("error", {})
        super().__init__(
            f"{status} {error.get('code')}: {error.get('message_vi')} / {error.get('message')}"
        )


def _call(url: str, payload: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - URL given by the user
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read())
        except ValueError:
            body = {
                "error": {"code": f"http_{exc.code}", "message": str(exc), "message_vi": str(exc)}
            }
        raise ServerError(exc.code, body) from None


def _pem(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


@click.command()
@click.option("--server", required=True, help="Base address, e.g. http://127.0.0.1:5000")
@click.option("--document", "document_id", required=True, help="Document id to sign.")
@click.option("--module", "module_path", required=True, help="PKCS#11 module of the token vendor.")
@click.option("--token", "token_label", required=True, help="Label of the token.")
@click.option("--key-label", default="signing", show_default=True)
@click.option("--username", envvar="DOCEXCHANGE_SIGN_USERNAME", prompt=True)
@click.option(
    "--password", envvar="DOCEXCHANGE_SIGN_PASSWORD", prompt=True, hide_input=True, show_envvar=True
)
def main(
    *,
    server: str,
    document_id: str,
    module_path: str,
    token_label: str,
    key_label: str,
    username: str,
    password: str,
) -> None:
    """Sign DOCUMENT on SERVER with the key on a local PKCS#11 token."""
    pin = os.environ.get("DOCEXCHANGE_SIGN_PIN") or click.prompt("Token PIN", hide_input=True)
    base = server.rstrip("/") + "/api/v1"
    ref = TokenRef(module_path=module_path, token_label=token_label, key_label=key_label)
    try:
        login = _call(f"{base}/auth/login", {"username": username, "password": password})
        token = str(login["token"])
        certificate = tokens.read_certificate(ref)
        if certificate is None:
            raise click.ClickException(f"no certificate labelled {key_label!r} on the token")
        chain = [_pem(certificate), *(_pem(der) for der in tokens.read_chain(ref))]
        opened = _call(
            f"{base}/documents/{document_id}/signing-sessions", {"certificate_chain": chain}, token
        )
        digest = base64.b64decode(opened["to_sign"])
        signature = tokens.sign_digest(ref, pin, digest)
        done = _call(
            f"{base}/signing-sessions/{opened['session_id']}",
            {"signature": base64.b64encode(signature).decode()},
            token,
        )
    except PinIncorrect:
        click.echo("error: the token refused the PIN / thiết bị ký từ chối mã PIN", err=True)
        sys.exit(1)
    except (ServerError, PkiError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"signed: document {done['id']} is now {done['state']}")


if __name__ == "__main__":  # pragma: no cover
    main()

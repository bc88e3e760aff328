"""Peer servers (other provinces, the national axis): who serves which units, and trust.

Configured in a YAML file (``DOCEXCHANGE_PEERS_CONFIG``), never in the database::

    peers:
      - name: tinh-bac-giang
        url: https://vanban.bacgiang.gov.vn
        serves: ["H17"]                 # identifier codes ending so are delivered there
        token_env: PEER_TOKEN_BAC_GIANG # environment variable holding our token for them
        inbound_token_sha256: 3f1c…     # SHA-256 of the token they present to us

Tokens never sit in the file: ours comes from the environment, theirs only as a hash.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from docexchange.errors import ConfigurationError, Unauthorized

__all__ = ["Peer", "PeerDirectory", "load_peers"]


@dataclass(frozen=True)
class Peer:
    """Another docexchange (or axis) server."""

    name: str
    url: str
    serves: tuple[str, ...]
    inbound_token_sha256: str
    outbound_token: str = field(default="", repr=False)

    def serves_code(self, code: str) -> bool:
        """Whether units with this identifier code are delivered to this peer."""
        return any(code == s or code.endswith("." + s.lstrip(".")) for s in self.serves)


@dataclass(frozen=True)
class PeerDirectory:
    """The configured peers (none by default: every unit is served here)."""

    peers: tuple[Peer, ...] = ()

    def for_code(self, code: str) -> Peer | None:
        """The peer that serves ``code``, or ``None`` when it is served here."""
        return next((p for p in self.peers if p.serves_code(code)), None)

    def by_name(self, name: str) -> Peer | None:
        """A peer by its configured name."""
        return next((p for p in self.peers if p.name == name), None)

    def authenticate(self, token: str | None) -> Peer:
        """The peer presenting ``token`` (compared by SHA-256, in constant time).

        :raises Unauthorized: ``peer_unknown``.
        """
        if token:
            digest = hashlib.sha256(token.encode()).hexdigest()
            for peer in self.peers:
                if hmac.compare_digest(digest, peer.inbound_token_sha256):
                    return peer
        raise Unauthorized("peer_unknown")


def load_peers(path: str | Path | None, environ: dict[str, str] | None = None) -> PeerDirectory:
    """Read the peers file (an empty directory when no file is configured).

    :raises ConfigurationError: ``config_invalid_value`` naming what is wrong.
    """
    if not path:
        return PeerDirectory()
    env = dict(os.environ) if environ is None else environ
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        entries: Sequence[dict[str, object]] = raw.get("peers") or []
        peers = []
        for entry in entries:
            token_env = str(entry.get("token_env") or "")
            peers.append(
                Peer(
                    name=str(entry["name"]),
                    url=str(entry["url"]).rstrip("/"),
                    serves=tuple(str(s) for s in entry["serves"]),  # type: ignore[attr-defined]
                    inbound_token_sha256=str(entry["inbound_token_sha256"]).lower(),
                    outbound_token=env.get(token_env, "") if token_env else "",
                )
            )
    except (OSError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
        raise ConfigurationError(
            "config_invalid_value", name="DOCEXCHANGE_PEERS_CONFIG", value=f"{path}: {exc}"[:200]
        ) from None
    return PeerDirectory(tuple(peers))

"""Who the caller is, as gatehouse verified it: what both modes hand a route."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Empty (no subject) for a public rule, which needs no token."""

    subject: str = ""
    issuer_id: str = ""
    tenant_id: str = ""
    object_id: str = ""
    client_id: str = ""
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    app_only: bool = False

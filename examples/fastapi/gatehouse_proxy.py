"""The app behind an identity-aware proxy (nginx ``auth_request`` or Caddy ``forward_auth`` asking gatehouse's
``/v1/authz``): gatehouse already decided, and the proxy passes who the caller is in ``X-Gatehouse-*`` headers.

Trust them only when the app is reachable through that proxy alone (bind it to loopback or a private network): the
proxy sets every identity header on an allowed request and strips any a client sent. No gRPC, no stubs needed.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import unquote

from fastapi import HTTPException, Request

from principal import Principal


def principal_from_headers(headers: Mapping[str, str]) -> Principal | None:
    """The identity the proxy set, or None when the request carries none. gatehouse percent-encodes anything
    outside printable ASCII in a value; roles and scopes are comma-separated."""
    if "x-gatehouse-subject" not in headers:
        return None

    def text(name: str) -> str:
        return unquote(headers.get(name, ""))

    def items(name: str) -> tuple[str, ...]:
        return tuple(unquote(part) for part in headers.get(name, "").split(",") if part)

    return Principal(
        subject=text("x-gatehouse-subject"),
        issuer_id=text("x-gatehouse-issuer"),
        tenant_id=text("x-gatehouse-tenant"),
        object_id=text("x-gatehouse-object-id"),
        client_id=text("x-gatehouse-client"),
        roles=items("x-gatehouse-roles"),
        scopes=items("x-gatehouse-scopes"),
    )


def require_proxy_identity(request: Request) -> Principal:
    """A dependency that refuses a request without an identity: it did not come through the gatehouse proxy (or the
    route matched a public rule, which a route that needs a caller must not be)."""
    principal = principal_from_headers(request.headers)
    if principal is None or not principal.subject:
        raise HTTPException(
            status_code=401,
            detail="no identity from the gatehouse proxy",
            headers={"WWW-Authenticate": 'Bearer realm="gatehouse"'},
        )
    return principal

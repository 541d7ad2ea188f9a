"""Ask gatehouse before a FastAPI route runs: a dependency per action, the same answers as every gatehouse door.

    gatehouse = GatehouseClient("127.0.0.1:50051")
    app.state.gatehouse = gatehouse

    @app.get("/orders/{order_id}")
    def get_order(order_id: str, caller: Principal = Depends(require("/orders.v1.Orders/GetOrder"))) -> dict: ...

A refused token is a 401 (``WWW-Authenticate: Bearer error="invalid_token"``), a refusal by the rules a 403
(``insufficient_scope``), both with ``X-Gatehouse-Reason``. When gatehouse cannot decide (unreachable, past the
deadline, any error) the answer is a 503: it fails closed, never open.

Needs the messages and stub generated from proto/gatehouse/v1 (generate-stubs.sh) on the import path.
"""

from __future__ import annotations

from typing import Callable, Literal

import grpc
from fastapi import HTTPException, Request

from gatehouse.v1 import gatehouse_pb2, gatehouse_pb2_grpc
from principal import Principal

ReasonKind = Literal["token", "policy", "unavailable"]

# As src/contract/reason-kind.ts: the caller must fix its token (401), gatehouse cannot fetch signing keys (503), or
# the rules refused (403). A reason this list does not know (a newer server) is a refusal by the rules: denied either way.
TOKEN_REASONS = frozenset(
    {
        "TOKEN_MISSING",
        "TOKEN_MALFORMED",
        "TOKEN_TOO_LARGE",
        "TOKEN_EXPIRED",
        "TOKEN_NOT_YET_VALID",
        "SIGNATURE_INVALID",
        "KEY_NOT_FOUND",
        "ALGORITHM_NOT_ALLOWED",
        "ISSUER_NOT_TRUSTED",
        "AUDIENCE_MISMATCH",
        "TENANT_NOT_ALLOWED",
        "TOKEN_NOT_FOR_THIS_API",
        "CLAIMS_INVALID",
        "SESSION_TOO_OLD",
        "TOKEN_REVOKED",
    }
)
UNAVAILABLE_REASONS = frozenset({"KEYS_UNAVAILABLE"})

# The reason of a 503 this side decided: gatehouse gave no answer at all.
GATEHOUSE_UNAVAILABLE = "GATEHOUSE_UNAVAILABLE"


def reason_kind(reason: str) -> ReasonKind:
    if reason in TOKEN_REASONS:
        return "token"
    if reason in UNAVAILABLE_REASONS:
        return "unavailable"
    return "policy"


def principal_from_wire(wire: gatehouse_pb2.Principal) -> Principal:
    return Principal(
        subject=wire.subject,
        issuer_id=wire.issuer_id,
        tenant_id=wire.tenant_id,
        object_id=wire.object_id,
        client_id=wire.client_id,
        roles=tuple(wire.roles),
        scopes=tuple(wire.scopes),
        app_only=wire.app_only,
    )


class GatehouseClient:
    """One channel to gatehouse, shared by every request; each call carries a deadline."""

    def __init__(self, address: str, deadline_seconds: float = 1.0) -> None:
        if not deadline_seconds > 0:
            raise ValueError(f"deadline_seconds must be > 0, got {deadline_seconds!r}")
        self._channel = grpc.insecure_channel(address)
        self._stub = gatehouse_pb2_grpc.AuthServiceStub(self._channel)
        self._deadline = deadline_seconds

    def authorize(self, authorization: str, action: str, request_id: str | None = None) -> gatehouse_pb2.AuthorizeResponse:
        """Raises grpc.RpcError when gatehouse gave no answer (down, past the deadline, refused the call)."""
        metadata = (("x-request-id", request_id),) if request_id else ()
        request = gatehouse_pb2.AuthorizeRequest(token=authorization, action=action)
        return self._stub.Authorize(request, timeout=self._deadline, metadata=metadata)

    def close(self) -> None:
        self._channel.close()


def require(action: str) -> Callable[[Request], Principal]:
    """A dependency that lets the request through only when gatehouse allows `action` for its bearer token.

    Uses the GatehouseClient at ``request.app.state.gatehouse``. The ``Authorization`` header goes to gatehouse as
    it came (gatehouse parses the bearer scheme, and answers TOKEN_MISSING when there is none); ``x-request-id``
    travels with the call so both logs name the same request.
    """

    def dependency(request: Request) -> Principal:
        gatehouse: GatehouseClient = request.app.state.gatehouse
        try:
            response = gatehouse.authorize(
                request.headers.get("authorization", ""), action, request.headers.get("x-request-id")
            )
        except grpc.RpcError as err:
            code = err.code() if isinstance(err, grpc.Call) else None
            raise unavailable(f"gatehouse did not answer ({code.name if code else 'error'})") from err
        if response.allowed:
            return principal_from_wire(response.principal)
        raise refusal(reason_name(response.denial.reason), response.denial.message, response.denial.challenge)

    return dependency


def reason_name(number: int) -> str:
    try:
        return gatehouse_pb2.Reason.Name(number)
    except ValueError:  # a reason added after these stubs were generated
        return f"REASON_{number}"


def refusal(reason: str, message: str, claims_challenge: str = "") -> HTTPException:
    """The HTTP answer to a denial, as gatehouse's own HTTP doors give it (src/server/http-answer.ts).

    A denial carrying a claims challenge (AUTH_CONTEXT_REQUIRED for a cp1 client) is a 401 sending it as it is.
    """
    kind = "token" if claims_challenge else reason_kind(reason)
    if kind == "unavailable":
        return unavailable(message, reason)
    headers = {"X-Gatehouse-Reason": reason, "WWW-Authenticate": claims_challenge or challenge(reason, message)}
    return HTTPException(status_code=401 if kind == "token" else 403, detail=f"{reason}: {message}", headers=headers)


def unavailable(message: str, reason: str = GATEHOUSE_UNAVAILABLE) -> HTTPException:
    # No challenge: a new token would not help.
    return HTTPException(status_code=503, detail=f"{reason}: {message}", headers={"X-Gatehouse-Reason": reason})


def challenge(reason: str, message: str) -> str:
    """RFC 6750 §3: no error code when no token came, else invalid_token or insufficient_scope with a description."""
    if reason == "TOKEN_MISSING":
        return 'Bearer realm="gatehouse"'
    if reason == "SESSION_TOO_OLD":
        error = "insufficient_user_authentication"  # RFC 9470: sign in again
    else:
        error = "invalid_token" if reason_kind(reason) == "token" else "insufficient_scope"
    return f'Bearer realm="gatehouse", error="{error}", error_description="{quoted(f"{reason}: {message}")}"'


def quoted(text: str) -> str:
    """A quoted-string's content: printable ASCII, `"` and `\\` escaped, anything else dropped."""
    printable = "".join(c for c in text if " " <= c <= "~")
    return printable.replace("\\", "\\\\").replace('"', '\\"')

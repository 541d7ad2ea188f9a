"""The orders service in FastAPI, protected by gatehouse in one of two ways (env GATEHOUSE_MODE):

- ``direct`` (the default): each route depends on ``require(action)``, which calls gatehouse's Authorize over gRPC
  (GATEHOUSE_ADDRESS, default 127.0.0.1:50051; GATEHOUSE_DEADLINE_MS, default 1000).
- ``proxy``: nginx or Caddy asks gatehouse first (forward auth) and passes the caller in ``X-Gatehouse-*`` headers;
  the app trusts them and refuses a request without them.

    uvicorn app:create_app --factory --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import os
from typing import Callable, Mapping

from fastapi import Depends, FastAPI, Request

from principal import Principal

Dependency = Callable[[Request], Principal]


def create_app(env: Mapping[str, str] = os.environ) -> FastAPI:
    """Reads its settings from `env` when called, never at import."""
    mode = env.get("GATEHOUSE_MODE", "direct")
    app = FastAPI(title="orders")
    if mode == "direct":
        read, delete = direct_dependencies(app, env)
    elif mode == "proxy":
        from gatehouse_proxy import require_proxy_identity

        read = delete = require_proxy_identity
    else:
        raise ValueError(f'GATEHOUSE_MODE must be "direct" or "proxy", got {mode!r}')

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/orders/{order_id}")
    def get_order(order_id: str, caller: Principal = Depends(read)) -> dict[str, object]:
        return {"id": order_id, "subject": caller.subject, "roles": list(caller.roles)}

    @app.delete("/orders/{order_id}")
    def delete_order(order_id: str, caller: Principal = Depends(delete)) -> dict[str, object]:
        return {"id": order_id, "deleted": True, "by": caller.subject}

    return app


def direct_dependencies(app: FastAPI, env: Mapping[str, str]) -> tuple[Dependency, Dependency]:
    # Imported here so that proxy mode runs without the generated gRPC stubs.
    from gatehouse_auth import GatehouseClient, require

    address = env.get("GATEHOUSE_ADDRESS", "127.0.0.1:50051")
    deadline_ms = float(env.get("GATEHOUSE_DEADLINE_MS", "1000"))
    app.state.gatehouse = GatehouseClient(address, deadline_seconds=deadline_ms / 1000)
    app.add_event_handler("shutdown", app.state.gatehouse.close)
    return require("/orders.v1.Orders/GetOrder"), require("/orders.v1.Orders/DeleteOrder")

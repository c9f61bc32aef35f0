"""The prediction routes answered straight from the ASGI entry, past FastAPI's router.

FastAPI finds a route by walking its included routers and solving each endpoint's dependencies; on a
single-row predict that was more than half of the server's own share of the request (docs/design.md). A
route marked ``direct`` takes only the request and query parameters and returns a ``Response`` itself, so
nothing of that machinery is needed: it is called with the same endpoint function, the same query validation
and the same exception handlers. Anything the table cannot answer exactly as the
router would (another method, an unknown or invalid query parameter) goes through the router unchanged, so
its errors keep their one shape.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Match


def direct(endpoint: Callable) -> Callable:
    """Mark ``endpoint(request, **query)`` (returning a Response) for the direct table."""
    endpoint.skuflow_direct = True  # type: ignore[attr-defined]
    return endpoint


@dataclass(frozen=True)
class _Query:
    name: str
    adapter: TypeAdapter
    default: Any


@dataclass(frozen=True)
class DirectRoute:
    route: Any  # the APIRoute: metrics label requests by its path template
    endpoint: Callable
    queries: tuple[_Query, ...]

    def arguments(self, query_string: bytes) -> dict[str, Any] | None:
        """The endpoint's query arguments, or None when the router must answer (unknown, repeated or invalid)."""
        values = {q.name: q.default for q in self.queries}
        if not query_string:
            return values
        by_name = {q.name: q for q in self.queries}
        seen: set[str] = set()
        for key, raw in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            q = by_name.get(key)
            if q is None or key in seen:
                return None
            seen.add(key)
            try:
                values[key] = q.adapter.validate_strings(raw)
            except ValidationError:
                return None
        return values


def _direct_route(route: Any) -> DirectRoute | None:
    dependant = getattr(route, "dependant", None)
    if dependant is None or not getattr(route.endpoint, "skuflow_direct", False) or "{" in route.path:
        return None
    if dependant.dependencies or dependant.path_params or dependant.header_params or dependant.cookie_params \
            or dependant.body_params or not dependant.request_param_name:
        raise TypeError(f"{route.path}: a direct route takes only the request and query parameters")
    queries = []
    for field in dependant.query_params:
        info = field.field_info
        if info.is_required():
            raise TypeError(f"{route.path}: direct routes need a default for query parameter {field.name}")
        adapter: TypeAdapter = TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]
        queries.append(_Query(field.name, adapter, info.default))
    return DirectRoute(route, route.endpoint, tuple(queries))


def _leaf_routes(routes: list[Any]) -> list[Any]:
    out = []
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI keeps an included router's routes on it
            out.extend(_leaf_routes(route.original_router.routes))
        else:
            out.append(route)
    return out


def direct_table(app: FastAPI) -> dict[tuple[str, str], DirectRoute]:
    """(method, path) -> route, for each marked route the router itself would pick first for that request."""
    table: dict[tuple[str, str], DirectRoute] = {}
    leaves = _leaf_routes(app.routes)
    for route in leaves:
        found = _direct_route(route)
        if found is None:
            continue
        for method in found.route.methods:
            scope = {"type": "http", "path": found.route.path, "method": method, "root_path": ""}
            first = next((r for r in leaves if r.matches(scope)[0] == Match.FULL), None)
            if first is route:
                table[(method, found.route.path)] = found
    return table


class DirectRoutes:
    """ASGI middleware in front of FastAPI's exception middleware and router: marked routes are called here."""

    def __init__(self, app, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.table: dict[tuple[str, str], DirectRoute] | None = None  # built at the first request: routes are final

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.table is None:
            self.table = direct_table(self.fastapi_app)
        hit = self.table.get((scope["method"], scope["path"]))
        kwargs = hit.arguments(scope.get("query_string", b"")) if hit is not None else None
        if hit is None or kwargs is None:
            await self.app(scope, receive, send)
            return
        scope["route"], scope["endpoint"], scope["path_params"] = hit.route, hit.endpoint, {}
        request = Request(scope, receive, send)
        try:
            response = await hit.endpoint(request, **kwargs)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:  # a 500: the outermost middleware answers it, as for any route
                raise
            response = await handler(request, exc) if inspect.iscoroutinefunction(handler) \
                else await run_in_threadpool(handler, request, exc)
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Callable | None:
        """The handler FastAPI's exception middleware would call (``Exception`` itself is the 500 path's)."""
        handlers = self.fastapi_app.exception_handlers
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]
        return None

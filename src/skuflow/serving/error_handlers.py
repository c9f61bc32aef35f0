"""One handler per error family, all answering ``{"error_code", "message"}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from skuflow.errors import InvalidInputError, SkuflowError


def error_response(status: int, error_code: str, message: str, **extra) -> Response:
    body = {"error_code": error_code, "message": message, **extra}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def describe_validation(errors: Sequence[Any], drop: tuple[str, ...] = ("body",)) -> tuple[str, list[str]]:
    """'title: Field required; price: Input should be a valid number' and the field names."""
    parts, fields = [], []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if str(p) not in drop]
        name = ".".join(loc) or "body"
        fields.append(name)
        parts.append(f"{name}: {err.get('msg', 'invalid')}")
    return "; ".join(parts[:10]), fields


def invalid_input_from(exc: ValidationError, prefix: str = "") -> InvalidInputError:
    message, fields = describe_validation(exc.errors())
    if prefix:
        fields = [f"{prefix}{f}" for f in fields]
        message = "; ".join(f"{prefix}{p}" for p in message.split("; "))
    return InvalidInputError(message, fields=fields)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SkuflowError)
    async def _skuflow(_: Request, exc: SkuflowError) -> Response:
        return Response(orjson.dumps(exc.to_dict()), status_code=exc.status_code, media_type="application/json")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        message, fields = describe_validation(list(exc.errors()))
        return error_response(422, "invalid_input", message, details={"fields": fields})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette answers this from its outermost middleware and still logs the traceback; the caller gets
        # JSON with the request id to quote, and /metrics has already counted the 500
        from skuflow.serving.http import request_id  # http imports this module

        rid = request_id(request)
        response = error_response(500, "internal_error", f"Unexpected {exc.__class__.__name__}; quote request id "
                                  f"{rid}", request_id=rid)
        response.headers["X-Request-ID"] = rid
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(exc.status_code,
                                                                                           "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only those of the route that matched first
            from skuflow.serving.http import allowed_methods

            response.headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return response

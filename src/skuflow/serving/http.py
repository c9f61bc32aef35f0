"""What every route shares: fast JSON responses, one-pass body validation with errors naming the field,
request ids, OpenAPI bodies for routes that parse their own JSON, and who made an admin call."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from skuflow.serving.errors import invalid_input_from
from skuflow.serving.scoring import new_request_id


def json_response(body: Any, status: int = 200, version: int | None = None,
                  request_id: str | None = None, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if version is not None:
        headers["X-Model-Version"] = str(version)
    if request_id:
        headers["X-Request-ID"] = request_id
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status,
                    media_type="application/json", headers=headers)


def parse(model: type[BaseModel], body: bytes) -> Any:
    """Validate a JSON body in one pass (pydantic-core parses and checks together, ~5x faster than
    FastAPI's json.loads + field validation on the hot path); errors become 422 naming the field."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_input_from(exc) from exc


def request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given[:64] if given else new_request_id()


def caller(request: Request) -> str:
    """Who made an admin call, for the audit: the client address and its user agent."""
    host = request.client.host if request.client else "unknown"
    return f"api:{host} ({request.headers.get('user-agent', '')[:60]})"


def body_schema(model: type[BaseModel]) -> dict:
    """OpenAPI request body for a route that parses its own JSON."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def image_body_schema(field: str, json_model: type[BaseModel]) -> dict:
    files = ({"type": "array", "items": {"type": "string", "format": "binary"}} if field == "files"
             else {"type": "string", "format": "binary"})
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {field: files}, "required": [field]}},
        "application/json": {"schema": json_model.model_json_schema()}}}}

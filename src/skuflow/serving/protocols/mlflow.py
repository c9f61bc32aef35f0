"""MLflow's scoring-server protocol (``POST /invocations``), answered by the champion of
``SKUFLOW_INVOCATIONS_TASK``; its body formats are parsed in ``mlflow_parsing``."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from skuflow.errors import InvalidInputError, PayloadTooLargeError
from skuflow.features.declared import numeric_fields
from skuflow.serving.context import ServingContext
from skuflow.serving.http import error_responses, inline_schema, json_response, request_id, validate_records
from skuflow.serving.protocols.mlflow_parsing import parse_invocation, read_invocation_body
from skuflow.tasks.base import get_task


def invocations_router(ctx: ServingContext, known: list[str]) -> APIRouter:
    """MLflow's scoring-server protocol, answered by the champion of ``SKUFLOW_INVOCATIONS_TASK``."""
    api = APIRouter(tags=["mlflow"])
    settings = ctx.settings

    record = inline_schema(get_task(settings.invocations_task).record_model) if settings.invocations_task in known \
        else {"type": "object"}
    records = {"type": "array", "items": record, "minItems": 1,
               "description": f"up to SKUFLOW_MAX_BATCH_ROWS ({settings.max_batch_rows}) records; more: 413"}
    # MLflow's dataframe_split ({"columns": [...], "data": [[...], ...]}) and text/csv (a header, then a row
    # per record) are accepted too: JSON Schema cannot tie a row's length to the columns, nor say which
    # strings are a valid CSV of records, so the document names them in words and types the JSON forms
    body = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "minProperties": 1, "maxProperties": 1,
                                        "additionalProperties": False, "properties": {
                                            "dataframe_records": records, "instances": records,
                                            "inputs": records},
                                        "description": "one of dataframe_records, instances, inputs, or "
                                                       "dataframe_split as MLflow writes it; text/csv is "
                                                       "accepted too"}}}}}

    @api.post("/invocations", openapi_extra=body, responses=error_responses(404))
    async def invocations(request: Request) -> Response:
        started = time.perf_counter()
        task = get_task(settings.invocations_task)  # unknown task -> 404, per request
        loaded = ctx.holder.get(task.name)
        ctype = request.headers.get("content-type", "")
        body = await read_invocation_body(request.stream(), ctype, ctx.bounds.max_fields)
        records = parse_invocation(body, ctype, ctx.bounds, numeric_fields(loaded.record_model))
        if len(records) > settings.max_batch_rows:
            raise PayloadTooLargeError(f"{len(records)} rows exceed the cap of {settings.max_batch_rows}")
        if not records:
            raise InvalidInputError("body: no rows")
        rows = validate_records(loaded.record_model, records)
        rid = request_id(request)
        bodies = await run_in_threadpool(ctx.scorer.score, task, loaded, rows, 1, rid, started)
        return json_response({"predictions": [b["prediction"] for b in bodies]}, version=loaded.version,
                             request_id=rid)

    return api

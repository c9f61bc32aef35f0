"""The Open Inference Protocol (V2) over every task's champion: a task is a model, its served version the
model's version. Requests take the same path as ``/v1`` (validation, experiments, metrics, prediction log);
errors are the protocol's ``{"error": ...}`` with the status codes the other routes answer."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from skuflow import __version__
from skuflow.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, SkuflowError, TaskNotFoundError
from skuflow.serving.context import ServingContext
from skuflow.serving.http import body_schema, json_response, request_id, validate_records
from skuflow.serving.protocols.v2_tensors import (
    InferRequest,
    InferResponse,
    ModelMetadata,
    ServerMetadata,
    V2Error,
    images_from,
    read_request,
    record_inputs,
    records_from,
    select_outputs,
)
from skuflow.serving.runtime import LoadedModel
from skuflow.tasks.base import Task, get_task

EXTENSIONS = ["binary_tensor_data"]
_ERRORS = {400: "not ready", 404: "unknown model or version", 413: "a tensor, batch or image over its limit",
           422: "invalid request (the message names the input)", 503: "the model has no champion loaded yet"}


def v2_error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"error": message}), status_code=status, media_type="application/json")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"description": _ERRORS[code], "model": V2Error} for code in codes}


def _protocol_errors(endpoint: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """skuflow's errors in the protocol's shape, same status codes."""

    @functools.wraps(endpoint)
    async def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            return await endpoint(*args, **kwargs)
        except SkuflowError as exc:
            return v2_error(exc.status_code, exc.message)

    return guarded


@dataclass
class _Models:
    """The tasks the V2 routes serve, as models: which one a path names, and what each version outputs."""

    ctx: ServingContext
    known: list[str]
    outputs_of: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)  # one probe a version

    def served(self, model_name: str, model_version: str | None) -> tuple[Task, LoadedModel]:
        if model_name not in self.known:
            raise TaskNotFoundError(model_name, self.known)
        task = get_task(model_name)
        loaded = self.ctx.holder.get(task.name)
        if model_version is not None and model_version != str(loaded.version):
            raise NotFoundError(f"Model '{model_name}' version '{model_version}' is not served (the champion is "
                                f"version {loaded.version})")
        return task, loaded

    def output_metadata(self, task: Task, loaded: LoadedModel) -> list[dict[str, Any]]:
        key = (task.name, loaded.version)
        if key not in self.outputs_of:  # an example answer's tensors, one row standing for any number
            preds = task.predict(loaded.model, task.example_records(1), top_k=task.output.answer_depth(loaded.model))
            self.outputs_of[key] = [{**{k: v for k, v in t.items() if k != "data"}, "shape": [-1, *t["shape"][1:]]}
                                    for t in task.output.tensors(preds.bodies(), loaded.model)]
        return self.outputs_of[key]

    def rows(self, task: Task, loaded: LoadedModel, tensors: Any) -> list[dict[str, Any]]:
        """The request's tensors as the rows ``/v1`` would score: images, or validated records."""
        settings = self.ctx.settings
        if task.input_kind == "image":
            images = images_from(tensors, settings.max_batch_images, settings.max_image_bytes)
            rows = [{"image": b} for b in images]
        else:
            records = records_from(tensors, [t.name for t in record_inputs(loaded.record_model)], self.ctx.bounds)
            if len(records) > settings.max_batch_rows:
                raise PayloadTooLargeError(f"{len(records)} rows exceed the cap of {settings.max_batch_rows}")
            rows = validate_records(loaded.record_model, records)
        if not rows:
            raise InvalidInputError("inputs: no rows")
        return rows


def _unversioned(endpoint: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """The route without ``/versions/{v}``: no ``model_version`` for the document to list as a query."""

    async def call(request: Request, model_name: str) -> Response:
        return await endpoint(request, model_name)

    call.__name__ = f"{endpoint.__name__}_unversioned"
    return call


def _add_model_routes(api: APIRouter, metadata: Callable, model_ready: Callable, infer: Callable) -> None:
    infer_doc = {**body_schema(InferRequest), "description": "JSON, or the binary tensor data extension: a JSON "
                 "header of Inference-Header-Content-Length bytes followed by each input's bytes"}
    for base, pick in (("/models/{model_name}", _unversioned), ("/models/{model_name}/versions/{model_version}",
                                                                lambda endpoint: endpoint)):
        api.add_api_route(base, pick(metadata), methods=["GET"], response_model=ModelMetadata,
                          summary="Model metadata: inputs and outputs with datatypes and shapes",
                          responses=_errors(404, 503))
        api.add_api_route(base + "/ready", pick(model_ready), methods=["GET"], summary="200 when the model can answer",
                          responses=_errors(400, 404))
        api.add_api_route(base + "/infer", pick(infer), methods=["POST"], response_model=InferResponse,
                          summary="Inference on tensors", openapi_extra=infer_doc,
                          responses=_errors(404, 413, 422, 503))


def v2_router(ctx: ServingContext, known: list[str]) -> APIRouter:
    api = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"])
    models = _Models(ctx, known)

    @api.get("", response_model=ServerMetadata, summary="Server metadata")
    async def server_metadata() -> Response:
        return json_response({"name": "skuflow", "version": __version__, "extensions": EXTENSIONS})

    @api.get("/health/live", summary="200 while the server runs")
    async def live() -> Response:
        return json_response({"live": True})

    @api.get("/health/ready", summary="200 once a champion answers, 400 before", responses=_errors(400))
    async def ready() -> Response:
        return json_response({"ready": True}) if ctx.holder.ready else v2_error(400, "no model loaded yet")

    @_protocol_errors
    async def metadata(request: Request, model_name: str, model_version: str | None = None) -> Response:
        task, loaded = models.served(model_name, model_version)
        inputs = ([{"name": "image", "datatype": "BYTES", "shape": [-1]}] if task.input_kind == "image"
                  else [t.model_dump(exclude_none=True) for t in record_inputs(loaded.record_model)])
        outputs = await run_in_threadpool(models.output_metadata, task, loaded)
        return json_response({"name": task.name, "versions": [str(loaded.version)], "platform": "skuflow",
                              "inputs": inputs, "outputs": outputs}, version=loaded.version)

    @_protocol_errors
    async def model_ready(request: Request, model_name: str, model_version: str | None = None) -> Response:
        try:
            models.served(model_name, model_version)
        except SkuflowError as exc:
            if exc.status_code == 503:
                return v2_error(400, exc.message)
            raise
        return json_response({"name": model_name, "ready": True})

    @_protocol_errors
    async def infer(request: Request, model_name: str, model_version: str | None = None) -> Response:
        started = time.perf_counter()
        task, loaded = models.served(model_name, model_version)
        req, tensors = read_request(await request.body(), request.headers.get("inference-header-content-length"))
        rows, rid = models.rows(task, loaded, tensors), request_id(request)
        ans = await run_in_threadpool(ctx.router.answer, task, loaded, rows, task.output.answer_depth(loaded.model),
                                      rid, started, request.headers.get("x-experiment-key"))
        outputs = select_outputs(task.output.tensors(ans.bodies, ans.model.model), req.outputs)
        return json_response({"model_name": task.name, "model_version": str(ans.model.version),
                              "id": req.id if req.id is not None else rid, "outputs": outputs},
                             version=ans.model.version, request_id=rid, headers=ans.headers())

    _add_model_routes(api, metadata, model_ready, infer)
    return api

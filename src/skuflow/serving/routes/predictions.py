"""Predictions: one router per task (records or images, one or a batch; generated content for tasks that
write it; the served model's info)."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field, create_model

from skuflow.errors import PayloadTooLargeError
from skuflow.images.decode import ImageRecord
from skuflow.serving.context import ServingContext
from skuflow.serving.direct import direct
from skuflow.serving.http import (
    body_schema,
    image_body_schema,
    json_response,
    parse,
    request_id,
)
from skuflow.serving.traffic import Answer
from skuflow.serving.uploads import ImageBatch, read_images
from skuflow.tasks.base import Task


class Contribution(BaseModel):
    feature: str = Field(description="the input as the user knows it: an n-gram, 'seller_id=S1', 'price = 12', "
                         "a phrase of the title")
    family: str
    value: float | None = Field(None, description="the feature's value in the model's input (exact methods)")
    contribution: float = Field(description="its signed push on the prediction's raw score (log-odds, margin "
                                "or predicted value)")


class Explanation(BaseModel):
    prediction: str | float
    confidence: float | None = None
    raw_score: float | None = Field(None, description="exact methods: bias + sum of contributions + rest")
    bias: float | None = None
    contributions: list[Contribution]
    rest: float | None = Field(None, description="exact methods: the contributions of every input not listed")
    method: str
    model: str
    version: int


class ImageExplanation(BaseModel):
    prediction: str
    confidence: float
    method: str
    grid: list[list[float]] = Field(description="drop in the predicted class's log-odds when each cell is "
                                    "covered, rows top to bottom")
    heatmap_png_base64: str = Field(description="the photo with the grid laid over it, as a PNG")
    model: str
    version: int


def _same(record: type[BaseModel]) -> type[BaseModel]:
    return record


TopK = Query(3, ge=1, le=50, description="classes to list (classification)")


def _answer(ctx: ServingContext, task: Task, request: Request, rows: list[dict[str, Any]], top_k: int, rid: str,
            started: float) -> Answer:
    return ctx.router.answer(task, ctx.holder.get(task.name), rows, top_k, rid, started,
                             request.headers.get("x-experiment-key"))


def _respond(ans: Answer, body: Any, rid: str) -> Response:
    return json_response(body, version=ans.model.version, request_id=rid, headers=ans.headers())


def _batch_body(ans: Answer) -> dict[str, Any]:
    return {"predictions": ans.bodies, "model": ans.model.name, "version": ans.model.version}


def _record_routes(api: APIRouter, task: Task, ctx: ServingContext) -> None:
    """``/predict``, ``/predict/batch`` and ``/explain`` of a task whose inputs are records."""
    name, settings = task.name, ctx.settings
    Record = task.record_model  # the body /docs shows until a champion declares more (``refresh_schemas``)

    @direct
    async def predict(request: Request, top_k: int = TopK) -> Response:
        started = time.perf_counter()
        record = parse(ctx.holder.get(name).record_model, await request.body(), ctx.bounds)
        rid = request_id(request)
        if ctx.scorer.batches(task):  # the request waits for its batch: never on the event loop
            ans = await run_in_threadpool(_answer, ctx, task, request, [record.model_dump()], top_k, rid, started)
        else:  # one row costs well under a millisecond: answering on the event loop beats a thread hop
            ans = _answer(ctx, task, request, [record.model_dump()], top_k, rid, started)
        return _respond(ans, ans.bodies[0], rid)

    @direct
    async def predict_batch(request: Request, top_k: int = TopK) -> Response:
        started = time.perf_counter()
        records = parse(batch_of(ctx.holder.get(name).record_model), await request.body(), ctx.bounds,
                        ("records",)).records
        if len(records) > settings.max_batch_rows:
            raise PayloadTooLargeError(f"Batch of {len(records)} rows exceeds the cap of {settings.max_batch_rows}",
                                       rows=len(records), cap=settings.max_batch_rows)
        rid = request_id(request)
        rows = [r.model_dump() for r in records]
        ans = await run_in_threadpool(_answer, ctx, task, request, rows, top_k, rid, started)
        return _respond(ans, _batch_body(ans), rid)

    async def explain(request: Request, top: int = Query(10, ge=1, le=100, description="inputs to name")) -> Response:
        loaded = ctx.holder.get(name)
        record = parse(loaded.record_model, await request.body(), ctx.bounds)
        # tree contributions release the GIL: off the event loop, two requests explain at once on two cores
        out = await run_in_threadpool(task.explain, loaded.model, record.model_dump(), top)
        return json_response({**out, "model": loaded.name, "version": loaded.version}, version=loaded.version,
                             request_id=request_id(request))

    for endpoint, build in ((predict, _same), (predict_batch, batch_of), (explain, _same)):
        endpoint.skuflow_task, endpoint.skuflow_body = name, build  # type: ignore[union-attr]
    api.add_api_route("/predict", predict, methods=["POST"], response_model=task.output.answer_model,
                      summary=f"Predict one {name} record", openapi_extra=body_schema(Record))
    api.add_api_route("/predict/batch", predict_batch, methods=["POST"],
                      summary=f"Predict up to {settings.max_batch_rows} {name} records",
                      openapi_extra=body_schema(batch_of(Record)))
    api.add_api_route("/explain", explain, methods=["POST"], response_model=Explanation,
                      summary=f"Predict one {name} record and name the inputs that pushed the prediction",
                      openapi_extra=body_schema(Record),
                      responses={501: {"description": "the served model family has no exact explanation"}})


def _image_routes(api: APIRouter, task: Task, ctx: ServingContext) -> None:
    """``/predict``, ``/predict/batch`` and ``/explain`` of a task whose input is a photo."""
    name, settings = task.name, ctx.settings

    @direct
    async def predict_image(request: Request, top_k: int = TopK) -> Response:
        started = time.perf_counter()
        images = await read_images(request, False, 1, settings.max_image_bytes)
        rid = request_id(request)
        # decoding and a network forward pass take milliseconds: off the event loop
        ans = await run_in_threadpool(_answer, ctx, task, request, [{"image": images[0]}], top_k, rid, started)
        return _respond(ans, ans.bodies[0], rid)

    @direct
    async def predict_image_batch(request: Request, top_k: int = TopK) -> Response:
        started = time.perf_counter()
        images = await read_images(request, True, settings.max_batch_images, settings.max_image_bytes)
        rid = request_id(request)
        rows = [{"image": b} for b in images]
        ans = await run_in_threadpool(_answer, ctx, task, request, rows, top_k, rid, started)
        return _respond(ans, _batch_body(ans), rid)

    async def explain_image(request: Request) -> Response:
        images = await read_images(request, False, 1, settings.max_image_bytes)
        loaded = ctx.holder.get(name)
        out = await run_in_threadpool(task.explain, loaded.model, {"image": images[0]})
        return json_response({**out, "model": loaded.name, "version": loaded.version}, version=loaded.version,
                             request_id=request_id(request))

    api.add_api_route("/predict", predict_image, methods=["POST"], response_model=task.output.answer_model,
                      summary=f"Predict one {name} image (multipart 'file' or JSON base64)",
                      openapi_extra=image_body_schema("file", ImageRecord))
    api.add_api_route("/predict/batch", predict_image_batch, methods=["POST"],
                      summary=f"Predict up to {settings.max_batch_images} {name} images",
                      openapi_extra=image_body_schema("files", ImageBatch))
    api.add_api_route("/explain", explain_image, methods=["POST"], response_model=ImageExplanation,
                      summary=f"Predict one {name} image and show where the model looked (occlusion heat map)",
                      openapi_extra=image_body_schema("file", ImageRecord))


def task_router(task: Task, ctx: ServingContext) -> APIRouter:
    """``/v1/{task}/predict``, ``/predict/batch``, ``/explain``, ``/info`` and, for tasks that write content,
    ``/generate``."""
    api = APIRouter(prefix=f"/v1/{task.name}", tags=[task.name])

    async def info() -> Response:
        loaded = ctx.holder.get(task.name)
        return json_response(loaded.info(), version=loaded.version)

    (_image_routes if task.input_kind == "image" else _record_routes)(api, task, ctx)
    api.add_api_route("/info", info, methods=["GET"])
    if task.can_generate:
        _add_generate(api, task, ctx)
    return api


@lru_cache(maxsize=64)
def batch_of(record: type[BaseModel]) -> type[BaseModel]:
    """The batch body for a record model (one class per record model: pydantic caches its validator)."""
    return create_model(f"{record.__name__}Batch", records=(list[record], ...))  # type: ignore[valid-type]


def refresh_schemas(routes: list[Any], loaded: dict[str, Any]) -> bool:
    """Point each record route's OpenAPI body at its task's served request model (a champion trained with
    declared inputs adds fields); True when any body changed, so the document must be rebuilt."""
    changed = False
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI keeps an included router's routes on it
            changed |= refresh_schemas(route.original_router.routes, loaded)
            continue
        task = getattr(getattr(route, "endpoint", None), "skuflow_task", None)
        build = getattr(route.endpoint, "skuflow_body", None)
        if task is None or build is None or task not in loaded:
            continue
        body = body_schema(build(loaded[task].record_model))
        if route.openapi_extra != body:  # in place: FastAPI's per-include copies of the route share this dict
            route.openapi_extra.clear()
            route.openapi_extra.update(body)
            changed = True
    return changed


def _add_generate(api: APIRouter, task: Task, ctx: ServingContext) -> None:
    """Content the task writes for a record (marketing copy), scored by the task's champion."""
    Record = task.record_model
    options = {"variants": (int, Field(4, ge=1, le=10, description="drafts to write and score")),
               "seed": (int, Field(0, ge=0, description="same product + seed -> same copy"))}
    One = create_model(f"{Record.__name__}Generate", __base__=Record, **options)  # type: ignore[call-overload]
    Many = create_model(f"{Record.__name__}GenerateBatch", products=(list[Record], ...),  # type: ignore[valid-type]
                        **options)  # type: ignore[call-overload]

    def written(loaded: Any, product: dict[str, Any], variants: int, seed: int) -> dict[str, Any]:
        copies = task.generate(loaded.model, product, variants=variants, seed=seed)
        return {"product": product, **copies[0], "variants": copies}

    async def generate(request: Request) -> Response:
        body = parse(One, await request.body(), ctx.bounds)
        loaded = ctx.holder.get(task.name)
        out = await run_in_threadpool(written, loaded, body.model_dump(exclude={"variants", "seed"}), body.variants,
                                      body.seed)
        return json_response({**out, "model": loaded.name, "version": loaded.version}, version=loaded.version)

    async def generate_batch(request: Request) -> Response:
        body = parse(Many, await request.body(), ctx.bounds, ("products",))
        cap = ctx.settings.max_batch_rows
        if len(body.products) > cap:
            raise PayloadTooLargeError(f"{len(body.products)} products exceed the cap of {cap}")
        loaded = ctx.holder.get(task.name)

        def run() -> list[dict[str, Any]]:
            return [written(loaded, p.model_dump(), body.variants, body.seed) for p in body.products]

        results = await run_in_threadpool(run)
        return json_response({"results": results, "model": loaded.name, "version": loaded.version},
                             version=loaded.version)

    api.add_api_route("/generate", generate, methods=["POST"], openapi_extra=body_schema(One),
                      summary="Generated content for one record, best of several variants")
    api.add_api_route("/generate/batch", generate_batch, methods=["POST"], openapi_extra=body_schema(Many),
                      summary="Generated content for several records")

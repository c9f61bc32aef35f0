"""Data: a seeded synthetic catalogue for trying the API."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from skuflow.data.generate import generate_catalogue, listing_records
from skuflow.serving.http import json_response


def data_router() -> APIRouter:
    api = APIRouter(prefix="/v1/data", tags=["data"])

    @api.get("/generate")
    async def generate(n: int = Query(50, ge=1, le=10_000), seed: int = Query(0, ge=0)) -> Response:
        frame = generate_catalogue(n, seed=seed)
        frame["created_at"] = frame["created_at"].astype(str)
        return json_response(listing_records(frame.drop(columns=["image"])))

    return api

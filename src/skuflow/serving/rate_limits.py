"""Per-key rate limits on the routes that change state and on the expensive reads.

A token bucket per (key, kind of route): a key is the API or feedback key a request carries (hashed), else
the client's address. A request over its key's rate is refused with 429 and ``Retry-After`` before anything
parses it, so one noisy client cannot take a worker's time from the others. Off unless configured
(``SKUFLOW_RATE_LIMIT_WRITES``, ``SKUFLOW_RATE_LIMIT_READS``, requests per minute)."""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

# POST / DELETE on these change state; the reads score or scan many rows per request
WRITES = re.compile(r"^/v1/[^/]+/(feedback|retrain|experiment)$")
EXPENSIVE_READS = re.compile(r"^/v1/[^/]+/(drift|explain|predict/batch|generate/batch)$|^/invocations$|"
                             r"^/v2/models/.+/infer$")
KEY_HEADERS = (b"x-api-key", b"x-feedback-key")
MAX_KEYS = 10_000  # least recently seen keys are forgotten beyond this (a forgotten key starts full)


class TokenBuckets:
    """``per_minute`` requests a minute per key, with a burst of ``burst_seconds`` worth of them."""

    def __init__(self, per_minute: float, burst_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.clock = clock
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go (and a token is spent), else the seconds until one will be there."""
        with self._lock:
            now = self.clock()
            tokens, at = self._state.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            self._state[key] = (tokens - 1, now) if tokens >= 1 else (tokens, now)
            if len(self._state) > MAX_KEYS:
                self._state.popitem(last=False)
            return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


def client_key(scope: dict[str, Any]) -> str:
    """The key a request is counted under: its API or feedback key (hashed), else its client address."""
    for name, value in scope.get("headers", ()):
        if name in KEY_HEADERS and value:
            return "key:" + hashlib.sha256(value).hexdigest()[:16]
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


def limited(method: str, path: str, writes: bool, reads: bool) -> str | None:
    """Which configured limit covers a request (or an OpenAPI operation): "writes", "reads" or None."""
    if writes and method in ("POST", "DELETE") and WRITES.match(path):
        return "writes"
    if reads and EXPENSIVE_READS.match(path):
        return "reads"
    return None


def document_limits(schema: dict[str, Any], writes: bool, reads: bool) -> None:
    """Add the 429 answer, with its Retry-After header, to the OpenAPI operations a configured limit covers."""
    answer = {"description": "over this key's rate limit", "headers": {"Retry-After": {
        "description": "seconds until the key may ask again", "schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and limited(method.upper(), path, writes, reads):
                operation.setdefault("responses", {})["429"] = answer


class RateLimits:
    """Pure ASGI middleware: refuses a request over its key's rate with 429 and ``Retry-After``."""

    def __init__(self, app: Any, writes_per_minute: float | None, reads_per_minute: float | None) -> None:
        self.app = app
        self.writes = TokenBuckets(writes_per_minute) if writes_per_minute else None
        self.reads = TokenBuckets(reads_per_minute) if reads_per_minute else None

    def _bucket(self, method: str, path: str) -> TokenBuckets | None:
        kind = limited(method, path, bool(self.writes), bool(self.reads))
        return self.writes if kind == "writes" else self.reads if kind == "reads" else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        bucket = self._bucket(scope["method"], scope["path"]) if scope["type"] == "http" else None
        wait = bucket.take(client_key(scope)) if bucket is not None else 0.0
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        body = orjson.dumps({"error_code": "rate_limited", "message": f"Too many requests for this key on "
                             f"{scope['path']}; retry in {retry} s", "details": {"retry_after": retry}})
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", str(retry).encode())]})
        await send({"type": "http.response.body", "body": body})

"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task switch per request)."""

from __future__ import annotations

import time

import orjson

from skuflow.monitoring.metrics import ApiMetrics


class MetricsAndLimits:
    """Counts and times every request by route template, and refuses bodies over the size cap
    before they are read."""

    def __init__(self, app, metrics: ApiMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        version = variant = ""
        for key, value in scope.get("headers", ()):
            if key == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                body = orjson.dumps({"error_code": "payload_too_large",
                                     "message": f"Body of {int(value)} bytes exceeds {self.max_body_bytes}"})
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                self.metrics.observe_request("oversized", scope["method"], 413, time.perf_counter() - start)
                return

        async def send_status(message) -> None:
            nonlocal status, version, variant
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", ()):
                    if key == b"x-model-version":
                        version = value.decode()
                    elif key == b"x-experiment-variant":
                        variant = value.decode()
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            # label by template, never by raw path: unknown URLs must not grow the series count
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(path, scope["method"], status, time.perf_counter() - start, version,
                                         variant)

"""One error hierarchy. Each class carries its HTTP status and a stable ``error_code``;
the CLI prints ``message`` on one line, the API answers ``{"error_code", "message"}``."""

from __future__ import annotations

from typing import Any


class SkuflowError(Exception):
    """Base of every error skuflow raises on purpose."""

    status_code: int = 500
    error_code: str = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInputError(SkuflowError):
    """Input does not match the task's schema (names the field)."""

    status_code = 422
    error_code = "invalid_input"


class MissingColumnError(InvalidInputError):
    """A dataset lacks a column the task needs."""

    error_code = "missing_column"

    def __init__(self, column: str, where: str = "data") -> None:
        super().__init__(f"Required column '{column}' is missing from {where}", column=column)
        self.column = column


class UnauthorizedError(SkuflowError):
    status_code = 401
    error_code = "unauthorized"


class ForbiddenError(SkuflowError):
    status_code = 403
    error_code = "forbidden"


class NotFoundError(SkuflowError):
    status_code = 404
    error_code = "not_found"


class TaskNotFoundError(NotFoundError):
    error_code = "task_not_found"

    def __init__(self, task: str, known: list[str] | None = None) -> None:
        hint = f"; known tasks: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"Task '{task}' not found{hint}", task=task)


class ModelNotFoundError(NotFoundError):
    error_code = "model_not_found"


class PayloadTooLargeError(SkuflowError):
    status_code = 413
    error_code = "payload_too_large"


class UnsupportedMediaError(SkuflowError):
    status_code = 415
    error_code = "unsupported_media_type"


class NotReadyError(SkuflowError):
    status_code = 503
    error_code = "not_ready"


class ConflictError(SkuflowError):
    """The request is valid but the current state refuses it (the version already serves, one is running)."""

    status_code = 409
    error_code = "conflict"


class ConfigError(SkuflowError):
    status_code = 400
    error_code = "invalid_config"


class DataError(SkuflowError):
    """Data could not be read or has no usable rows."""

    status_code = 400
    error_code = "invalid_data"


class ChampionUnavailableError(SkuflowError):
    """The gate could not load or read the champion (store unreachable, load error): no decision is taken,
    the challenger stays registered and unpromoted, and the next run tries again."""

    status_code = 503
    error_code = "champion_unavailable"


class NotSupportedError(SkuflowError):
    """The served model cannot do what was asked (an explanation of a model family without one)."""

    status_code = 501
    error_code = "not_supported"

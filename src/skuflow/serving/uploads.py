"""Images in a request: multipart file uploads or base64 in JSON, each checked against the size cap."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, Field, ValidationError

from skuflow.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaError
from skuflow.images.decode import ImageRecord, image_bytes_from_base64
from skuflow.serving.error_handlers import invalid_input_from


class ImageBatch(BaseModel):
    images_base64: list[str] = Field(min_length=1, description="Image files in base64")


def check_size(data: bytes, field: str, cap: int) -> bytes:
    if not data:
        raise InvalidInputError(f"{field}: empty file", field=field)
    if len(data) > cap:
        raise PayloadTooLargeError(f"{field}: {len(data):,} bytes exceed the image cap of {cap:,}",
                                   field=field, bytes=len(data), cap=cap)
    return data


async def read_images(request: Request, many: bool, max_files: int, max_bytes: int) -> list[bytes]:
    """The request's images in order: multipart field ``file`` (``files`` too for batches) or JSON
    ``{"image_base64": ...}`` / ``{"images_base64": [...]}``."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form(max_files=max_files + 1, max_fields=max_files + 10)
        accepted = ("file", "files") if many else ("file",)
        uploads = [v for k, v in form.multi_items() if k in accepted and not isinstance(v, str)]  # files, not text
        if not uploads:
            raise InvalidInputError("file: no image uploaded (multipart field 'file')", field="file")
        if len(uploads) > max_files:
            raise PayloadTooLargeError(f"{len(uploads)} images exceed the cap of {max_files} per request")
        names = [f"files[{i}]" for i in range(len(uploads))] if many else ["file"]
        return [check_size(await u.read(), n, max_bytes) for u, n in zip(uploads, names, strict=False)]
    if ctype in ("application/json", ""):
        body = await request.body()
        try:
            if many:
                texts = ImageBatch.model_validate_json(body).images_base64
                fields = [f"images_base64[{i}]" for i in range(len(texts))]
            else:
                texts = [ImageRecord.model_validate_json(body).image_base64]
                fields = ["image_base64"]
        except ValidationError as exc:
            raise invalid_input_from(exc) from exc
        if len(texts) > max_files:
            raise PayloadTooLargeError(f"{len(texts)} images exceed the cap of {max_files} per request")
        return [check_size(image_bytes_from_base64(t, f), f, max_bytes) for t, f in zip(texts, fields, strict=True)]
    raise UnsupportedMediaError(f"Content-Type '{ctype}': send multipart/form-data with a 'file' field "
                                "or JSON with 'image_base64'")

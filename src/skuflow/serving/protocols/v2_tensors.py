"""Open Inference Protocol (V2, the REST form KServe, Triton, MLServer and Seldon speak): tensors in and out.

A request's inputs arrive as JSON, or with the binary tensor data extension (a JSON header of
``Inference-Header-Content-Length`` bytes, then each input's raw bytes in order; BYTES elements are each a
little-endian uint32 length and the bytes). They become the records every other route scores: one tensor per
field, or one BYTES tensor ``records`` of JSON objects; image tasks take one BYTES tensor of encoded images.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skuflow.errors import InvalidInputError, PayloadTooLargeError
from skuflow.serving.bounds import RecordBounds
from skuflow.serving.error_handlers import invalid_input_from
from skuflow.serving.uploads import check_size

# datatype -> numpy little-endian dtype; BYTES is a list of length-prefixed byte strings instead
NUMPY_OF = {"BOOL": "|b1", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": "<i1",
            "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}
DATATYPES = (*NUMPY_OF, "BYTES")
RECORDS_INPUT = "records"  # one BYTES tensor of JSON objects, for clients that already hold records
Parameters = dict[str, str | int | float | bool]


class RequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=256)
    shape: list[int] = Field(min_length=1, max_length=8)
    datatype: str = Field(json_schema_extra={"enum": list(DATATYPES)})
    parameters: Parameters | None = None
    data: list[Any] | None = Field(None, description="row-major, flat or nested; absent when the binary "
                                   "extension carries the tensor (parameters.binary_data_size)")


class RequestOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=256)
    parameters: Parameters | None = None


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, max_length=256)
    parameters: Parameters | None = None
    inputs: list[RequestInput] = Field(min_length=1, max_length=1000)
    outputs: list[RequestOutput] | None = None


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]
    parameters: Parameters | None = None


class ResponseOutput(TensorMetadata):
    data: list[Any]


class InferResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str
    parameters: Parameters | None = None
    outputs: list[ResponseOutput]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class V2Error(BaseModel):
    error: str


@dataclass(frozen=True)
class Tensor:
    name: str
    datatype: str
    shape: list[int]
    values: list[Any]  # flat, row-major; BYTES elements as bytes (binary) or str (JSON)

    @property
    def rows(self) -> int:
        return self.shape[0]


def read_request(body: bytes, header_length: str | None) -> tuple[InferRequest, list[Tensor]]:
    """The request and its inputs as flat tensors, each checked against its shape and datatype (422 naming
    the input), binary parts included."""
    binary = b""
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise InvalidInputError(f"Inference-Header-Content-Length: '{header_length}' is not a length within "
                                    f"the body of {len(body)} bytes")
        body, binary = body[: int(header_length)], body[int(header_length):]
    try:
        request = InferRequest.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_input_from(exc) from exc
    tensors, offset = [], 0
    for i, given in enumerate(request.inputs):
        where = f"inputs[{i}] ({given.name})"
        if given.datatype not in DATATYPES:
            raise InvalidInputError(f"{where}.datatype: '{given.datatype}' is not one of {', '.join(DATATYPES)}")
        if any(d < 0 for d in given.shape):
            raise InvalidInputError(f"{where}.shape: {given.shape} has a negative dimension")
        count = math.prod(given.shape)
        size = (given.parameters or {}).get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or offset + size > len(binary):
                raise InvalidInputError(f"{where}.parameters.binary_data_size: {size} bytes are not in the body")
            values = _from_binary(binary[offset: offset + size], given.datatype, count, where)
            offset += size
        elif given.data is None:
            raise InvalidInputError(f"{where}.data: missing (and no binary_data_size)")
        else:
            values = _flat(given.data)
            if len(values) != count:
                raise InvalidInputError(f"{where}.data: {len(values)} values for shape {given.shape}")
            _check_json_values(values, given.datatype, where)
        tensors.append(Tensor(given.name, given.datatype, given.shape, values))
    if offset != len(binary):
        raise InvalidInputError(f"body: {len(binary) - offset} binary bytes no input claims")
    return request, tensors


def _flat(data: list[Any]) -> list[Any]:
    if not any(isinstance(v, list) for v in data):
        return data
    out: list[Any] = []
    stack = [iter(data)]
    while stack:  # iterative: a deep nesting cannot exhaust the interpreter's stack
        for v in stack[-1]:
            if isinstance(v, list):
                stack.append(iter(v))
                break
            out.append(v)
        else:
            stack.pop()
    return out


def _check_json_values(values: list[Any], datatype: str, where: str) -> None:
    if datatype == "BYTES":
        ok = all(isinstance(v, str) for v in values)
    elif datatype == "BOOL":
        ok = all(isinstance(v, bool) for v in values)
    elif datatype.startswith("FP"):
        ok = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    else:
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    if not ok:
        raise InvalidInputError(f"{where}.data: values are not all {datatype}")


def _from_binary(chunk: bytes, datatype: str, count: int, where: str) -> list[Any]:
    if datatype != "BYTES":
        dtype = np.dtype(NUMPY_OF[datatype])
        if len(chunk) != count * dtype.itemsize:
            raise InvalidInputError(f"{where}: {len(chunk)} bytes for {count} {datatype} values")
        return np.frombuffer(chunk, dtype=dtype).tolist()
    values, pos = [], 0
    while pos < len(chunk):
        if pos + 4 > len(chunk):
            raise InvalidInputError(f"{where}: a BYTES element's length prefix is cut short")
        (n,) = struct.unpack_from("<I", chunk, pos)
        if pos + 4 + n > len(chunk):
            raise InvalidInputError(f"{where}: a BYTES element of {n} bytes runs past its tensor")
        values.append(chunk[pos + 4: pos + 4 + n])
        pos += 4 + n
    if len(values) != count:
        raise InvalidInputError(f"{where}: {len(values)} BYTES elements for {count} in the shape")
    return values


def _text(value: Any, where: str) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{where}: not UTF-8 text") from exc
    return value


def records_from(tensors: list[Tensor], fields: list[str], bounds: RecordBounds) -> list[dict[str, Any]]:
    """Rows from one tensor per field (their first dimension is the row) or from a ``records`` tensor."""
    by_name = {t.name: t for t in tensors}
    if len(by_name) != len(tensors):
        raise InvalidInputError("inputs: a name appears twice")
    if RECORDS_INPUT in by_name and RECORDS_INPUT not in fields:
        if len(tensors) != 1:
            raise InvalidInputError(f"inputs: '{RECORDS_INPUT}' carries whole records and comes alone")
        records = []
        for i, raw in enumerate(by_name[RECORDS_INPUT].values):
            raw = raw if isinstance(raw, bytes) else str(raw).encode()
            bounds.check(raw)
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError(f"{RECORDS_INPUT}[{i}]: not JSON ({exc})") from exc
            if not isinstance(record, dict):
                raise InvalidInputError(f"{RECORDS_INPUT}[{i}]: expected a JSON object")
            records.append(record)
        return records
    unknown = [t.name for t in tensors if t.name not in fields]
    if unknown:
        raise InvalidInputError(f"inputs: unknown input '{unknown[0]}' (this model takes {', '.join(fields)}, or "
                                f"'{RECORDS_INPUT}')")
    rows = {t.rows for t in tensors}
    if len(rows) != 1:
        raise InvalidInputError(f"inputs: first dimensions differ ({sorted(rows)}); each is the number of rows")
    n = rows.pop()
    for t in tensors:
        if len(t.values) != n:
            raise InvalidInputError(f"inputs ({t.name}): shape {t.shape} holds more than one value per row")
    return [{t.name: _text(t.values[i], f"{t.name}[{i}]") for t in tensors} for i in range(n)]


def images_from(tensors: list[Tensor], max_images: int, max_bytes: int) -> list[bytes]:
    """Encoded images from one BYTES tensor: raw bytes (binary extension) or base64 text (JSON)."""
    from skuflow.images.decode import image_bytes_from_base64

    if len(tensors) != 1 or tensors[0].datatype != "BYTES":
        raise InvalidInputError("inputs: send one BYTES tensor of encoded images")
    t = tensors[0]
    if len(t.values) > max_images:
        raise PayloadTooLargeError(f"{len(t.values)} images exceed the cap of {max_images} per request")
    fields = [f"{t.name}[{i}]" for i in range(len(t.values))]
    return [check_size(v if isinstance(v, bytes) else image_bytes_from_base64(v, f), f, max_bytes)
            for v, f in zip(t.values, fields, strict=True)]


def record_inputs(record_model: type[BaseModel]) -> list[TensorMetadata]:
    """A record model's fields as V2 inputs: text as BYTES, numbers as FP32 (FP64 and integers accepted)."""
    out = []
    for name, field in record_model.model_fields.items():
        kinds = {a for a in getattr(field.annotation, "__args__", (field.annotation,)) if a is not type(None)}
        datatype = "FP32" if kinds & {float} else "INT64" if kinds & {int} else "BYTES"
        out.append(TensorMetadata(name=field.alias or name, datatype=datatype, shape=[-1]))
    return out


def select_outputs(outputs: list[dict[str, Any]], requested: list[RequestOutput] | None) -> list[dict[str, Any]]:
    if not requested:
        return outputs
    by_name = {o["name"]: o for o in outputs}
    missing = [r.name for r in requested if r.name not in by_name]
    if missing:
        raise InvalidInputError(f"outputs: no output '{missing[0]}' (this model has {', '.join(by_name)})")
    return [by_name[r.name] for r in requested]

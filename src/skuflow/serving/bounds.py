"""Bounds on a JSON body's records, checked on its bytes before anything parses it.

Parsing holds the GIL: a record of a hundred thousand fields costs a JSON parser tens of milliseconds of
building keys nobody reads, and every other request on the worker waits that long. Counting and slicing bytes
happens in C without building objects, so a record over a limit is refused far sooner."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

import msgspec

from skuflow.errors import PayloadTooLargeError

# Every object member is a closing quote, optional blanks, then a colon. Inside strings a quote is escaped, so
# a match there can only add: the count is an upper bound of the members that no spacing can slip under.
_MEMBER = re.compile(rb'"\s*:')
_LIST_OF_RAW = msgspec.json.Decoder(list[msgspec.Raw])


@dataclass(frozen=True)
class RecordBounds:
    max_fields: int
    max_record_bytes: int

    def check(self, body: bytes, lists: tuple[str, ...] = ()) -> None:
        """Refuse (413) a record with more than ``max_fields`` members (nested ones count, and so does a quoted
        word followed by a colon in its text: `Size "XL": 52`) or longer than
        ``max_record_bytes``. ``lists`` names the top-level keys holding records (a list of them, or one); without
        it the body is one record. A body that is not the expected shape passes: its parser names the fault."""
        if not lists:
            self._check_record(body, "body")
            return
        if len(body) <= self.max_record_bytes and body.count(b":") <= self.max_fields:
            return  # the common case: the whole body is within one record's bounds, one pass in C
        try:
            spans = _wrapper(lists).decode(body)
        except msgspec.DecodeError:
            return
        for key in lists:
            raw = bytes(getattr(spans, key))
            if raw[:1] == b"{":
                self._check_record(raw, key)
                continue
            if raw[:1] != b"[":
                continue
            try:
                records = _LIST_OF_RAW.decode(raw)
            except msgspec.DecodeError:
                continue
            for i, record in enumerate(records):
                self._check_record(bytes(record), f"{key}[{i}]")

    def _check_record(self, raw: bytes, where: str) -> None:
        if raw.count(b":") > self.max_fields and next(islice(_MEMBER.finditer(raw), self.max_fields, None), None):
            raise PayloadTooLargeError(f"{where}: a record of more than {self.max_fields} fields exceeds the limit "
                                       f"(SKUFLOW_MAX_COLUMNS)")
        if len(raw) > self.max_record_bytes:
            raise PayloadTooLargeError(f"{where}: a record of {len(raw):,} bytes exceeds the limit of "
                                       f"{self.max_record_bytes:,} (SKUFLOW_MAX_RECORD_BYTES)")


_WRAPPERS: dict[tuple[str, ...], msgspec.json.Decoder] = {}


def _wrapper(lists: tuple[str, ...]) -> msgspec.json.Decoder:
    """A decoder that keeps the named keys as raw bytes and skips every other key without building it."""
    if lists not in _WRAPPERS:
        spans = msgspec.defstruct("Spans", [(key, msgspec.Raw, msgspec.field(default_factory=msgspec.Raw))
                                            for key in lists])
        _WRAPPERS[lists] = msgspec.json.Decoder(spans)
    return _WRAPPERS[lists]

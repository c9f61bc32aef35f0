"""Canonical product record and per-task validation.

Every row that fails is counted with its reason and kept in the report; a file that lacks a required
column fails as a whole with a message that names the column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

from skuflow.errors import DataError, MissingColumnError
from skuflow.features.declared import DeclaredInputs

TEXT_FIELDS = ("id", "title", "description", "brand", "seller_id", "category", "image")
NUMERIC_FIELDS = ("price", "rating")
CANONICAL_FIELDS = ("id", "title", "description", "brand", "seller_id", "price", "rating", "category", "image")

_CHECKS: dict[str, pa.Column] = {
    "title": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
    "description": pa.Column(str, nullable=True),
    "brand": pa.Column(str, nullable=True),
    "seller_id": pa.Column(str, nullable=True),
    "price": pa.Column(float, pa.Check.in_range(0.0, 1_000_000.0), nullable=True),
    "rating": pa.Column(float, pa.Check.in_range(0.0, 5.0), nullable=True),
    "category": pa.Column(str, pa.Check.str_length(min_value=1), nullable=False),
}


@dataclass
class ValidationReport:
    """What validation kept and what it rejected, with the reasons."""

    rows_in: int
    rows_valid: int
    reasons: dict[str, int] = field(default_factory=dict)
    rejected_examples: list[dict[str, Any]] = field(default_factory=list)
    # exact repeats and test rows that repeat a training row (skuflow.data.duplicates), once split
    duplicates: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # what the user should know about the rows kept (warnings)
    relabelled: dict[str, str] = field(default_factory=dict)  # label -> the label it was folded into

    @property
    def rows_rejected(self) -> int:
        return self.rows_in - self.rows_valid

    def to_dict(self) -> dict[str, Any]:
        out = {"rows_in": self.rows_in, "rows_valid": self.rows_valid, "rows_rejected": self.rows_rejected,
               "reasons": self.reasons}
        out |= {"notes": self.notes} if self.notes else {}
        return out | ({"duplicates": self.duplicates} if self.duplicates is not None else {})


def require_columns(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], where: str = "data") -> None:
    """Fail on the first required column the frame lacks, naming it."""
    for col in columns:
        if col not in frame.columns:
            raise MissingColumnError(col, where)


def coerce_canonical(frame: pd.DataFrame,
                     declared: DeclaredInputs | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Give canonical and declared columns their types. Returns the frame and, per row, the first coercion
    failure."""
    declared = declared or DeclaredInputs()
    out = frame.copy()
    failure = pd.Series([None] * len(out), index=out.index, dtype=object)
    for col in (*TEXT_FIELDS, *declared.text, *declared.categorical):
        if col in out.columns:
            values = out[col]
            as_str = values.astype(object).where(values.isna(), values.astype(str).str.strip())
            out[col] = as_str
    for col in (*NUMERIC_FIELDS, *declared.numeric):
        if col in out.columns:
            raw = out[col]
            num = pd.to_numeric(raw, errors="coerce").astype(float)
            bad = raw.notna() & num.isna()
            failure = failure.where(~bad | failure.notna(), f"{col}: not a number")
            out[col] = num
    return out, failure


def validate_records(
    frame: pd.DataFrame, required: tuple[str, ...], label: str | None = None, where: str = "data",
    declared: DeclaredInputs | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate rows against the canonical schema for the given required fields (and label), and the
    declared inputs (``skuflow.features.declared``: the columns must exist; numbers must be numbers).

    Returns the valid rows (types coerced) and a report that counts every rejected row by reason.
    """
    declared = declared or DeclaredInputs()
    needed = tuple(required) + ((label,) if label else ())
    require_columns(frame, needed, where)
    require_columns(frame, declared.names, f"{where} (declared in features)")
    coerced, coercion_failure = coerce_canonical(frame.reset_index(drop=True), declared)
    columns = {c: _CHECKS[c] for c in coerced.columns if c in _CHECKS}
    for c in needed:  # required fields are never nullable, whatever their usual rule
        base = _CHECKS.get(c, pa.Column(str))
        columns[c] = pa.Column(base.dtype, base.checks, nullable=False)
    for c in columns:
        if c not in needed and c not in ("price", "rating"):
            columns[c] = pa.Column(str, nullable=True)
    for c in declared.numeric:
        columns[c] = pa.Column(float, nullable=True)
    schema = pa.DataFrameSchema(columns, strict=False, coerce=False)
    reasons_by_row: dict[int, str] = {
        int(i): str(r) for i, r in coercion_failure.items() if r is not None
    }
    try:
        schema.validate(coerced, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for _, case in cases.iterrows():
            idx = case.get("index")
            if idx is None or pd.isna(idx):
                raise DataError(f"{where}: column '{case.get('column')}' fails {case.get('check')}") from exc
            reasons_by_row.setdefault(int(idx), f"{case.get('column')}: {_describe(case)}")
    bad_idx = sorted(reasons_by_row)
    valid = coerced.drop(index=bad_idx).reset_index(drop=True)
    report = ValidationReport(
        rows_in=len(frame),
        rows_valid=len(valid),
        reasons=dict(Counter(reasons_by_row.values()).most_common()),
        rejected_examples=[{"row": i, "reason": reasons_by_row[i]} for i in bad_idx[:20]],
    )
    return valid, report


def _describe(case: pd.Series) -> str:
    check = str(case.get("check"))
    if check == "not_nullable":
        return "missing value"
    if check.startswith("dtype"):
        return f"wrong type ({check})"
    return f"fails {check}"

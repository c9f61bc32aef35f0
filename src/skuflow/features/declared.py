"""The catalogue's own attributes: inputs a training config declares by type.

``features: {text: [material], categorical: [gender, baseColour], numeric: [also_view_count]}`` reaches the
featurizer as its parameters, so the fitted model carries the declaration: validation checks the columns
(numbers as numbers), serving extends the request model with them (they appear in ``/docs``), drift profiles
watch the categorical and numeric ones, batch reads and echoes them, and the dashboard form asks for them,
all from the model, with no code change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, create_model

from skuflow.errors import ConfigError

KINDS = ("text", "categorical", "numeric")


@dataclass(frozen=True)
class DeclaredInputs:
    text: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()

    @classmethod
    def of(cls, features: Mapping[str, Any] | None) -> DeclaredInputs:
        """The declaration in a config's ``features`` section (other keys there tune the featurizer)."""
        features = features or {}
        return cls(**{k: tuple(str(c) for c in features.get(k) or ()) for k in KINDS})

    @property
    def names(self) -> list[str]:
        return [*self.text, *self.categorical, *self.numeric]

    def __bool__(self) -> bool:
        return bool(self.names)

    def check(self, reserved: Iterable[str]) -> DeclaredInputs:
        """A column declared twice, or under a name the task already reads, is a config error naming it."""
        seen: set[str] = set()
        taken = set(reserved)
        for name in self.names:
            if name in seen:
                raise ConfigError(f"features: '{name}' is declared twice")
            if name in taken:
                raise ConfigError(f"features: '{name}' is already an input of the task; declare only new columns")
            seen.add(name)
        return self

    def record_model(self, base: type[BaseModel]) -> type[BaseModel]:
        """``base`` with one optional field per declared input (the request model of a served version)."""
        return _extended(base, self) if self else base


@lru_cache(maxsize=64)
def numeric_fields(record: type[BaseModel]) -> frozenset[str]:
    """The fields of a request model that hold numbers (a CSV cell or a form box is text until then)."""
    def numeric(annotation: Any) -> bool:
        return annotation in (int, float) or any(numeric(a) for a in get_args(annotation))

    return frozenset(n for n, f in record.model_fields.items() if numeric(f.annotation))


# what a declared input accepts: catalogue attributes arrive as text or numbers (a season code, a year)
_TEXT = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)


@lru_cache(maxsize=32)
def _extended(base: type[BaseModel], declared: DeclaredInputs) -> type[BaseModel]:
    fields: dict[str, Any] = {k: (v.annotation, v) for k, v in base.model_fields.items()}
    for name in declared.text:
        fields[name] = (str | None, Field(None, max_length=20000, description="declared text input"))
    for name in declared.categorical:
        fields[name] = (str | None, Field(None, max_length=200, description="declared categorical input"))
    for name in declared.numeric:
        fields[name] = (float | None, Field(None, allow_inf_nan=False, strict=True,
                                            description="declared numeric input"))
    config = ConfigDict(**{**base.model_config, **_TEXT})
    return create_model(base.__name__, __config__=config, __doc__=base.__doc__, **fields)

"""Search spaces: which settings of a training config a study may change, and over what range.

A space maps a dotted path into the training config (``model.params.C``, ``features.word_ngrams``,
``model.params.members.nblr.C``, ``model.params.smote_k``) to a distribution:

- ``{low: 0.05, high: 20, log: true}``: a float (an int when both ends are ints), ``step`` optional;
- ``{choices: [[1, 1], [1, 2], null]}``: one of these values (lists and null allowed).

Each model family declares its own space in its task (``Task.search_space``); a config's ``tune.space``
narrows it (a path it names replaces the family's range) or, with ``tune.replace: true``, replaces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from skuflow.errors import ConfigError
from skuflow.training.config import TrainConfig


@dataclass(frozen=True)
class Dimension:
    path: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None

    @classmethod
    def parse(cls, path: str, spec: dict[str, Any]) -> Dimension:
        if not isinstance(spec, dict):
            raise ConfigError(f"tune.space['{path}'] must be a mapping with low/high or choices, not {spec!r}")
        unknown = set(spec) - {"low", "high", "log", "step", "choices"}
        if unknown:
            raise ConfigError(f"tune.space['{path}']: unknown keys {sorted(unknown)} (use low, high, log, step, "
                              "choices)")
        if "choices" in spec:
            choices = spec["choices"]
            if not isinstance(choices, list) or not choices:
                raise ConfigError(f"tune.space['{path}'].choices must be a non-empty list")
            return cls(path, choices=tuple(choices))
        if "low" not in spec or "high" not in spec:
            raise ConfigError(f"tune.space['{path}'] needs low and high, or choices")
        low, high = spec["low"], spec["high"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)) or low > high:
            raise ConfigError(f"tune.space['{path}']: low and high must be numbers with low <= high")
        if spec.get("log") and low <= 0:
            raise ConfigError(f"tune.space['{path}']: a log range must start above 0")
        return cls(path, low=low, high=high, log=bool(spec.get("log", False)), step=spec.get("step"))

    @property
    def is_int(self) -> bool:
        return self.choices is None and isinstance(self.low, int) and isinstance(self.high, int)

    def suggest(self, trial: Any) -> Any:
        """Draw this dimension's value for an Optuna trial (choices travel as JSON text: Optuna's
        categorical values must be scalars)."""
        if self.choices is not None:
            return json.loads(trial.suggest_categorical(self.path, [json.dumps(c) for c in self.choices]))
        assert self.low is not None and self.high is not None  # a range, since it has no choices
        if self.is_int:
            return trial.suggest_int(self.path, int(self.low), int(self.high), log=self.log,
                                     step=int(self.step or 1))
        return trial.suggest_float(self.path, float(self.low), float(self.high), log=self.log,
                                   step=None if self.log else self.step)

    def decode(self, raw: Any) -> Any:
        """A stored trial parameter back to the config value."""
        return json.loads(raw) if self.choices is not None and isinstance(raw, str) else raw


def build_space(family: dict[str, dict[str, Any]], override: dict[str, Any] | None,
                replace: bool) -> list[Dimension]:
    """The family's space narrowed or replaced by the config's; a path set to null is left untuned."""
    merged: dict[str, Any] = {} if replace else dict(family)
    merged.update(override or {})
    dims = [Dimension.parse(path, spec) for path, spec in merged.items() if spec is not None]
    if not dims:
        raise ConfigError("the search space is empty: give tune.space in the config")
    return dims


def with_values(config: TrainConfig, values: dict[str, Any]) -> TrainConfig:
    """A copy of ``config`` with each dotted path set (mappings on the way are created as needed)."""
    raw = config.model_dump()
    for path, value in values.items():
        keys = path.split(".")
        node = raw
        for key in keys[:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"tune path '{path}': '{key}' is not a mapping in the training config")
            node = child
        node[keys[-1]] = value
    try:
        return TrainConfig.model_validate(raw)
    except Exception as exc:
        raise ConfigError(f"tuned values do not make a valid training config: {exc}") from exc

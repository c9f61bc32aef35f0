"""The champion gate on "days" of data, through skuflow's own training and gate, one registry per scenario.

    .venv/bin/python benchmarks/gate.py [--days 10] [--only same|better|noise|synthetic]

- same: PriceRunner (configs/pricerunner.yaml), each day a 50% sample of the same offers (seed = day).
  Models are equally good; before, a champion that had trained on half the challenger's test rows won
  by memory. Reports, per day, the rows compared, both scores there and on each model's own held-out
  split, the champion's score on the challenger's whole test split (what the old gate compared), the
  gain's interval and whether the alias moved.
- better: each day a fresh registry; the champion trains on 20% of the day's rows, the challenger on all
  of them. Counts promotions.
- noise: the champion trains on the day's rows with 10% of the labels replaced by random categories, the
  challenger on the clean rows.
- synthetic: 20 daily retrains on the demo catalogue (configs/synthetic.yaml), through the daily pipeline's
  steps; reports how often the alias moved and what the summaries said.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PRICERUNNER, ROOT, print_table  # noqa: E402


def _offers():
    from skuflow.tasks.base import get_task
    from skuflow.training.config import load_config
    from skuflow.training.train import prepare_frame

    cfg = load_config(ROOT / "configs" / "pricerunner.yaml")
    frame, _, _ = prepare_frame(get_task("category"), str(PRICERUNNER), cfg)
    # already mapped and validated: train on it as a frame with the same split and model
    raw = cfg.model_dump()
    raw["data"] = {"columns": {}, "dedupe": []}
    return frame, cfg.model_validate(raw)


def _row(day: int, result, extra: dict | None = None) -> dict:
    d = result.decision
    return {"day": day, "version": result.version, "own_held_out": result.metrics["macro_f1"],
            "rows_compared": d.get("rows_compared"), "champion_score": d.get("champion_score"),
            "challenger_score": d.get("challenger_score"), "gain": d.get("gain"), "interval": d.get("interval"),
            "verdict": d["verdict"], "promoted": result.promoted, **(extra or {})}


def same_offers(days: int) -> dict:
    from sklearn.metrics import f1_score

    from skuflow.registry.store import RegistryStore
    from skuflow.settings import Settings
    from skuflow.training.train import split_frame, train

    offers, cfg = _offers()
    rows, own, test_rows = [], {}, {}
    with tempfile.TemporaryDirectory() as home:
        s = Settings(home=Path(home))
        store = RegistryStore(s)
        for day in range(1, days + 1):
            sample = offers.sample(frac=0.5, random_state=day).reset_index(drop=True)
            champ = store.champion("category")
            t = time.perf_counter()
            result = train("category", sample, cfg, s)
            extra = {"train_s": round(time.perf_counter() - t, 1)}
            own[result.version], test_rows[result.version] = result.metrics["macro_f1"], result.rows["test"]
            if champ is not None:  # what the old gate compared: the champion on the whole test split
                _, test = split_frame(sample, "category", cfg.split)
                model = store.load_model("category", champ.version)
                extra["champion_on_whole_test"] = float(f1_score(test["category"], model.predict(test),
                                                                 average="macro"))
                extra["champion_own_held_out"] = own[champ.version]
                extra["champion_test_rows"] = test_rows[champ.version]
            extra["test_rows"] = result.rows["test"]
            rows.append(_row(day, result, extra))
    return _gaps(rows)


def _sd(p: float, n: int) -> float:
    """The binomial sd of a score near ``p`` measured on ``n`` rows (macro-F1 moves with accuracy)."""
    return (p * (1 - p) / n) ** 0.5


def _gaps(rows: list[dict]) -> dict:
    """Each model's score on the compared rows against its own held-out figure, beside what chance alone
    would move that difference by. The champion's compared rows and its own test split are disjoint draws
    (sd of the difference: both sds combined); the challenger's compared rows are a subset of its own test
    split (sd shrinks by sqrt(1 - n/N)). Memory shows as a champion gap that is positive day after day; noise
    as gaps of either sign, about one sd wide."""
    champ, chall = [], []
    for r in rows:
        n = r.get("rows_compared")
        if not n or r.get("champion_score") is None:
            continue
        r["champion_gap"] = r["champion_score"] - r["champion_own_held_out"]
        r["champion_gap_sd"] = (_sd(r["champion_score"], n) ** 2
                                + _sd(r["champion_own_held_out"], r["champion_test_rows"]) ** 2) ** 0.5
        r["challenger_gap"] = r["challenger_score"] - r["own_held_out"]
        r["challenger_gap_sd"] = _sd(r["challenger_score"], n) * max(0.0, 1 - n / r["test_rows"]) ** 0.5
        champ.append((r["champion_gap"], r["champion_gap_sd"]))
        chall.append((r["challenger_gap"], r["challenger_gap_sd"]))
    both = champ + chall

    def mean_se(pairs: list[tuple[float, float]]) -> tuple[float | None, float | None]:
        if not pairs:
            return None, None
        gaps = [g for g, _ in pairs]
        m = sum(gaps) / len(gaps)
        se = (sum((g - m) ** 2 for g in gaps) / max(1, len(gaps) - 1) / len(gaps)) ** 0.5
        return m, se

    champ_mean, champ_se = mean_se(champ)
    chall_mean, chall_se = mean_se(chall)
    return {"rows": rows, "alias_moves_after_day_1": sum(r["promoted"] for r in rows[1:]),
            "max_gap_to_own_held_out": max(abs(g) for g, _ in both) if both else None,
            "mean_gap_to_own_held_out": sum(abs(g) for g, _ in both) / len(both) if both else None,
            "gaps_within_0.003": sum(abs(g) <= 0.003 for g, _ in both), "gaps": len(both),
            "gaps_within_2_chance_sd": sum(abs(g) <= 2 * sd for g, sd in both),
            "mean_chance_sd_of_a_gap": sum(sd for _, sd in both) / len(both) if both else None,
            "champion_mean_signed_gap": champ_mean, "champion_mean_signed_gap_se": champ_se,
            "challenger_mean_signed_gap": chall_mean, "challenger_mean_signed_gap_se": chall_se}


def better(days: int, noise: bool) -> dict:
    import numpy as np

    from skuflow.settings import Settings
    from skuflow.training.train import train

    offers, cfg = _offers()
    cats = sorted(offers["category"].unique())
    rows = []
    for day in range(1, days + 1):
        sample = offers.sample(frac=0.5, random_state=day).reset_index(drop=True)
        if noise:
            rng = np.random.default_rng(day)
            flip = rng.random(len(sample)) < 0.10
            weak = sample.assign(category=np.where(flip, rng.choice(cats, len(sample)), sample["category"]))
        else:
            weak = sample.sample(frac=0.2, random_state=100 + day).reset_index(drop=True)
        with tempfile.TemporaryDirectory() as home:
            s = Settings(home=Path(home))
            champion = train("category", weak, cfg, s)
            result = train("category", sample, cfg, s)
        rows.append(_row(day, result, {"champion_own_held_out": champion.metrics["macro_f1"]}))
    return {"rows": rows, "promoted_days": sum(r["promoted"] for r in rows), "days": days}


def synthetic(days: int) -> dict:
    from skuflow.flows import steps
    from skuflow.settings import Settings

    config = str(ROOT / "configs" / "synthetic.yaml")
    summaries = []
    with tempfile.TemporaryDirectory() as home:
        s = Settings(home=Path(home))
        for day in range(1, days + 1):
            t = time.time()
            raw = steps.generate_data(f"synthetic:5000:{day}", s)
            version = steps.save_and_version_data("category", raw["raw_path"], config, s)
            cand = steps.train_model("category", version["dataset_path"], config, s)
            gate = steps.check_and_register("category", version["dataset_path"], config, cand, s)
            summaries.append(steps.pipeline_summary("category", raw, version, cand, gate, t))
    verdicts: dict[str, int] = {}
    for x in summaries[1:]:
        verdicts[x["evidence"]["verdict"]] = verdicts.get(x["evidence"]["verdict"], 0) + 1
    return {"alias_moves_after_day_1": sum(x["promoted"] for x in summaries[1:]), "verdicts": verdicts,
            "example_reason": summaries[-1]["reason"],
            "rows": [{"day": i + 1, "verdict": x["evidence"]["verdict"], "gain": x["evidence"]["gain"],
                      "interval": x["evidence"]["interval"], "rows_compared": x["evidence"]["rows_compared"],
                      "promoted": x["promoted"]} for i, x in enumerate(summaries)]}


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, list):
        return "[" + ", ".join(f"{x:+.4f}" for x in v) + "]"
    return "-" if v is None else str(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--only", choices=["same", "better", "noise", "synthetic"])
    args = parser.parse_args()
    out = {}
    cols = ["day", "rows_compared", "champion_score", "challenger_score", "interval", "verdict"]
    if args.only in (None, "same"):
        r = out["same"] = same_offers(args.days)
        extra = ["champion_own_held_out", "own_held_out", "champion_on_whole_test", "champion_gap",
                 "champion_gap_sd", "challenger_gap", "challenger_gap_sd"]
        print_table("same offers, 50% samples: compared rows, both scores there, the interval",
                    cols + extra, [[_fmt(x.get(c)) for c in cols + extra] for x in r["rows"]])
        print(f"alias moves after day 1: {r['alias_moves_after_day_1']}; gaps to a model's own held-out figure: "
              f"{r['gaps_within_0.003']} of {r['gaps']} within 0.003, {r['gaps_within_2_chance_sd']} within two "
              f"chance sds (mean sd {_fmt(r['mean_chance_sd_of_a_gap'])}), "
              f"largest {_fmt(r['max_gap_to_own_held_out'])}, "
              f"mean {_fmt(r['mean_gap_to_own_held_out'])}; champion's mean signed gap "
              f"{_fmt(r['champion_mean_signed_gap'])} ± {_fmt(r['champion_mean_signed_gap_se'])} (the old gate: "
              f"+0.006 to +0.009), challenger's {_fmt(r['challenger_mean_signed_gap'])} ± "
              f"{_fmt(r['challenger_mean_signed_gap_se'])}")
    for name, noise in (("better", False), ("noise", True)):
        if args.only in (None, name):
            r = out[name] = better(args.days, noise)
            print_table(f"{name}: a genuinely better challenger", cols + ["champion_own_held_out", "own_held_out"],
                        [[_fmt(x.get(c)) for c in cols + ["champion_own_held_out", "own_held_out"]]
                         for x in r["rows"]])
            print(f"promoted on {r['promoted_days']} of {r['days']} days")
    if args.only in (None, "synthetic"):
        r = out["synthetic"] = synthetic(2 * args.days)
        print_table("synthetic demo data, daily retrains", ["day", "rows_compared", "gain", "interval", "verdict"],
                    [[_fmt(x.get(c)) for c in ("day", "rows_compared", "gain", "interval", "verdict")]
                     for x in r["rows"]])
        print(f"alias moves after day 1: {r['alias_moves_after_day_1']}; verdicts {r['verdicts']}")
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()

"""skuflow's dashboard: ``skuflow dashboard`` (or ``streamlit run`` on this file).

Five pages — Predict, Models, Monitoring, Experiments, Batch — each a few calls into the library the CLI and the API
use: the registry store, the tasks' ``predict``/``generate``, the promotion functions, the prediction
log, drift, and the retraining runner. No logic of its own.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from skuflow.dashboard import data
from skuflow.errors import SkuflowError
from skuflow.features.declared import numeric_fields
from skuflow.monitoring.drift import DriftPolicy
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.registry.aliases import promote, rollback
from skuflow.registry.store import RegistryStore
from skuflow.settings import Settings
from skuflow.tasks.base import get_task

log = logging.getLogger("skuflow.dashboard")
PAGES = ("Predict", "Models", "Monitoring", "Experiments", "Batch")


@st.cache_resource(show_spinner=False)
def _store(uri: str, home: str) -> RegistryStore:
    return RegistryStore(Settings(home=Path(home), mlflow_uri=uri))


@st.cache_resource(show_spinner="loading the champion...")
def _served(uri: str, home: str, task: str, version: int) -> Any:
    """A version with its reference profile and outlier detector, as the server holds it: one loaded copy
    for every page."""
    from skuflow.serving.runtime import load_version

    store = _store(uri, home)
    return load_version(store, get_task(task), store.version(store.model_name(task), version), warmup=False)


@st.cache_resource(show_spinner=False)
def _plog(url: str) -> PredictionLog:
    return PredictionLog(url)


def _authorised(settings: Settings) -> bool:
    """State-changing buttons need the admin key, as the API's writes do: without one configured the
    dashboard is read-only; with one, the sidebar asks for it once per session. A wrong key is logged (never
    the key); every change goes to the registry's audit with "dashboard"."""
    if not settings.admin_api_key:
        st.warning("Read-only: set SKUFLOW_ADMIN_API_KEY where the dashboard runs to enable changes.")
        return False
    import hmac

    given = st.session_state.get("admin_key", "")
    if hmac.compare_digest(given.encode(), settings.admin_api_key.encode()):
        return True
    if given:
        log.warning("dashboard: a change was refused (wrong admin key)")
    st.warning("Enter the admin key (SKUFLOW_ADMIN_API_KEY) in the sidebar to change anything.")
    return False


def _bar_chart(bars: dict[str, float]) -> None:
    st.bar_chart(pd.DataFrame({"probability": list(bars.values())}, index=list(bars)), horizontal=True)


def _pick_task(store: RegistryStore, page: str) -> str | None:
    """The page header and a choice among the tasks that have a champion (None: there is none yet)."""
    st.header(page)
    tasks = data.served_tasks(store)
    if not tasks:
        st.info("No champion yet: train one with `skuflow train TASK`.")
        return None
    return st.selectbox("Task", tasks, key=f"{page.lower()}_task")


def predict_page(settings: Settings, store: RegistryStore) -> None:
    name = _pick_task(store, "Predict")
    if name is None:
        return
    task = get_task(name)
    champ = store.champion(name)
    if champ is None:  # demoted since the task list was read
        return
    model = _served(str(settings.mlflow_uri), str(settings.home), name, champ.version).model
    st.caption(f"{champ.name} v{champ.version} (champion) — {task.description}")
    record: dict[str, Any] | None = None
    if task.input_kind == "image":
        upload = st.file_uploader("Photo", type=["jpg", "jpeg", "png", "webp", "bmp", "gif"], key="photo")
        if upload is not None:
            st.image(upload.getvalue(), width=220)
            record = {"image": upload.getvalue()}
    else:
        record = _record_form(task, task.record_model_for(model))
    if record is None:
        return
    try:
        preds = task.predict(model, [record], top_k=5)
    except SkuflowError as exc:
        st.error(exc.message)
        return
    figures = preds.headline(0)
    for column, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        column.metric(label, value)
    bars = preds.chart(0)
    if bars:
        _bar_chart(bars)
    _explanation(task, model, record)
    if task.can_generate:
        copies = task.generate(model, record, variants=4, seed=0)
        best = copies[0]
        st.subheader("Marketing copy")
        st.write(best["social_media_caption"])
        st.write(" ".join(best["hashtags"]))
        st.markdown(f"**{best['ad_copy']['headline']}** — {best['ad_copy']['body']}")
        st.metric("Copy score", f"{best['confidence_score']:.1%}")
        st.dataframe(pd.DataFrame([{"score": round(c["confidence_score"], 4), "caption": c["social_media_caption"]}
                                   for c in copies]), hide_index=True)



def _explanation(task: Any, model: Any, record: dict[str, Any]) -> None:
    """The inputs that pushed the prediction, as the explain route answers them."""
    from skuflow.errors import NotSupportedError

    st.subheader("Why")
    try:
        why = task.explain(model, record, top=10)
    except NotSupportedError as exc:
        st.caption(exc.message)
        return
    if "heatmap_png_base64" in why:  # an image: where covering the photo changes the prediction most
        import base64

        st.image(base64.b64decode(why["heatmap_png_base64"]), width=320,
                 caption=f"{why['method']}: red cells support '{why['prediction']}', blue ones argue against it")
        return
    if "raw_score" not in why:  # occlusion of text: phrases and their push, no exact sum
        st.caption(f"{why['method']}: how much each phrase moves the prediction")
        st.bar_chart(pd.DataFrame({"contribution": [c["contribution"] for c in why["contributions"]]},
                                  index=[c["feature"] for c in why["contributions"]]), horizontal=True)
        return
    rows = pd.DataFrame([{"input": f"{c['feature']} ({c['family']})", "contribution": c["contribution"]}
                         for c in why["contributions"]])
    st.caption(f"Raw score of '{why['prediction']}': {why['raw_score']:.3f} = bias {why['bias']:.3f} + these "
               f"inputs + {why['rest']:.3f} from all others ({why['method']})")
    st.bar_chart(rows.set_index("input"), horizontal=True)


def _record_form(task: Any, record_model: Any) -> dict[str, Any] | None:
    """A form built from the champion's record model (the task's fields and the champion's declared inputs,
    filled with the task's example record); the entered record, validated by the same model the API uses,
    once submitted."""
    from pydantic import ValidationError

    example = task.example_records(1)[0]
    values: dict[str, Any] = {}
    with st.form("record"):
        numbers = numeric_fields(record_model)
        for field, info in record_model.model_fields.items():
            label = field.replace("_", " ").capitalize()
            default = example.get(field)
            if field in numbers:
                values[field] = st.number_input(label, value=float(default or 0.0), step=1.0)
            elif any(getattr(m, "max_length", 0) and m.max_length > 2000 for m in info.metadata):
                values[field] = st.text_area(label, value=str(default or ""))
            else:
                values[field] = st.text_input(label, value=str(default or ""))
        submitted = st.form_submit_button("Predict")
    if not submitted:
        return None
    try:
        return record_model.model_validate({k: (v if v != "" else None) for k, v in values.items()}).model_dump()
    except ValidationError as exc:
        st.error("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        return None



def _evaluation(store: RegistryStore, name: str, versions: list[int], champion: int | None) -> None:
    """Any version's evaluation beside the champion's: figures side by side, headline numbers in one table."""
    st.subheader("Evaluation (test split)")
    default = versions.index(champion) if champion in versions else 0
    chosen = st.selectbox("Version to inspect", versions, index=default, key="inspect_version")
    shown = [int(chosen)] if champion in (None, chosen) else [int(chosen), int(champion)]
    views = [data.evaluation_view(store, name, v) for v in shown]
    summary = pd.DataFrame({f"v{v['version']}" + (" (champion)" if v["version"] == champion else ""): v["summary"]
                            for v in views})
    if not summary.empty:
        st.dataframe(summary)
    for caption in data.EVALUATION_FIGURES.values():
        pngs = [(v["version"], v["figures"].get(caption)) for v in views]
        if not any(png for _, png in pngs):
            continue
        for column, (version, png) in zip(st.columns(len(pngs)), pngs, strict=True):
            if png:
                column.image(png, caption=f"v{version}: {caption}")


def models_page(settings: Settings, store: RegistryStore) -> None:
    name = _pick_task(store, "Models")
    if name is None:
        return
    versions = data.versions_frame(store, name)
    if versions.empty:
        st.info(f"No registered versions of {name}.")
        return
    champ = store.champion(name)
    st.metric("Champion", f"v{champ.version}" if champ else "none")
    st.dataframe(versions, hide_index=True)
    st.subheader("Promotion history")
    st.dataframe(data.history_frame(store, name), hide_index=True)
    _evaluation(store, name, versions["version"].tolist(), champ.version if champ else None)
    st.subheader("Move the champion alias")
    choice = st.selectbox("Version", versions["version"].tolist(), key="promote_version")
    reason = st.text_input("Reason (kept in the history)", value="from the dashboard", key="move_reason")
    cols = st.columns(2)
    if cols[0].button(f"Promote v{choice}", key="ask_promote"):
        st.session_state["pending"] = ("promote", name, int(choice))
    if cols[1].button("Roll back", key="ask_rollback"):
        st.session_state["pending"] = ("rollback", name, None)
    pending = st.session_state.get("pending")
    if pending and pending[1] == name:
        action, _, version = pending
        st.warning(f"Confirm: {action} {name}" + (f" to v{version}" if version else "") + "?")
        if st.button("Confirm", key="confirm", type="primary") and _authorised(settings):
            try:
                entry = (promote(store, name, version, reason=reason) if action == "promote"
                         else rollback(store, name, reason=reason or "dashboard"))
                st.success(f"{entry['action']}: v{entry['from']} -> v{entry['to']}")
            except SkuflowError as exc:
                st.error(exc.message)
            st.session_state.pop("pending", None)
        if st.button("Cancel", key="cancel"):
            st.session_state.pop("pending", None)


def monitoring_page(settings: Settings, store: RegistryStore) -> None:
    name = _pick_task(store, "Monitoring")
    if name is None:
        return
    window = st.slider("Window (latest predictions)", 100, 10_000, settings.drift_window, step=100)
    champ = store.champion(name)
    served = _served(str(settings.mlflow_uri), str(settings.home), name, champ.version) if champ else None
    view = data.monitoring(store, _plog(str(settings.prediction_log_url)), name, window, served,
                           DriftPolicy.from_settings(settings))
    st.caption(f"champion v{view['version']}: {view['rows']} logged predictions in the window")
    if view["rows"] == 0:
        st.info("No predictions logged for the champion yet: send traffic to the API.")
    else:
        st.subheader("Requests and latency")
        st.line_chart(view["traffic"][["requests"]])
        st.line_chart(view["traffic"][["latency_ms_mean", "latency_ms_p95"]])
        st.subheader("Predictions: reference vs live")
        st.bar_chart(view["mix"])
        if view["confidence"] is not None:
            st.subheader("Confidence")
            st.bar_chart(view["confidence"])
        st.subheader("Drift per feature")
        if view["drift"] is not None:
            st.dataframe(view["drift"], hide_index=True)
        live, output = view["live"], get_task(name).output
        estimated, outliers = view["estimated"] or {}, view["outliers"]
        cols = st.columns(3)
        cols[0].metric(f"Live {live['metric']}", "no feedback yet" if not live["n"] else
                       f"{output.format_live(live['value'])} of {live['n']}")
        if estimated.get("accuracy") is not None:
            cols[1].metric("Estimated accuracy (no labels)", f"{estimated['accuracy']:.1%}",
                           f"{-estimated['accuracy_drop']:+.1%} vs held-out")
        if outliers:
            excess = outliers["share"] - outliers["expected_share"]
            cols[2].metric("Outliers", f"{outliers['share']:.1%}", f"{excess:+.1%} vs held-out", delta_color="inverse")
        for alert in view["alerts"]:
            st.warning(alert)
    st.subheader("Retraining")
    runner = _runner(settings.model_dump_json())
    if st.button("Retrain now", key="retrain") and _authorised(settings):
        run, started = runner.start(name, "requested from the dashboard")
        st.session_state["retrain_started"] = run.started_at
        (st.success if started else st.info)("retraining started" if started else "a retraining is already running")
    run = runner.runs.get(name)
    if run is not None:
        elapsed = (run.finished_at or time.time()) - run.started_at
        st.write(f"**{run.state}** after {elapsed:.0f} s — {run.reason}")
        if run.summary:
            st.json(run.summary, expanded=False)
        if run.error:
            st.error(run.error)
        if run.state == "running":
            st.button("Refresh", key="refresh")


@st.cache_resource(show_spinner=False)
def _runner(settings_json: str) -> Any:
    """One runner per dashboard process: it remembers the runs it started across page refreshes."""
    from skuflow.flows.retrain import RetrainRunner

    return RetrainRunner(Settings.model_validate_json(settings_json))


def experiments_page(settings: Settings, store: RegistryStore) -> None:
    from skuflow.experiments import record

    name = _pick_task(store, "Experiments")
    if name is None:
        return
    view = data.experiment_view(store, _plog(str(settings.prediction_log_url)), name)
    if view is not None:
        test = view["test"]
        st.caption(f"{view['id']}: {view['mode']} v{view['challenger']} against v{view['champion']} at "
                   f"{view['traffic']:.0%}")
        cols = st.columns(3)
        cols[0].metric("State", view["state"])
        cols[1].metric("Effect", f"{test['effect']:+.4f}",
                       help=f"always-valid interval [{test['interval'][0]:+.4f}, {test['interval'][1]:+.4f}]")
        cols[2].metric("p-value (always valid)", f"{test['p_value']:.4f}")
        if view["outcome"]:
            st.write(view["outcome"])
        if view.get("agreement") is not None:
            st.metric("Shadow agreement", f"{view['agreement']:.1%}")
        st.dataframe(view["arms"], hide_index=True)
        if not view["mix"].empty:
            st.bar_chart(view["mix"])
    running = view is not None and view["state"] == "running"
    if running:
        if st.button("Stop the experiment", key="stop_experiment") and _authorised(settings):
            try:
                record.end(store, name, "stopped", "stopped from the dashboard")
                st.rerun()  # show the ended experiment and the start form
            except SkuflowError as exc:
                st.error(exc.message)
        return
    st.subheader("Start an experiment")
    champ = store.champion(name)
    others = [v.version for v in store.versions(name) if champ is None or v.version != champ.version]
    if not others:
        st.info("Register another version first: the experiment tries it against the champion.")
        return
    with st.form("experiment"):
        challenger = st.selectbox("Challenger version", others, key="exp_challenger")
        mode = st.radio("Mode", ["shadow", "ab"], horizontal=True, key="exp_mode")
        traffic = st.slider("Traffic share", 0.01, 1.0, 0.1, key="exp_traffic")
        key = st.text_input("Caller key field (optional)", value="", key="exp_key")
        guardrails = st.text_input("Guardrails", value="error_rate=0.01", key="exp_guardrails")
        submitted = st.form_submit_button("Start")
    if submitted and _authorised(settings):
        try:
            record.start(store, name, int(challenger), mode, float(traffic), key or None,
                         guardrails=record.parse_guardrails(guardrails), who="dashboard")
            st.rerun()  # show the running experiment (servers pick it up at their next poll)
        except SkuflowError as exc:
            st.error(exc.message)


def batch_page(settings: Settings, store: RegistryStore) -> None:
    name = _pick_task(store, "Batch")
    if name is None:
        return
    jobs = data.batch_jobs(store, name)
    if jobs.empty:
        st.info(f"No batch job for {name} yet: `skuflow batch {name} --input ... --output ...`.")
        return
    last = jobs.iloc[0]
    cols = st.columns(3)
    cols[0].metric("Rows scored (latest)", f"{last['rows']:,}")
    cols[1].metric("Rows/s", f"{last['rows_per_s']:,.0f}")
    cols[2].metric("Model version", str(last["model_version"]))
    st.write(f"Output: `{last['output']}`")
    st.bar_chart(pd.Series(last["summary"], name="predictions"))
    st.dataframe(jobs.drop(columns=["summary"]), hide_index=True)


def main() -> None:
    st.set_page_config(page_title="skuflow", layout="wide")
    settings = Settings()  # read on every rerun, not cached for the process: a browser session outlives env edits
    store = _store(str(settings.mlflow_uri), str(settings.home))
    st.sidebar.title("skuflow")
    page = st.sidebar.radio("Page", PAGES, key="page")
    st.sidebar.caption(f"registry: {settings.mlflow_uri}")
    if settings.admin_api_key:
        st.sidebar.text_input("Admin key", type="password", key="admin_key")
    {"Predict": predict_page, "Models": models_page, "Monitoring": monitoring_page,
     "Experiments": experiments_page, "Batch": batch_page}[page](settings, store)


if __name__ == "__main__":  # streamlit runs this file as the main script; importing it runs nothing
    main()

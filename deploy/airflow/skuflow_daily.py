"""Airflow DAG for skuflow's daily training: the same step functions the Prefect flow calls.

generate_data -> save_and_version_data -> train_model -> check_and_register -> pipeline_summary

Put this file in Airflow's dags/ folder on a machine where skuflow is installed; configure skuflow with
SKUFLOW_* environment variables (SKUFLOW_MLFLOW_URI, SKUFLOW_TRAIN_DATA, SKUFLOW_DAG_TASK,
SKUFLOW_DAG_CONFIG, ...). Steps exchange paths and small dicts through XCom. Nothing here touches Airflow's
database or imports skuflow at parse time, so the scheduler parses the file in milliseconds.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

CONFIG = os.environ.get("SKUFLOW_DAG_CONFIG") or None


def _settings():
    from skuflow.settings import get_settings

    return get_settings()


def _task() -> str:
    """SKUFLOW_DAG_TASK, else skuflow's SKUFLOW_DEFAULT_TASK (read at run time, not parse time)."""
    return os.environ.get("SKUFLOW_DAG_TASK") or _settings().default_task


def generate_data(**_):
    from skuflow.flows import steps

    return {**steps.generate_data(_settings().train_data, _settings()), "started": time.time()}


def save_and_version_data(ti, **_):
    from skuflow.flows import steps

    raw = ti.xcom_pull(task_ids="generate_data")
    return steps.save_and_version_data(_task(), raw["raw_path"], CONFIG, _settings())


def train_model(ti, **_):
    from skuflow.flows import steps

    version = ti.xcom_pull(task_ids="save_and_version_data")
    return steps.train_model(_task(), version["dataset_path"], CONFIG, _settings())


def check_and_register(ti, **_):
    from skuflow.flows import steps

    version = ti.xcom_pull(task_ids="save_and_version_data")
    candidate = ti.xcom_pull(task_ids="train_model")
    return steps.check_and_register(_task(), version["dataset_path"], CONFIG, candidate, _settings())


def pipeline_summary(ti, **_):
    from skuflow.flows import steps

    raw = ti.xcom_pull(task_ids="generate_data")
    return steps.pipeline_summary(_task(), raw, ti.xcom_pull(task_ids="save_and_version_data"),
                                  ti.xcom_pull(task_ids="train_model"), ti.xcom_pull(task_ids="check_and_register"),
                                  raw["started"])


with DAG(
    dag_id="skuflow_daily_training",
    description="skuflow: ingest, version, train, champion gate, summary",
    schedule="0 0 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "owner": "skuflow"},
    tags=["skuflow", "mlops"],
) as dag:
    ids = ["generate_data", "save_and_version_data", "train_model", "check_and_register", "pipeline_summary"]
    fns = [generate_data, save_and_version_data, train_model, check_and_register, pipeline_summary]
    ops = [PythonOperator(task_id=i, python_callable=f) for i, f in zip(ids, fns, strict=True)]
    for upstream, downstream in zip(ops, ops[1:], strict=False):
        upstream >> downstream

"""Orchestration: pipeline steps with JSON-able inputs/outputs, wired by Prefect (and Airflow)."""

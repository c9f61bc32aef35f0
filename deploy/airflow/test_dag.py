"""Structure of the Airflow DAG, loaded by Airflow itself (run with `make test-airflow`, which builds a
separate environment: Airflow pins its own dependency versions)."""

from pathlib import Path

from airflow.models import DagBag


def test_dag_structure():
    bag = DagBag(dag_folder=str(Path(__file__).parent), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("skuflow_daily_training")
    assert dag.max_active_runs == 1 and not dag.catchup
    order = ["generate_data", "save_and_version_data", "train_model", "check_and_register", "pipeline_summary"]
    assert [t.task_id for t in dag.topological_sort()] == order
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert all(t.retries == 2 for t in dag.tasks)

-- One Postgres for the stack: MLflow's backend store (POSTGRES_DB=mlflow), Prefect's database and the
-- skuflow prediction log.
CREATE DATABASE prefect;
CREATE DATABASE skuflow;

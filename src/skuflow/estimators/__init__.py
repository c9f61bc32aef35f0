"""Custom sklearn estimators used inside task pipelines."""

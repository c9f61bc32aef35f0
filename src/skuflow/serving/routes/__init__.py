"""skuflow's own routers, one module per resource: predictions, observability (probes, drift, feedback,
metrics), admin (retraining, experiments), synthetic (a generated catalogue to try the API with). Other servers'
protocols are in ``skuflow.serving.protocols``."""

"""skuflow's own routers, one module per resource: predictions, monitoring (drift, feedback, metrics,
probes), admin (retraining, experiments), data. Other servers' protocols are in ``skuflow.serving.protocols``."""

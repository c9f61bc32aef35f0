"""Other servers' protocols, each one's parsing beside its router: MLflow's scoring server
(``/invocations``) and the Open Inference Protocol V2 (``/v2``)."""

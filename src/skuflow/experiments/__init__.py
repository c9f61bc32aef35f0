"""Online experiments between model versions: assignment, and conclusions that stay valid while watched."""

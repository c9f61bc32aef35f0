"""Hyperparameter search with cross-validation on the training rows only."""

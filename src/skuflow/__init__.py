"""skuflow: train, ship and watch e-commerce product models."""

__version__ = "0.1.0"

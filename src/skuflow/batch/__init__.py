"""Batch scoring of whole catalogues on Dask: local cluster by default, any scheduler by address."""

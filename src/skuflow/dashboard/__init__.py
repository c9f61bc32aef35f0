"""The Streamlit dashboard (``skuflow dashboard``): pages over the library functions the CLI and API use."""

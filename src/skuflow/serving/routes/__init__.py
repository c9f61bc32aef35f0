"""The API's routers, one module per resource: predictions, monitoring, admin, data."""

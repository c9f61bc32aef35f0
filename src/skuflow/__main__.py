from skuflow.cli.main import app

app()

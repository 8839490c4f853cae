"""The thin web layer: FastAPI routers and Jinja templates; every decision lives below it."""

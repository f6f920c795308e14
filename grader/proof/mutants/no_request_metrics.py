"""no-request-metrics: no metrics middleware and no /metrics route."""

from ._mutant import Edit, Mutant

MUTANT = Mutant(
    "no-request-metrics",
    "the metrics middleware and the /metrics router left out of create_app()",
    (
        Edit(
            "app/main.py",
            "    app.state.metrics = Metrics()\n    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)\n",
            "",
        ),
        Edit(
            "app/main.py",
            "(health.router, products.router, orders.router, customers.router, metrics_router)",
            "(health.router, products.router, orders.router, customers.router)",
        ),
    ),
)

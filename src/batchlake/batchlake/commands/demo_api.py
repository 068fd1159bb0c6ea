"""`batchlake demo-api`: run the deterministic demo shop API in the foreground."""

from __future__ import annotations

import typer


def demo_api(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(0, min=0, max=65535, help="TCP port; 0 picks a free one (printed at start)"),
    orders: int = typer.Option(100_000, min=0, max=50_000_000, help="number of orders"),
    customers: int = typer.Option(20_000, min=1, max=10_000_000, help="number of customers"),
    seed: int = typer.Option(42, help="data seed: same seed and sizes -> same data, byte for byte"),
    max_rps: float = typer.Option(None, min=0.1, help="answer 429 + Retry-After above this many data requests/s"),
    error_rate: float = typer.Option(0.0, min=0, max=1, help="fraction of data requests answered 500/502/503"),
    error_burst: int = typer.Option(1, min=1, max=1000, help="injected errors come in runs of this many requests"),
    slow_rate: float = typer.Option(0.0, min=0, max=1, help="fraction of data requests delayed by --slow-seconds"),
    slow_seconds: float = typer.Option(2.0, min=0, max=600, help="delay of a slow response"),
    truncate_rate: float = typer.Option(0.0, min=0, max=1, help="fraction answered 200 with the body cut in half"),
    fault_seed: int = typer.Option(0, help="seed of the fault decisions (per request number)"),
    cache_mb: int = typer.Option(256, min=0, help="memory for the LRU cache of encoded pages"),
) -> None:
    """Run the demo shop REST API (orders, customers) until Ctrl-C. Endpoints: GET /orders, /customers, /health."""
    from batchlake.demo_api.app import DemoApiOptions
    from batchlake.demo_api.server import serve

    options = DemoApiOptions(
        orders=orders,
        customers=customers,
        seed=seed,
        max_rps=max_rps,
        error_rate=error_rate,
        error_burst=error_burst,
        slow_rate=slow_rate,
        slow_seconds=slow_seconds,
        truncate_rate=truncate_rate,
        fault_seed=fault_seed,
        cache_mb=cache_mb,
    )
    serve(options, host=host, port=port)


def register(app: typer.Typer) -> None:
    app.command("demo-api")(demo_api)

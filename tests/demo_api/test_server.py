"""Starting and stopping the API: the CLI command, the subprocess helper, clear errors."""

import socket
import subprocess
import sys

import pytest
import requests
import typer
from batchlake.commands.demo_api import register
from batchlake.demo_api.app import DemoApiOptions
from batchlake.demo_api.server import DemoApiServer, options_to_args
from typer.testing import CliRunner


def test_command_is_registered_with_its_options():
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Stand-in for the batchlake root command."""

    register(app)
    result = CliRunner().invoke(app, ["demo-api", "--help"])
    assert result.exit_code == 0
    for flag in ("--port", "--orders", "--customers", "--seed", "--max-rps", "--error-rate", "--slow-rate",
                 "--slow-seconds", "--truncate-rate"):  # fmt: skip
        assert flag in result.output


def test_server_helper_starts_on_a_free_port_and_stops():
    with DemoApiServer(orders=50, customers=5) as api:
        assert api.url.startswith("http://127.0.0.1:")
        health = requests.get(f"{api.url}/health", timeout=10).json()
        assert health == {"status": "ok", "orders": 50, "customers": 5, "seed": 42, "generation": 1}
        process = api.process
    assert process.poll() is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{api.url}/health", timeout=2)


def test_busy_port_is_one_clear_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "batchlake.demo_api", "--port", str(port), "--orders", "10", "--customers", "2"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"batchlake: error: cannot listen on 127.0.0.1:{port} (Address already in use): "
        "pick another --port, or 0 for a free one"
    ]


def test_server_helper_reports_a_failed_start():
    with pytest.raises(RuntimeError, match=r"(?s)demo API exited with code 2 before listening.*--customers"):
        DemoApiServer(orders=10, customers=0).start()
    with pytest.raises(TypeError, match="unknown demo API option"):
        DemoApiServer(order=10)


def test_options_round_trip_to_flags():
    options = DemoApiOptions(orders=10, max_rps=5.0, error_rate=0.5)
    assert options_to_args(options) == ["--orders", "10", "--max-rps", "5.0", "--error-rate", "0.5"]

"""Run the demo API: in the foreground (`serve`) or as a subprocess for tests and demos (`DemoApiServer`)."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

from batchlake.demo_api.app import DemoApiOptions, create_app
from batchlake.errors import UserError

LISTENING = "demo API listening on "


class DemoApiStartError(RuntimeError):
    """The demo API subprocess did not come up; the message ends with its output."""


def serve(options: DemoApiOptions, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve until interrupted. Port 0 picks a free port; the chosen URL is printed (and flushed) once listening."""
    import uvicorn

    app = create_app(options)  # builds the dataset before the port is announced
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP, and
    # without it keep-alive requests wait ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UserError(
            f"cannot listen on {host}:{port} ({e.strerror}): pick another --port, or 0 for a free one"
        ) from None
    sock.listen(2048)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    print(f"{LISTENING}http://{shown_host}:{bound_port}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def options_to_args(options: DemoApiOptions) -> list[str]:
    """The command-line flags that reproduce `options` (only the ones that differ from the defaults)."""
    args = []
    defaults = DemoApiOptions()
    for item in dataclasses.fields(options):
        value = getattr(options, item.name)
        if value != getattr(defaults, item.name) and value is not None:
            args += [f"--{item.name.replace('_', '-')}", str(value)]
    return args


class DemoApiServer:
    """The demo API in a subprocess on a free port, for tests and `batchlake demo`.

    with DemoApiServer(orders=1000, customers=200) as api:
        requests.get(f"{api.url}/orders?page=1&per_page=100")
    """

    def __init__(self, host: str = "127.0.0.1", startup_timeout: float = 60.0, **options) -> None:
        unknown = set(options) - {f.name for f in dataclasses.fields(DemoApiOptions)}
        if unknown:
            raise TypeError(f"unknown demo API option(s): {', '.join(sorted(unknown))}")
        self.options = DemoApiOptions(**options)
        self.host = host
        self.startup_timeout = startup_timeout
        self.url: str | None = None
        self.process: subprocess.Popen | None = None
        self._stderr = None

    def start(self) -> DemoApiServer:
        cmd = [sys.executable, "-m", "batchlake.demo_api", "--host", self.host, "--port", "0"]
        cmd += options_to_args(self.options)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the subprocess, closed in stop()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True)
        deadline = time.monotonic() + self.startup_timeout
        try:
            self.url = self._read_url(deadline)
            self._wait_healthy(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _fail(self, problem: str) -> DemoApiStartError:
        output = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            output = self._stderr.read().decode(errors="replace")[-2000:]
        return DemoApiStartError(f"demo API {problem}" + (f"; its output:\n{output}" if output else ""))

    def _read_url(self, deadline: float) -> str:
        import selectors

        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
                    line = self.process.stdout.readline()
                    if line.startswith(LISTENING):
                        return line[len(LISTENING) :].strip()
                    if not line and self.process.poll() is not None:
                        raise self._fail(f"exited with code {self.process.returncode} before listening")
                elif self.process.poll() is not None:
                    raise self._fail(f"exited with code {self.process.returncode} before listening")
        raise self._fail(f"did not start listening within {self.startup_timeout:g} s")

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise self._fail(f"at {self.url} did not answer /health within {self.startup_timeout:g} s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> DemoApiServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["DemoApiServer", "DemoApiStartError", "serve"]

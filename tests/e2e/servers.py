"""Loopback servers for the browser tests (Streamlit, the OIDC provider): started in their own process group with
their output in a log, waited for until ready, stopped by their own group id. One body for every server fixture."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

__all__ = ["REPO_ROOT", "STARTUP_TIMEOUT_S", "free_port", "healthy", "serve", "stop_group", "streamlit_command",
           "studio_server_env"]

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60
POLL_S = 0.3


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str) -> bool:
    """Streamlit answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def streamlit_command(python: str, port: int, *extra: str) -> list[str]:
    """`streamlit run app.py` as a user starts it, headless, on loopback, on `port`."""
    return [python, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra]


def studio_server_env(studio_env: dict[str, Path]) -> dict[str, str]:
    """This environment with every TL Studio folder pointed into the test's temporary studio (conftest.studio_env)."""
    return dict(os.environ, TLSTUDIO_HOME=str(studio_env["home"]), TLSTUDIO_DATA_ROOT=str(studio_env["data"]),
                TLSTUDIO_RUNS_DIR=str(studio_env["runs"]), KERAS_HOME=str(studio_env["keras"]),
                TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")


def serve(command: list[str], log_path: Path, what: str, ready: Callable[[], bool], url: str,
          **popen) -> Iterator[str]:
    """Start `command` in its own process group, logging to `log_path`; yield `url` once `ready()`; then stop the
    group (a fixture body: `yield from serve(...)`). A server that exits or is not ready in time fails the test
    with the end of its log."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, **popen)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not ready():
            if process.poll() is not None:
                pytest.fail(f"{what} exited with {process.returncode}; {log_path}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"{what} not ready after {STARTUP_TIMEOUT_S} s; {log_path}:\n{_tail(log_path)}")
            time.sleep(POLL_S)
        yield url
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=15)


def _tail(log_path: Path) -> str:
    try:
        return log_path.read_text(errors="replace")[-3000:]
    except OSError:
        return "(no log)"

"""Servers that tests and benchmarks start on loopback: a free port, and the app itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answering(proc: subprocess.Popen[bytes], port: int, what: str, *, tries: int) -> subprocess.Popen[bytes]:
    """``proc`` once /health on ``port`` answers (polled every 0.1 s); killed if it never does."""
    for _ in range(tries):
        try:
            urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{what} did not start")


def serve_app(config: Path, port: int) -> subprocess.Popen[bytes]:
    """``python app.py`` on ``port`` with ``config``, returned once /health answers."""
    env = {**os.environ, "CITYBRAIN_CONFIG": str(config), "PORT": str(port),
           "CITYBRAIN_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _answering(proc, port, "the app", tries=300)


def serve_gunicorn(config: Path, port: int, log: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    """``gunicorn app:server -w workers`` on ``port`` with ``config``, its access log (the pid
    of the worker that served each request first) in ``log``; returned once /health answers."""
    env = {**os.environ, "CITYBRAIN_CONFIG": str(config), "CITYBRAIN_LOG_LEVEL": "WARNING"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:server", "-w", str(workers), "--threads", "4",
             "-b", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning",
             "--graceful-timeout", "3", "--access-logfile", "-", "--access-logformat", "%(p)s %(m)s %(U)s %(s)s"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL)
    return _answering(proc, port, "gunicorn", tries=600)

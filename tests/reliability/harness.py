"""The processes the fault suite starts and breaks: its own Redis, a TCP proxy in front of
PostgreSQL, a Celery worker and a gunicorn server, each with the test's environment.

Nothing here imports Django models: the tests own the database checks.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "reports" / "reliability.json"
REDIS_SERVER = "/usr/bin/redis-server"
QUEUE = "reliability"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Any, *, timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _stop(proc: subprocess.Popen[Any] | None, *, grace: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class RedisServer:
    """A Redis of the test's own, without persistence: a kill loses what it held, as a
    restarted cache-style Redis does."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, what=f"redis-server on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(b"FLUSHALL\r\n")
            assert s.recv(16).startswith(b"+OK")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        _stop(self.proc)


class TcpProxy:
    """127.0.0.1:port -> target, one thread pair per connection. refuse() drops every open
    connection and closes the port (new connections are refused, as by a database that is
    down); restore() opens it again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.connections = 0

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._open |= {client, upstream}
                self.connections += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(src, dst)

    def _close(self, *socks: socket.socket) -> None:
        for s in socks:
            with self._lock:
                self._open.discard(s)
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def refuse(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            open_now = list(self._open)
        self._close(*open_now)

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.refuse()


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state in ("Z", "X")


class Worker:
    """`celery worker --pool prefork --concurrency N`, as production runs it."""

    def __init__(self, env: dict[str, str], log: Path, *, concurrency: int = 1) -> None:
        self.env = env
        self.log = log
        self.concurrency = concurrency
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # time.time() of the last start

    def start(self) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "skincare_project", "worker",
                 "--pool", "prefork", "--concurrency", str(self.concurrency), "-Q", QUEUE,
                 "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        self.started_at = time.time()

    def wait_ready(self, timeout: float = 60) -> None:
        """The pool's children are up with the model loaded (worker_process_init)."""
        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.tail()
            return self.log.read_text().count("loaded in process") >= self.concurrency
        wait_for(ready, timeout=timeout, what="the worker's pool", every=0.1)

    def children(self) -> list[int]:
        assert self.proc is not None
        return _children(self.proc.pid)

    def kill_child(self) -> int:
        """SIGKILL the pool process (the one running tasks); returns its pid once gone."""
        (child, *_) = wait_for(self.children, timeout=10, what="a pool process")
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: _gone(child), timeout=10, what=f"pool process {child} to die")
        return child

    def kill_main(self) -> None:
        """SIGKILL the main process; its pool processes die with it (billiard watches its
        parent), which this checks rather than assumes."""
        assert self.proc is not None
        children = self.children()
        self.proc.kill()
        self.proc.wait()
        wait_for(lambda: all(_gone(c) for c in children), timeout=10,
                 what="the pool processes to die with their parent")

    def stop(self) -> None:
        _stop(self.proc, grace=15)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""

    def log_count(self, text: str) -> int:
        return self.log.read_text().count(text) if self.log.exists() else 0


class WebServer:
    """gunicorn serving the site, as docker-compose's web service does."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import requests

        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "skincare_project.wsgi:application",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--timeout", "60",
                 "--graceful-timeout", "5"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.tail()
            try:
                return requests.get(f"{self.url}/healthz/", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        wait_for(up, timeout=60, what="gunicorn", every=0.2)

    def stop(self) -> None:
        _stop(self.proc)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""


def record_figures(scenario: str, figures: dict[str, Any]) -> None:
    """Merge one scenario's figures into reports/reliability.json (the README's table)."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(REPORT.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        report = {}
    report.setdefault("scenarios", {})[scenario] = {
        **figures, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    report["machine"] = {"host": platform.node(), "cpus": os.cpu_count(),
                         "python": platform.python_version()}
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")

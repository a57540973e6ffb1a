"""Start and stop the servers under test: one gunicorn command line for all of them."""
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
STARTUP_TIMEOUT = 60


@dataclass
class Server:
    """A running gunicorn: its name, where it listens, and its process."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    host: str = "127.0.0.1"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(app_spec, port):
    """The same gunicorn settings for every target: 2 sync workers on 127.0.0.1."""
    return [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning", app_spec]


def server_env(database_url):
    """The environment of a server: the bench database, production settings, a throwaway secret."""
    env = dict(os.environ, DATABASE_URL=database_url, DISPATCH_ENV="production",
               SECRET_KEY=secrets.token_hex(16), PYTHONUNBUFFERED="1")
    env.pop("SQLALCHEMY_ECHO", None)
    return env


def answers(port, path):
    """True once GET path answers 200."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status == 200
    except OSError:
        return False


def wait_until_ready(server, ready_path):
    """Poll until the server answers, or fail with the tail of its log."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        if answers(server.port, ready_path):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not start; its log:\n{server.log_path.read_text()[-3000:]}")


def stop(server):
    """SIGTERM the gunicorn arbiter we started (it stops its workers); SIGKILL if it hangs."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextmanager
def serving(name, app_spec, ready_path, database_url, log_dir, env=None):
    """Run one gunicorn for the duration of the block (env: variables to set beside the usual ones)."""
    port = free_port()
    log_path = Path(log_dir) / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(gunicorn_command(app_spec, port), cwd=ROOT, env={**server_env(database_url), **(env or {})},
                                   stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log_path)
    try:
        wait_until_ready(server, ready_path)
        yield server
    finally:
        stop(server)


@contextmanager
def serving_all(specs, database_url, log_dir):
    """Run several servers at once: {name: (app_spec, ready_path)} → {name: Server}."""
    with ExitStack() as stack:
        yield {name: stack.enter_context(serving(name, app_spec, ready, database_url, log_dir))
               for name, (app_spec, ready) in specs.items()}

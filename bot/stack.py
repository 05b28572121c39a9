"""Starts the whole assistant as separate processes: Rasa server, action server
and (when present) the portal. Used by `make run` and by the end-to-end tests.

`python -m bot.stack` prepares the database (migrations, seed content when
empty) and runs until interrupted.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from bot.config import PROJECT_ROOT, VAR_DIR, get_settings

VENV_BIN = Path(sys.executable).parent
# Rasa calls the action server over pooled keep-alive connections (aiohttp keeps an
# idle connection for 15 s); Sanic closes idle ones after 5 s. Under load Rasa then
# writes into a connection the action server has just closed ("Can not write
# request body"), the action fails and the student's turn is lost (seen in
# tests/slow/test_load.py). The server must keep connections longer than the client.
ACTION_SERVER_ENV = {"SANIC_KEEP_ALIVE_TIMEOUT": "75"}


@dataclass
class StackConfig:
    rasa_port: int = 5005
    action_port: int = 5055
    portal_port: int = 8000
    database_url: Optional[str] = None
    tracker_store_url: Optional[str] = None
    lock_store_url: str = ""
    model: Path = PROJECT_ROOT / "models" / "coach.tar.gz"
    credentials: Path = PROJECT_ROOT / "credentials.yml"
    endpoints: Path = PROJECT_ROOT / "endpoints.yml"
    log_dir: Path = VAR_DIR / "logs"
    with_portal: bool = True
    extra_env: Dict[str, str] = field(default_factory=dict)
    # How the action server is launched; the stack appends `--actions actions --port N`.
    # Tests may put a wrapper module in front (e.g. one that moves the calendar).
    actions_launcher: List[str] = field(default_factory=lambda: [sys.executable, "-m", "rasa_sdk"])

    def environment(self) -> Dict[str, str]:
        settings = get_settings()
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url or settings.database_url,
                "TRACKER_STORE_URL": self.tracker_store_url or settings.tracker_store_url,
                "LOCK_STORE_URL": self.lock_store_url or settings.lock_store_url,
                "ACTION_ENDPOINT": f"http://127.0.0.1:{self.action_port}/webhook",
                "RASA_URL": f"http://127.0.0.1:{self.rasa_port}",
                "PORTAL_PORT": str(self.portal_port),
                "PORTAL_ORIGINS": f"http://localhost:{self.portal_port},http://127.0.0.1:{self.portal_port}",
                "PYTHONPATH": str(PROJECT_ROOT),
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONUNBUFFERED": "1",
                # Sanic (Rasa, actions) refuses larger request bodies with 413 (its default: 100 MB)
                "SANIC_REQUEST_MAX_SIZE": str(settings.rasa_request_max_bytes),
            }
        )
        env.update(self.extra_env)
        return env


def portal_available() -> bool:
    return importlib.util.find_spec("bot.portal.app") is not None


class Stack:
    """The processes of one deployment. Several Rasa replicas can run side by side
    (`start_rasa(name, port)`), each under its own name, log file and port."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: Dict[str, subprocess.Popen] = {}
        self.rasa_ports: Dict[str, int] = {}
        self._starters: Dict[str, Callable[[], None]] = {}

    def _spawn(self, name: str, command: List[str], env: Optional[Dict[str, str]] = None) -> None:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.config.log_dir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env={**self.config.environment(), **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_actions(self) -> None:
        self._starters["actions"] = self.start_actions
        self._spawn(
            "actions",
            [*self.config.actions_launcher, "--actions", "actions", "--port", str(self.config.action_port)],
            {name: value for name, value in ACTION_SERVER_ENV.items() if name not in os.environ},
        )

    def start_rasa(self, name: str = "rasa", port: Optional[int] = None) -> None:
        port = port or self.config.rasa_port
        self.rasa_ports[name] = port
        self._starters[name] = lambda: self.start_rasa(name, port)
        self._spawn(
            name,
            [
                str(VENV_BIN / "rasa"),
                "run",
                "--model",
                str(self.config.model),
                "--endpoints",
                str(self.config.endpoints),
                "--credentials",
                str(self.config.credentials),
                "--port",
                str(port),
                # No --cors: the chat channel checks origins itself (PORTAL_ORIGINS);
                # Sanic's CORS would add a second Access-Control-Allow-Origin header.
            ],
        )

    def start_portal(self) -> None:
        self._starters["portal"] = self.start_portal
        self._spawn("portal", [sys.executable, "-m", "bot.portal", "--port", str(self.config.portal_port)])

    def start(self, timeout: float = 180) -> None:
        self.start_actions()
        self.start_rasa()
        if self.config.with_portal and portal_available():
            self.start_portal()
        self.wait_ready(timeout)

    def urls(self) -> Dict[str, str]:
        urls = {"actions": f"http://127.0.0.1:{self.config.action_port}/health"}
        for name, port in (self.rasa_ports or {"rasa": self.config.rasa_port}).items():
            urls[name] = f"http://127.0.0.1:{port}/"
        if "portal" in self.processes:
            urls["portal"] = f"http://127.0.0.1:{self.config.portal_port}/health"
        return urls

    def wait_ready(self, timeout: float = 180, names: Optional[List[str]] = None) -> None:
        deadline = time.monotonic() + timeout
        pending = {n: u for n, u in self.urls().items() if names is None or n in names}
        while pending:
            for name, url in list(pending.items()):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}; see {self.config.log_dir}/{name}.log")
                if _responds(url):
                    del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}")
            time.sleep(0.5)

    def stop_process(self, name: str, timeout: float = 15) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)

    def kill_process(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(15)

    def restart_process(self, name: str, kill: bool = False, timeout: float = 180) -> None:
        """Stops one process (SIGKILL when `kill`, else SIGTERM), starts it again
        the way it was first started and waits until it answers."""
        if name not in self._starters:
            raise KeyError(f"{name} was never started by this stack")
        (self.kill_process if kill else self.stop_process)(name)
        self._starters[name]()
        self.wait_ready(timeout, [name])

    def log_text(self, name: str) -> str:
        path = self.config.log_dir / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def prepare_database(database_url: Optional[str] = None) -> None:
    from bot import content, migrate
    from bot.cli import SEED_CONTENT_DIR

    migrate.upgrade(database_url)
    if content.is_empty():
        documents = []
        for path in sorted(SEED_CONTENT_DIR.glob("ask_*.yml")):
            documents.extend(content.load_yaml_documents(path))
        content.import_documents(documents, author="seed")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run Rasa, the action server and the portal.")
    parser.add_argument("--no-portal", action="store_true")
    args = parser.parse_args(argv)
    prepare_database()
    stack = Stack(StackConfig(with_portal=not args.no_portal))
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("Starting Rasa (:5005), actions (:5055) and the portal (:8000)... logs in var/logs/", flush=True)
    try:
        stack.start()
        print("Ready. Rasa REST: POST http://localhost:5005/webhooks/rest/webhook; portal: http://localhost:8000", flush=True)
        while not stopping:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    print(f"{name} stopped unexpectedly (exit {process.returncode}); see var/logs/{name}.log", flush=True)
                    stopping = True
            time.sleep(1)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

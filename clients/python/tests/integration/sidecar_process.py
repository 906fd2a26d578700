"""A `whippet sidecar` process for the integration tests, and small helpers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import waiting

import pytest

from whippet_client import Admin, Producer, ProducerRecord, TopicSpec, wait_until_ready

CLI = os.environ.get("WHIPPET_CLI", "")
BROKERS = os.environ.get("WHIPPET_TEST_BROKERS", "")
START_TIMEOUT_S = 90.0  # a sanitizer build connecting to the broker can be slow
_LISTENING = re.compile(r"^sidecar: listening on (\S+):(\d+)$")


class Sidecar:
    """A `whippet sidecar` process: start, SIGKILL, restart on the same port, stop."""

    def __init__(self, log_dir: Path, name: str, extra_args: tuple[str, ...] = ()) -> None:
        self.log_dir = log_dir
        self.name = name
        self.extra_args = extra_args
        self.port = 0
        self.metrics_url = ""
        self.process: Optional[subprocess.Popen] = None
        self.starts = 0
        self._stdout: list[str] = []

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, port: int = 0, timeout_s: float = START_TIMEOUT_S) -> None:
        """Starts it (on ``port``; 0: any free port) and waits for its listening line and SERVING."""
        if not Path(CLI).is_file():
            pytest.fail(f"WHIPPET_CLI={CLI!r} is not a file: build the whippet CLI first")
        self.starts += 1
        log_path = self.log_dir / f"{self.name}-{self.starts}.stderr.log"
        self._stdout = []
        # A short session timeout: after a SIGKILL the group moves the dead
        # sidecar's partitions on within seconds, not the default 45 s.
        config_path = self.log_dir / f"{self.name}.yaml"
        config_path.write_text("consumer: { session_timeout_ms: 6000, commit_interval_ms: 200 }\n")
        arguments = [
            CLI,
            "--brokers",
            BROKERS,
            "--config",
            str(config_path),
            "sidecar",
            "--listen",
            f"127.0.0.1:{port}",
            "--metrics-port",
            "0",
            *self.extra_args,
        ]
        deadline = time.monotonic() + timeout_s
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                arguments, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1
            )
        listening = threading.Event()
        process = self.process

        def read_stdout() -> None:
            assert process.stdout is not None
            for line in process.stdout:  # drained to the end, so the pipe never fills
                line = line.rstrip("\n")
                self._stdout.append(line)
                match = _LISTENING.match(line)
                if match:
                    self.port = int(match.group(2))
                    listening.set()
                elif line.startswith("sidecar: metrics on "):
                    self.metrics_url = line.removeprefix("sidecar: metrics on ")

        threading.Thread(target=read_stdout, name=f"{self.name}-stdout", daemon=True).start()
        while not listening.wait(0.1):
            if process.poll() is not None:
                pytest.fail(f"the sidecar exited with {process.returncode} before listening\n{self.output()}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(
                    f"the sidecar did not print its listening line within {timeout_s} s\n{self.output()}"
                )
        assert port == 0 or self.port == port, f"asked for port {port}, got {self.port}"
        wait_until_ready(self.target, timeout_s=max(1.0, deadline - time.monotonic()))

    def restart(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Starts it again on the port it had, retrying while the port is still taken."""
        deadline = time.monotonic() + timeout_s
        port = self.port
        while True:
            try:
                self.start(port=port, timeout_s=max(5.0, deadline - time.monotonic()))
                return
            except pytest.fail.Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def kill(self) -> None:
        """SIGKILL: no drain, no commit, streams cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM (the sidecar drains), then SIGKILL if it takes longer than ``timeout_s``."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self, lines: int = 60) -> str:
        """Its stdout and the tail of its stderr, for failure messages."""
        log_path = self.log_dir / f"{self.name}-{self.starts}.stderr.log"
        stderr = log_path.read_text(errors="replace").splitlines()[-lines:] if log_path.exists() else []
        return "stdout:\n" + "\n".join(self._stdout) + "\nstderr (tail):\n" + "\n".join(stderr)


def create_topic(admin: Admin, name: str, partitions: int = 1) -> str:
    admin.create_topics([TopicSpec(name, partitions, 1)])
    return name


def produce_all(producer: Producer, records: list[ProducerRecord], timeout_s: float = 120.0) -> None:
    """Sends the records and fails the test if any of them was not stored."""
    results = producer.send_many(records, timeout_s=timeout_s)
    failures = [(i, r) for i, r in enumerate(results) if not hasattr(r, "offset")]
    assert not failures, f"{len(failures)} records were not stored, e.g. {failures[:3]}"


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.1) -> object:
    return waiting.wait_for(predicate, timeout_s, what, interval_s)

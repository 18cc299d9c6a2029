"""Run a step's command as a child process: logs to files, stdout lines to a watcher, stoppable
the way SageMaker stops a job (SIGTERM, then SIGKILL after a grace period), and its peak memory.

Peak memory is the kernel's high-water mark of the process's resident set: VmHWM in
/proc/<pid>/status, sampled while it runs (every 0.1 s at most, so growth in its last moments can
be missed), and wait4's ru_maxrss when it is reaped. The latter is exact but also counts the
memory of this process at the time of the spawn (the child execs from our address space), so it
is believed only when it exceeds what this process had then.
"""

from __future__ import annotations

import collections
import contextlib
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

REASON_LIMIT = 1024  # SageMaker's FailureReason is at most 1024 characters


@dataclass
class ProcessResult:
    returncode: int
    seconds: float
    stdout_log: Path
    stderr_log: Path
    stderr_tail: list[str]
    stopped: str | None  # why we stopped it: "interrupted", "timeout", or None
    peak_memory_mb: float | None = None  # peak resident memory of the process (and its reaped children)

    @property
    def killed_by(self) -> str | None:
        """The signal that ended the process (e.g. SIGKILL), when one did."""
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"


class JobProcess:
    """One attempt of a job's command."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log_dir: Path, label: str = "job"):
        self.argv = argv
        self.env = env
        self.cwd = Path(cwd)
        self.stdout_log = Path(log_dir) / f"{label}.stdout.log"
        self.stderr_log = Path(log_dir) / f"{label}.stderr.log"
        self._process: subprocess.Popen[str] | None = None
        self._stop_reason: str | None = None
        self._stop_requested_at: float | None = None
        self._peak_memory_mb: float | None = None
        self._own_peak_mb = 0.0  # this process's high-water mark when the child was spawned
        self._lock = threading.Lock()

    def request_stop(self, reason: str) -> None:
        """Send SIGTERM now; `run` sends SIGKILL if the process outlives the grace period."""
        with self._lock:
            if self._stop_reason is not None or self._process is None:
                return
            self._stop_reason = reason
            self._stop_requested_at = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(signal.SIGTERM)  # a no-op once reaped (returncode set)

    def kill_now(self, reason: str) -> None:
        """SIGKILL now, without a grace period: the process dies as on a lost instance or the OOM killer."""
        with self._lock:
            if self._stop_reason is not None or self._process is None:
                return
            self._stop_reason = reason
            self._process.kill()  # a no-op once reaped (returncode set)

    def run(self, on_stdout: Callable[[str], None] | None = None, timeout: float | None = None,
            grace_seconds: float = 5.0) -> ProcessResult:
        started = time.monotonic()
        tail: collections.deque[str] = collections.deque(maxlen=20)
        self.stdout_log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.stdout_log, "w") as out_file, open(self.stderr_log, "w") as err_file:
            self._own_peak_mb = _max_rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            try:
                process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                           errors="replace", bufsize=1)
            except OSError as exc:
                err_file.write(f"cannot start {self.argv[0]}: {exc}\n")
                return ProcessResult(127, 0.0, self.stdout_log, self.stderr_log,
                                     [f"cannot start {self.argv[0]}: {exc.strerror}"], None)
            with self._lock:
                self._process = process
            readers = [threading.Thread(target=_pump_stdout, args=(process, out_file, err_file, on_stdout),
                                        daemon=True),
                       threading.Thread(target=_pump_stderr, args=(process, err_file, tail), daemon=True)]
            for reader in readers:
                reader.start()
            try:
                self._supervise(process, started, timeout, grace_seconds)
            except BaseException:  # Ctrl-C or a bug here: never leave the child behind
                process.kill()
                process.wait()
                raise
            for reader in readers:
                reader.join()
        return ProcessResult(process.returncode, time.monotonic() - started, self.stdout_log, self.stderr_log,
                             list(tail), self._stop_reason, self._peak_memory_mb)

    def _reaped(self, process: subprocess.Popen[str]) -> bool:
        """Reap the process if it has exited, keeping its exit code (and peak memory, see the module doc);
        else sample its peak. Popen reaps it itself when a signal is sent after the exit (its poll())."""
        with self._lock:
            if process.returncode is None:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if not pid:
                    self._sample_peak(process.pid)
                    return False
                process.returncode = os.waitstatus_to_exitcode(status)
                reaped = _max_rss_mb(usage.ru_maxrss)
                if reaped > self._own_peak_mb * 1.05:
                    self._peak_memory_mb = max(self._peak_memory_mb or 0.0, reaped)
            return True

    def _sample_peak(self, pid: int) -> None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:  # not Linux, or gone
            return
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self._peak_memory_mb = max(self._peak_memory_mb or 0.0, int(line.split()[1]) / 1024)
                return

    def _supervise(self, process: subprocess.Popen[str], started: float, timeout: float | None,
                   grace_seconds: float) -> None:
        """Wait for the process; stop it past `timeout`, kill it when a stop outlives the grace period."""
        pause = 0.001
        while True:
            if self._reaped(process):
                return
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
            now = time.monotonic()
            if timeout is not None and now - started > timeout and self._stop_reason is None:
                self.request_stop("timeout")
            if self._stop_requested_at is not None and now - self._stop_requested_at > grace_seconds:
                process.kill()


def _max_rss_mb(value: int) -> float:
    """ru_maxrss in MB: kilobytes on Linux, bytes on macOS."""
    return value / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _pump_stdout(process: subprocess.Popen[str], out_file: TextIO, err_file: TextIO,
                 on_stdout: Callable[[str], None] | None) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        out_file.write(line)
        if on_stdout is not None:
            try:
                on_stdout(line.rstrip("\n"))
            except Exception as exc:  # a watcher bug must not hang the job
                err_file.write(f"[local engine] stdout watcher failed: {exc!r}\n")
    out_file.flush()


def _pump_stderr(process: subprocess.Popen[str], err_file: TextIO, tail: collections.deque[str]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        err_file.write(line)
        if line.strip():
            tail.append(line.rstrip("\n"))
    err_file.flush()


def failure_reason(result: ProcessResult, failure_file: Path, max_runtime: object = None) -> str:
    """What SageMaker would show as FailureReason: the job's failure file, else its last error line."""
    if result.stopped == "timeout":
        return f"the job ran longer than MaxRuntimeInSeconds ({max_runtime} s) and was stopped"
    reason = ""
    try:
        if failure_file.is_file():
            reason = " ".join(failure_file.read_text(errors="replace").split())
    except OSError:
        pass
    if not reason:
        lines = result.stderr_tail
        errors = [line for line in lines if line.startswith("error:")]
        reason = (errors or lines or [""])[-1].strip()
        reason = reason.removeprefix("error:").strip()
    if not reason:
        reason = f"the process exited with code {result.returncode} and no error message"
    return reason[:REASON_LIMIT]

"""Start / stop a bschub process for the integration tests (and the benches in bench/).

The binary comes from the BSCHUB environment variable (a suite run through main() also
accepts it as its first argument), else <repo>/build/bschub; bschub-load likewise from
BSCHUB_LOAD. Only loopback addresses are used. Every wait here is bounded.
"""

import asyncio
import collections
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import unittest
from typing import Callable, List, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DEFAULT_BINARY = os.path.join(REPO, "build", "bschub")
DEFAULT_LOAD_BINARY = os.path.join(REPO, "build", "bschub-load")

LISTEN_RE = re.compile(r"^bschub listening on (wss?)://(\[[^\]]*\]|[^:/\s]+):(\d+)")
METRICS_RE = re.compile(r"^bschub metrics on http://(\[[^\]]*\]|[^:/\s]+):(\d+)")

_live: List["HubProcess"] = []


def find_binary() -> str:
    path = os.environ.get("BSCHUB") or DEFAULT_BINARY
    return os.path.abspath(path)


def load_binary() -> str:
    """bschub-load: BSCHUB_LOAD, else <repo>/build/bschub-load."""
    return os.path.abspath(os.environ.get("BSCHUB_LOAD") or DEFAULT_LOAD_BINARY)


def require_hub_and_load() -> None:
    """Raises with the variable to set unless bschub and bschub-load are executables."""
    for path, var in ((find_binary(), "BSCHUB"), (load_binary(), "BSCHUB_LOAD")):
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise RuntimeError(f"binary not found at {path}; set {var}=/path/to/it")


def ctl_binary() -> str:
    """bschub-ctl: BSCHUB_CTL, else next to the hub binary."""
    path = os.environ.get("BSCHUB_CTL") or os.path.join(os.path.dirname(find_binary()),
                                                        "bschub-ctl")
    return os.path.abspath(path)


class HubStartError(RuntimeError):
    pass


class HubProcess:
    """One bschub process on HOST:0 (the port it picked is read from its stdout).

    cert, key, ca: the TLS files (None: not passed, for a --no-tls hub). shutdown_timeout:
    --shutdown-timeout unless extra_args has one (None: the hub's default). For the
    benches: wrapper is put in front of the command (taskset -c 0), stderr_path sends
    stderr to that file instead of collecting it here (stderr_lines() reads the file),
    on_stderr is called with each collected stderr line as it arrives (from a reader
    thread), preexec_fn goes to subprocess.Popen. port: listen on this port instead of an
    ephemeral one (a hub restarted where its nodes expect it)."""

    def __init__(self, binary: str, cert: Optional[str], key: Optional[str],
                 ca: Optional[str], vmac: Optional[str] = None, uuid: Optional[str] = None,
                 tls: bool = True, log_level: str = "debug",
                 extra_args: Sequence[str] = (), host: str = "127.0.0.1",
                 metrics: bool = False, shutdown_timeout: Optional[str] = "2",
                 wrapper: Sequence[str] = (),
                 stderr_path: Optional[str] = None,
                 on_stderr: Optional[Callable[[str], None]] = None,
                 preexec_fn: Optional[Callable[[], None]] = None, port: int = 0):
        self.binary = binary
        self.host = host
        self.tls = tls
        self.argv = [*wrapper, binary, "--listen", f"{host}:{port}"]
        for flag, path in (("--cert", cert), ("--key", key), ("--ca", ca)):
            if path is not None:
                self.argv += [flag, path]
        if vmac is not None:
            self.argv += ["--vmac", vmac]
        if uuid is not None:
            self.argv += ["--uuid", uuid]
        if not tls:
            self.argv.append("--no-tls")
        if log_level:
            self.argv += ["--log-level", log_level]
        # BSCHUB_WORKERS runs every suite against a sharded hub (meson runs it with 1 and 2).
        if os.environ.get("BSCHUB_WORKERS") and "--workers" not in extra_args:
            self.argv += ["--workers", os.environ["BSCHUB_WORKERS"]]
        # Nodes that never answer the shutdown Disconnect-Request would otherwise hold each
        # stop for the default 5 s, the whole stop() budget.
        if shutdown_timeout is not None and "--shutdown-timeout" not in extra_args:
            self.argv += ["--shutdown-timeout", shutdown_timeout]
        # metrics=True: the ops listener on an ephemeral loopback port (see metrics_port).
        if metrics and "--metrics" not in extra_args:
            self.argv += ["--metrics", "127.0.0.1:0"]
        self.argv += list(extra_args)
        self.stderr_path = stderr_path
        self.on_stderr = on_stderr
        self.preexec_fn = preexec_fn
        self.metrics_port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        self.scheme: Optional[str] = None
        self.listen_line: Optional[str] = None
        self._stderr: List[str] = []
        self._stdout: List[str] = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._threads: List[threading.Thread] = []
        self.returncode: Optional[int] = None

    # -- start ------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> "HubProcess":
        if not os.path.isfile(self.binary) or not os.access(self.binary, os.X_OK):
            raise HubStartError(f"bschub binary not found or not executable: {self.binary} "
                                f"(set BSCHUB=/path/to/bschub)")
        if self.stderr_path is not None:
            with open(self.stderr_path, "w") as err:
                self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=err, text=True,
                                             errors="replace", bufsize=1,
                                             preexec_fn=self.preexec_fn)
        else:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, errors="replace", bufsize=1,
                                         preexec_fn=self.preexec_fn)
        _live.append(self)
        for stream, sink in ((self.proc.stdout, self._stdout), (self.proc.stderr, self._stderr)):
            if stream is None:
                continue
            t = threading.Thread(target=self._pump, args=(stream, sink), daemon=True)
            t.start()
            self._threads.append(t)
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.listen_line is None:
                if self.proc.poll() is not None and self._pumps_done():
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.1))
        if self.listen_line is None:
            rc = self.proc.poll()
            self._force_kill()
            raise HubStartError(
                f"bschub did not print 'bschub listening on ...' within {timeout} s "
                f"(exit code {rc}).\nargv: {' '.join(self.argv)}\nstdout:\n"
                + "".join(self._stdout) + "stderr (tail):\n" + self.stderr_tail(40))
        m = LISTEN_RE.match(self.listen_line)
        self.scheme, self.port = m.group(1), int(m.group(3))
        with self._lock:
            for line in self._stdout:  # printed before the listening line
                mm = METRICS_RE.match(line)
                if mm:
                    self.metrics_port = int(mm.group(2))
        want = "wss" if self.tls else "ws"
        if self.scheme != want:
            self.stop(check=False)
            raise HubStartError(f"listening line announces {self.scheme}://, expected {want}://:"
                                f" {self.listen_line!r}")
        if not 0 < self.port < 65536:
            self.stop(check=False)
            raise HubStartError(f"bad port in {self.listen_line!r}")
        return self

    def _pumps_done(self) -> bool:
        return all(not t.is_alive() for t in self._threads)

    def _pump(self, stream, sink: List[str]) -> None:
        try:
            for line in stream:
                with self._cond:
                    sink.append(line)
                    if (sink is self._stdout and self.listen_line is None
                            and LISTEN_RE.match(line)):
                        self.listen_line = line.rstrip("\n")
                    self._cond.notify_all()
                if sink is self._stderr and self.on_stderr is not None:
                    self.on_stderr(line)
        except (ValueError, OSError):
            pass
        finally:
            with self._cond:
                self._cond.notify_all()

    # -- accessors ----------------------------------------------------------------------

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def address(self):
        return (self.host, self.port)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_lines(self) -> List[str]:
        if self.stderr_path is not None:
            with open(self.stderr_path, errors="replace") as f:
                return f.readlines()
        with self._lock:
            return list(self._stderr)

    def stderr_tail(self, n: int = 30) -> str:
        return "".join(self.stderr_lines()[-n:])

    def mark(self) -> int:
        """Index to pass as `since` to wait_for_log()."""
        return len(self.stderr_lines())

    def wait_for_log(self, pattern: str, since: int = 0, timeout: float = 3.0,
                     predicate=None) -> Optional[str]:
        """First stderr line at index >= since that matches the regex (and predicate)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stderr_lines()[since:]:
                if rx.search(line) and (predicate is None or predicate(line)):
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with self._cond:
                self._cond.wait(min(left, 0.05))

    def logs_since(self, since: int, pattern: str) -> List[str]:
        """Matching lines read so far. The hub writes a line before the socket event a test
        sees, but our reader thread may not have it yet: to count lines, use wait_for_logs."""
        rx = re.compile(pattern)
        return [ln for ln in self.stderr_lines()[since:] if rx.search(ln)]

    def wait_for_logs(self, pattern: str, count: int, since: int = 0,
                      timeout: float = 3.0) -> List[str]:
        """Matching lines at index >= since, once there are `count` (or at the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.logs_since(since, pattern)
            left = deadline - time.monotonic()
            if len(lines) >= count or left <= 0:
                return lines
            with self._cond:
                self._cond.wait(min(left, 0.05))

    # -- stop ---------------------------------------------------------------------------

    def send_signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 5.0) -> Optional[int]:
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self._threads:
            t.join(timeout=2.0)
        self._close_pipes()
        if self in _live:
            _live.remove(self)
        return self.returncode

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0,
             check: bool = True) -> Optional[int]:
        """Signal the hub and wait for it. With check=True raise AssertionError unless it
        exits 0 within `timeout` seconds (it is then killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            stacks = self.thread_stacks()
            self._force_kill()
            if check:
                raise AssertionError(
                    f"bschub did not exit within {timeout} s of signal {sig}; killed.\n"
                    f"stderr tail:\n{self.stderr_tail()}\nthreads:\n{stacks}")
            return None
        if check and rc != 0:
            raise AssertionError(f"bschub exited with {rc} after signal {sig} (expected 0).\n"
                                 f"stderr tail:\n{self.stderr_tail()}")
        return rc

    def thread_stacks(self, max_lines: int = 80) -> str:
        """Every thread's stack of the live hub (gdb, if installed), for a failure message:
        a hang says little without them."""
        if not self.alive() or shutil.which("gdb") is None:
            return "(no gdb or no process)"
        try:
            r = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-nx",
                                "-ex", "thread apply all bt"],
                               capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return "(gdb timed out)"
        frames = [ln for ln in r.stdout.splitlines() if ln.startswith(("#", "Thread "))]
        return "\n".join(frames[:max_lines]) or r.stderr[-2000:]

    def _close_pipes(self) -> None:
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None and not any(t.is_alive() for t in self._threads):
                try:
                    stream.close()
                except OSError:
                    pass

    def _force_kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None and self.proc.poll() is not None:
            for t in self._threads:
                t.join(timeout=2.0)
            self._close_pipes()
        if self in _live:
            _live.remove(self)


SANITIZER_TEXT = ("AddressSanitizer", "ThreadSanitizer", "LeakSanitizer",
                  "UndefinedBehaviorSanitizer", "runtime error")


def sanitizer_lines(hub: HubProcess) -> List[str]:
    return [ln for ln in hub.stderr_lines() if any(s in ln for s in SANITIZER_TEXT)]


def stopped_counters(hub: HubProcess, required: bool = True):
    """Counters of the hub's final `event=stopped` line, as numbers (absent keys are 0). No
    such line: AssertionError, or no counters at all with required=False."""
    lines = [ln for ln in hub.stderr_lines() if "event=stopped" in ln]
    if not lines:
        if not required:
            return collections.defaultdict(int)
        raise AssertionError("no event=stopped line in hub stderr; tail:\n" + hub.stderr_tail())
    tail = lines[-1].split("event=stopped", 1)[1]
    return collections.defaultdict(int, {k: int(v) for k, v in
                                         re.findall(r"(\w+)=(\d+)", tail)})


def stop_and_count(hub: HubProcess):
    """Stops the hub (SIGTERM, exit 0 checked) and returns its event=stopped counters."""
    hub.stop()
    return stopped_counters(hub)


def node_tls_context(cert: str, key: str, ca: str) -> ssl.SSLContext:
    """A node's TLS 1.3 client context in Python's ssl (OpenSSL, so its suites in OpenSSL's
    order: AES-256 first): its certificate, the site CA, ALPN http/1.1, no name checks
    (BACnet/SC does none, Std AB.7.4)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class HubTestCase(unittest.IsolatedAsyncioTestCase):
    """One hub per TestCase class, made by the subclass's make_hub(). At the end of the class
    the hub gets SIGTERM and must exit 0 within 5 s with no sanitizer report in its stderr;
    then check_stopped_counters() sees its totals. A test that stops the hub itself sets
    self.hub_stopped = True."""

    hub: Optional[HubProcess] = None

    @classmethod
    def make_hub(cls) -> HubProcess:
        raise NotImplementedError("a HubTestCase subclass must define make_hub()")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hub = cls.make_hub()

    @classmethod
    def tearDownClass(cls):
        hub, cls.hub = cls.hub, None
        try:
            if hub is not None:
                try:
                    hub.stop(signal.SIGTERM, timeout=5.0, check=True)
                finally:
                    if os.environ.get("BSCHUB_TEST_SHOW_LOGS"):
                        sys.stderr.write(f"\n--- bschub stderr for {cls.__name__} ---\n"
                                         + "".join(hub.stderr_lines()) + "--- end ---\n")
                bad = sanitizer_lines(hub)
                if bad:
                    raise AssertionError("sanitizer report in hub stderr:\n" + "".join(bad[:20]))
                cls.check_stopped_counters(stopped_counters(hub, required=False))
        finally:
            super().tearDownClass()

    @classmethod
    def check_stopped_counters(cls, counters) -> None:
        """Called at the end of the class, once the hub has exited cleanly, with the
        counters of its event=stopped line (absent keys are 0). A subclass asserts on
        them here."""

    async def asyncSetUp(self):
        self.hub_stopped = False
        self.assertTrue(self.hub.alive(), "bschub is not running")

    def tearDown(self):
        if not self.hub_stopped and not self.hub.alive():
            self.fail(f"bschub died during this test (rc={self.hub.proc.poll()}); stderr tail:\n"
                      + self.hub.stderr_tail())

    async def all_silent(self, *nodes, timeout=0.3, what="nothing"):
        await asyncio.gather(*(n.assert_silent(timeout, what) for n in nodes))

    async def wait_log(self, pattern, since, timeout=3.0, predicate=None):
        """Like HubProcess.wait_for_log, without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.hub.wait_for_log(pattern, since=since, timeout=0, predicate=predicate)
            if line is not None or time.monotonic() >= deadline:
                return line
            await asyncio.sleep(0.02)

    async def wait_logs(self, pattern, count, since, timeout=3.0):
        """Like HubProcess.wait_for_logs, without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.hub.logs_since(since, pattern)
            if len(lines) >= count or time.monotonic() >= deadline:
                return lines
            await asyncio.sleep(0.02)


def main() -> None:
    """unittest.main() for a suite file; `script.py [BSCHUB [BSCHUB_LOAD]] [unittest args]`
    runs it against the binaries given instead of the environment's."""
    args = [a for a in sys.argv[1:] if not a.startswith("-") and os.path.isfile(a)]
    for name, path in zip(("BSCHUB", "BSCHUB_LOAD"), args[:2]):
        os.environ[name] = os.path.abspath(path)
        sys.argv.remove(path)
    sys.stderr.write(f"bschub under test: {find_binary()}\n")
    unittest.main(module="__main__")


def kill_all_started() -> None:
    """Kill hubs this module started that are still running (used at exit)."""
    for h in list(_live):
        h._force_kill()


import atexit  # noqa: E402

atexit.register(kill_all_started)

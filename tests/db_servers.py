"""Throw-away database servers for the test run, from Debian's packages:
each starts in a temporary folder on a free loopback port and is stopped
at the end of the session.

- PostgreSQL: initdb + pg_ctl; as root the server runs as `postgres`, since
  it refuses root.
- MariaDB: mariadb-install-db + mariadbd with grant tables skipped
  (loopback only, test data only)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


class PostgresServer:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        self.dir = tempfile.mkdtemp(prefix="zhibu-pg-")
        self.port = free_port()

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def _run(self, *cmd: str) -> None:
        if os.geteuid() == 0:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self, *settings: str) -> str:
        """`settings`: extra `name=value` server settings (they win over the
        defaults here, e.g. "fsync=on" for a benchmark)."""
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = os.path.join(self.dir, "data")
        self._run(self.initdb, "-D", data, "-U", "zhibu", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        opts += "".join(f" -c {setting}" for setting in settings)
        self._run(self.pg_ctl, "-D", data, "-o", opts, "-w", "-l", os.path.join(self.dir, "log"), "start")
        time.sleep(0.2)
        return f"postgresql+psycopg://zhibu@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", os.path.join(self.dir, "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class MariaDBServer:
    def __init__(self) -> None:
        self.mariadbd = shutil.which("mariadbd") or shutil.which("mysqld", path="/usr/sbin:/usr/bin")
        self.install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        self.dir = tempfile.mkdtemp(prefix="zhibu-mariadb-")
        self.port, self.process = free_port(), None

    @property
    def available(self) -> bool:
        return bool(self.mariadbd and self.install)

    def start(self) -> str:
        data, user = os.path.join(self.dir, "data"), "root" if os.geteuid() == 0 else os.environ.get("USER", "")
        subprocess.run([self.install, "--no-defaults", f"--datadir={data}", f"--user={user}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.process = subprocess.Popen(
            [self.mariadbd, "--no-defaults", f"--datadir={data}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.dir}/sock", f"--pid-file={self.dir}/pid",
             f"--log-error={self.dir}/log", f"--user={user}", "--skip-grant-tables",
             "--character-set-server=utf8mb4", "--innodb-flush-log-at-trx-commit=2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return f"mysql+pymysql://root@127.0.0.1:{self.port}/mysql"
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"MariaDB did not start; see {self.dir}/log")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)

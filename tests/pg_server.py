"""A throw-away PostgreSQL server for the test run (Debian's packages):
initdb into a temp folder, start on a free loopback port, stop at the end.
As root, the server runs as the `postgres` user, since it refuses root."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        self.dir = tempfile.mkdtemp(prefix="zhibu-pg-")
        self.port = _free_port()

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def _run(self, *cmd: str) -> None:
        if os.geteuid() == 0:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = os.path.join(self.dir, "data")
        self._run(self.initdb, "-D", data, "-U", "zhibu", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.pg_ctl, "-D", data, "-o", opts, "-w", "-l", os.path.join(self.dir, "log"), "start")
        time.sleep(0.2)
        return f"postgresql+psycopg://zhibu@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", os.path.join(self.dir, "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

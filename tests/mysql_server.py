"""A throw-away MariaDB server for the test run (Debian's mariadb-server):
a fresh data folder, a free loopback port, grant tables skipped (loopback
only, test data only), stopped at the end."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MariaDBServer:
    def __init__(self) -> None:
        self.mariadbd = shutil.which("mariadbd") or shutil.which("mysqld", path="/usr/sbin:/usr/bin")
        self.install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        self.dir = tempfile.mkdtemp(prefix="zhibu-mariadb-")
        self.port, self.process = _free_port(), None

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

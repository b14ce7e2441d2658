"""The deployment files in deploy/, exercised as far as this machine allows:
the systemd units' commands run (against a temporary SQLite database, with
the units' own environment) and `systemd-analyze verify` accepts them; the
nginx site passes `nginx -t` and, in front of a real `serve`, refuses big
bodies, keeps /metrics to its allow list and passes its request id on; the
Dockerfile's and the compose file's commands are the README's. Docker
itself cannot run here (no engine)."""
from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.config import load_config
from tests.conftest import ROOT
from tests.db_servers import free_port

DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED_PYTHON = "/opt/zhibu/.venv/bin/python"


# ------------------------------------------------------------------ systemd

def unit(name: str) -> dict[str, list[str]]:
    """A unit file's [Service]/[Unit] keys, each with its values in order (keys repeat)."""
    keys: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def unit_environment(keys: dict[str, list[str]]) -> dict[str, str]:
    env = {}
    for value in keys.get("Environment", []):
        for pair in shlex.split(value):
            name, _, v = pair.partition("=")
            env[name] = v
    return env


def command(line: str) -> list[str]:
    """An Exec line as it would run here: this interpreter for the installed one."""
    argv = shlex.split(line.lstrip("-@+!:"))
    assert argv[0] == INSTALLED_PYTHON, argv
    return [sys.executable, *argv[1:]]


@pytest.fixture
def unit_run(tmp_path):
    """How a unit's command runs: its Environment (the code and config paths
    pointed at this checkout and a temporary config), in a temporary state
    folder standing for /var/lib/zhibu."""
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": f"sqlite:///{state}/zhibu.db"},
                                      "server": {"port": port, "workers": 1}}), "utf-8")

    def env_of(keys: dict[str, list[str]]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")}
        env.update(unit_environment(keys))
        assert env["PYTHONPATH"] == "/opt/zhibu" and env["ZHIBU_CONFIG"] == "/etc/zhibu/config.yaml"
        env.update(PYTHONPATH=str(ROOT), ZHIBU_CONFIG=str(config))
        return env

    return state, port, env_of


def test_the_units_are_valid_for_systemd(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not installed here")
    copies = []
    for name in ("zhibu-serve.service", "zhibu-scheduler.service"):
        text = (UNITS / name).read_text("utf-8").replace(INSTALLED_PYTHON, sys.executable)
        (tmp_path / name).write_text(text, "utf-8")
        copies.append(str(tmp_path / name))
    result = subprocess.run([analyze, "verify", *copies], capture_output=True, text=True)
    # unknown keys and bad values are only warnings to systemd: any output is a failure here
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), result


def test_serve_unit_runs_without_a_scheduler_and_stops_on_sigterm(unit_run):
    state, port, env_of = unit_run
    keys = unit("zhibu-serve.service")
    assert unit_environment(keys)["ZHIBU_SCHEDULER__ENABLED"] == "false"
    assert keys["User"] == ["zhibu"] and keys["KillMode"] == ["mixed"]
    env = env_of(keys)
    (pre,) = keys["ExecStartPre"]
    subprocess.run(command(pre), cwd=state, env=env, check=True, capture_output=True, timeout=120)
    assert (state / "zhibu.db").is_file()  # relative to the working directory, as on the server
    (start,) = keys["ExecStart"]
    assert command(start)[1:] == ["-m", "bot", "serve"]
    server = subprocess.Popen(command(start), cwd=state, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not answer")
        children = subprocess.run(["pgrep", "-a", "-P", str(server.pid)], capture_output=True, text=True).stdout
        assert children.strip() and "scheduler" not in children  # gunicorn's worker, no scheduler beside it
        server.send_signal(signal.SIGTERM)  # KillMode=mixed: the main process only
        assert server.wait(timeout=float(keys["TimeoutStopSec"][0])) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_scheduler_unit_runs_and_takes_the_lead(unit_run):
    state, _port, env_of = unit_run
    keys = unit("zhibu-scheduler.service")
    assert "zhibu-serve.service" in keys["After"][0].split()  # after serve's schema upgrade
    assert "ZHIBU_SCHEDULER__ENABLED" not in unit_environment(keys)
    env = env_of(keys)
    (start,) = keys["ExecStart"]
    assert command(start)[1:] == ["-m", "bot", "scheduler"]
    scheduler = subprocess.Popen(command(start), cwd=state, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
    try:
        from sqlalchemy import create_engine, text
        engine = create_engine(f"sqlite:///{state}/zhibu.db")
        holder = None
        for _ in range(200):
            time.sleep(0.1)
            assert scheduler.poll() is None, scheduler.stderr.read()
            try:
                with engine.connect() as c:
                    holder = c.execute(text("SELECT holder FROM leases WHERE name = 'scheduler'")).scalar()
            except Exception:  # the schema is not there yet
                continue
            if holder:
                break
        engine.dispose()
        assert holder and f":{scheduler.pid}:" in holder
        scheduler.send_signal(signal.SIGTERM)  # systemd counts death by SIGTERM as a clean stop
        scheduler.wait(timeout=float(keys["TimeoutStopSec"][0]))
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()


# ------------------------------------------------------------------ nginx

def nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        if os.environ.get("ZHIBU_REQUIRE_NGINX"):
            pytest.fail("nginx not installed, but ZHIBU_REQUIRE_NGINX is set")
        pytest.skip("nginx not installed here (./run test installs it as root)")
    return found


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bot.example.org")])
    now = datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=2)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def site_here(tmp_path: Path, app_port: int) -> tuple[Path, int, int]:
    """The site as shipped, with only what must differ here changed: the
    ports, the certificate, the log folder. Returns (main config, http port, https port)."""
    cert, key = self_signed(tmp_path)
    http_port, https_port = free_port(), free_port()
    site = (DEPLOY / "nginx" / "zhibu.conf").read_text("utf-8")
    replacements = {"listen 80;": f"listen 127.0.0.1:{http_port};",
                    "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
                    "/etc/ssl/zhibu/fullchain.pem": str(cert), "/etc/ssl/zhibu/privkey.pem": str(key),
                    "server 127.0.0.1:8080;": f"server 127.0.0.1:{app_port};",
                    "/var/log/nginx/": f"{tmp_path}/"}
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)  # no IPv6 needed here
    (tmp_path / "zhibu.conf").write_text(site, "utf-8")
    temp = "".join(f"    {kind}_temp_path {tmp_path}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\n{temp}    access_log {tmp_path}/default.log;\n    include {tmp_path}/zhibu.conf;\n}}\n",
                    "utf-8")
    return main, http_port, https_port


def test_nginx_accepts_the_site(tmp_path):
    binary = nginx()
    main, _, _ = site_here(tmp_path, 8080)
    result = subprocess.run([binary, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr


def test_nginx_in_front_of_serve(tmp_path):
    binary = nginx()
    app_port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")},
           "ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/n.db",
           "ZHIBU_SCHEDULER__ENABLED": "false", "ZHIBU_SERVER__PORT": str(app_port), "ZHIBU_SERVER__WORKERS": "1",
           "ZHIBU_LOG__JSON": "true"}
    app_log = open(tmp_path / "app.log", "wb")
    app = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=app_log,
                           stderr=subprocess.STDOUT)
    main, http_port, https_port = site_here(tmp_path, app_port)
    proxy = subprocess.Popen([binary, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main),
                              "-g", "daemon off; master_process off;"], stderr=subprocess.PIPE)
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE

    def ask(method: str, path: str, body: bytes | None = None, source: str = "127.0.0.1"):
        conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=tls, timeout=10,
                                           source_address=(source, 0))
        conn.request(method, path, body=body, headers={"Content-Type": "text/xml"})
        answer = conn.getresponse()
        data = answer.read()
        conn.close()
        return answer.status, dict(answer.getheaders()), data

    try:
        for _ in range(150):
            try:
                status, headers, _ = ask("GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert status == 200
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-Id"])  # nginx's $request_id, kept by the app
        assert "max-age" in headers["Strict-Transport-Security"]
        status, _, _ = ask("POST", "/wecom/callback?msg_signature=x&timestamp=1&nonce=n", b"<xml>" + b"x" * 70_000)
        assert status == 413  # refused by nginx, unread
        status, _, body = ask("GET", "/metrics")
        assert status == 200 and b"zhibu_deliveries" in body
        status, _, _ = ask("GET", "/metrics", source="127.0.0.2")  # not on the allow list
        assert status == 403
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
        plain.request("POST", "/wecom/callback")
        assert plain.getresponse().status == 301
        plain.close()
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        app.terminate()
        app.wait(timeout=15)
        app_log.close()
    lines = [json.loads(line) for line in (tmp_path / "app.log").read_text("utf-8").splitlines()]
    assert any(d["message"].startswith("GET /healthz 200") and re.fullmatch(r"[0-9a-f]{32}", d["request_id"])
               for d in lines)
    assert not any("/wecom/callback" in d["message"] for d in lines)  # the big body never reached the app


# ------------------------------------------------------------------ Docker

def readme_commands() -> set[str]:
    """Every line of the README's fenced code blocks (not nginx's), without a trailing comment."""
    commands, inside, kind = set(), False, ""
    for line in (ROOT / "README.md").read_text("utf-8").splitlines():
        if line.startswith("```"):
            inside, kind = not inside, line[3:].strip()
            continue
        if inside and kind != "nginx":
            commands.add(re.sub(r"\s+#.*$", "", line).strip())
    return commands


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined."""
    out, pending = [], ""
    for line in (DEPLOY / "Dockerfile").read_text("utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    return out


def shell_form(arguments: str) -> str:
    return " ".join(json.loads(arguments)) if arguments.startswith("[") else arguments


def test_the_dockerfile_runs_the_readmes_commands():
    readme, steps = readme_commands(), dockerfile()
    runs = [shell_form(a) for i, a in steps if i in ("RUN", "CMD")]
    assert runs and [r for r in runs if r not in readme] == []
    assert ("CMD", '["python", "-m", "bot", "serve"]') in steps
    copied = [a.split()[0] for i, a in steps if i == "COPY"]
    for package in ("bot", "handlers", "storage", "requirements.txt"):
        assert package in copied
    for source in (part for i, a in steps if i == "COPY" for part in a.split()[:-1]):
        assert (ROOT / source).exists(), source
    user = [a for i, a in steps if i == "USER"]
    assert user and user[-1] not in ("root", "0")
    env = " ".join(a for i, a in steps if i == "ENV")
    assert "ZHIBU_SERVER__HOST=0.0.0.0" in env  # a container's loopback is its own


def test_the_compose_file_runs_the_readmes_commands_on_postgresql():
    readme = readme_commands()
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    services = doc["services"]
    assert set(services) == {"db", "init", "web", "scheduler"}
    for name in ("init", "web", "scheduler"):
        service = services[name]
        assert " ".join(service["command"]) in readme
        assert service["build"]["dockerfile"] == "deploy/Dockerfile" and (DEPLOY / service["build"]["context"]).resolve() == ROOT
        env = {k: str(v) for k, v in service["environment"].items()}
        url = env["ZHIBU_DATABASE__URL"].replace("${ZHIBU_DB_PASSWORD:?set ZHIBU_DB_PASSWORD in deploy/.env}", "pw")
        assert url == "postgresql+psycopg://zhibu:pw@db:5432/zhibu"
        env["ZHIBU_DATABASE__URL"] = url
        config = load_config(environ={**env, "ZHIBU_CONFIG": os.devnull}, use_file=False)  # every key is known
        assert config["scheduler.enabled"] is (name != "web")
    assert services["web"]["ports"] == ["127.0.0.1:8080:8080"]
    assert services["web"]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert services["init"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["image"].startswith("postgres:") and services["db"]["environment"]["POSTGRES_DB"] == "zhibu"

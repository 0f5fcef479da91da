"""A throwaway Dovecot IMAP server for the polling tests (Debian's dovecot-imapd).

One instance per test module, in a temporary directory, on free ports: plain IMAP (with STARTTLS)
and IMAPS, a self-signed certificate for 127.0.0.1 (its file is the CA to trust), users in a
passwd file (each test adds its own, so tests never see each other's mail), Maildir storage.
Run as root it drops to Dovecot's own users; otherwise everything runs as the current user."""

from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USERS = 50
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = kehu-test-{token}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal_user}
default_login_user = {login_user}
default_internal_group = {internal_group}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_mechanisms = plain login
{ssl}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@dataclass
class ImapServer:
    root: Path
    port: int
    ssl_port: int
    cafile: str
    binary: str
    config: Path
    _users: list[str] = field(default_factory=list)

    def add_user(self) -> str:
        """A user nobody used yet (password "secret"); the passwd file is written before the start
        (Dovecot may not notice lines added within the same second)."""
        if not self._users:
            raise RuntimeError(f"all {USERS} test users are taken: raise USERS")
        return self._users.pop(0)

    def client(self, user: str, password: str = "secret") -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(user, password)
        return conn

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client(user)
        try:
            result = conn.append(folder, "", "", raw)
            assert result[0] == "OK", result
        finally:
            conn.logout()

    def stop(self) -> None:
        subprocess.run(
            [self.binary, "-c", str(self.config), "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )


def _ids() -> tuple[str, str, str, int, int]:
    """(internal user, login user, internal group, mail uid, mail gid)."""
    if os.geteuid() != 0:
        me = getpass.getuser()
        return me, me, grp.getgrgid(os.getgid()).gr_name, os.getuid(), os.getgid()
    internal = pwd.getpwnam("dovecot")
    login = "dovenull"
    try:
        pwd.getpwnam(login)
    except KeyError:
        login = "dovecot"
    return "dovecot", login, grp.getgrgid(internal.pw_gid).gr_name, internal.pw_uid, internal.pw_gid


def _certificate(root: Path) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        return ""
    cert, key = root / "cert.pem", root / "key.pem"
    done = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return ""
    return str(cert)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd): no local IMAP server to poll")
    try:
        internal_user, login_user, group, uid, gid = _ids()
    except KeyError:
        pytest.skip("Dovecot's system users are missing (reinstall dovecot-core)")
    root = Path(tempfile.mkdtemp(prefix="kehu-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    users = [f"user{n}@kehu.test" for n in range(USERS)]
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}secret\n" for u in users))
    if os.geteuid() == 0:
        os.chown(root / "home", uid, gid)
    cafile = _certificate(root)
    ssl = "ssl = no"
    if cafile:
        ssl = f"ssl = yes\nssl_cert = <{cafile}\nssl_key = <{root / 'key.pem'}"
    port, ssl_port = _free_port(), _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            token=secrets.token_hex(3),
            internal_user=internal_user,
            login_user=login_user,
            internal_group=group,
            uid=uid,
            gid=gid,
            ssl=ssl,
            port=port,
            ssl_port=ssl_port if cafile else 0,
        )
    )
    # The daemon keeps its inherited descriptors: give it a file, not a pipe run() would wait on.
    with (root / "start.log").open("w") as out:
        started = subprocess.run([binary, "-c", str(config)], stdout=out, stderr=out, check=False)
    server = ImapServer(root, port, ssl_port, cafile, binary, config, users)
    if started.returncode != 0 or not _wait_for(port):
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        output = (root / "start.log").read_text()
        pytest.skip(f"Dovecot did not start: {output.strip()[-500:]} {log[-500:]}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

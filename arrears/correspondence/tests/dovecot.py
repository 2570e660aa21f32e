"""A private Dovecot IMAP server for the tests: its own configuration, folders and TLS certificate
in a temporary directory, on a free loopback port, started and stopped by the test; the system's
Dovecot service (if any) is not touched. Needs the `dovecot` binary (Debian: dovecot-imapd) and
root (Dovecot drops to the `dovecot`, `dovenull` and `nobody` users it is given)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from arrears.correspondence.tests.smtp_server import free_port, self_signed

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = arrears-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
login_log_format_elements = user=<%u> method=%m rip=%r lip=%l lport=%{{local_port}} mpid=%e %c
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:{root}/home/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {plain_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""


@dataclass(frozen=True)
class Imap:
    host: str
    port: int  # IMAPS (TLS from the start)
    plain_port: int  # IMAP, where the login needs STARTTLS first (ssl = required)
    user: str
    password: str
    cafile: Path
    log: Path  # the server's log: a login line says whether the session was TLS

    def url(self, folder: str = "INBOX") -> str:
        return (
            f"imaps://{self.user}:{self.password}@{self.host}:{self.port}/{folder}"
            f"?cafile={self.cafile}"
        )


def missing() -> str:
    """Why a private Dovecot cannot run here, or ""."""
    if shutil.which("dovecot") is None:
        return "Dovecot is not installed (Debian: apt-get install dovecot-imapd)"
    if os.geteuid() != 0:
        return "a private Dovecot instance needs root (it switches to its own users)"
    return ""


@contextmanager
def running() -> Iterator[Imap]:
    root = Path(tempfile.mkdtemp(prefix="arrears-dovecot-"))
    process = None
    try:
        root.chmod(0o755)  # the mail user (nobody) reads its folders through it
        for sub in ("run", "state", "home"):
            (root / sub).mkdir()
        shutil.chown(root / "home", "nobody", "nogroup")
        cert, _ = self_signed(root)
        (root / "passwd").write_text("arrears:{PLAIN}s3cret::::::\n")
        port, plain_port = free_port(), free_port()
        (root / "dovecot.conf").write_text(
            CONFIG.format(root=root, port=port, plain_port=plain_port)
        )
        process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(root / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (root / "dovecot.log").read_text()
                        if (root / "dovecot.log").exists()
                        else ""
                    )
                    out = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"Dovecot did not start: {out}{log}") from None
                time.sleep(0.05)
        yield Imap("127.0.0.1", port, plain_port, "arrears", "s3cret", cert, root / "dovecot.log")
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)

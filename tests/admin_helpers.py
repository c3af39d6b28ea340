"""Shared by the tests/test_admin_*.py files: configs that pass `mailproc check`, certificates
for a host name the server is not reached by, and the second alert channel as a file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.smtp import AuthResult
from harness import REPO, write_config
from servers import CertPair, SmtpServer


def checked_config(root: Path, **kwargs: Any) -> Path:
    """write_config with the shipped rules, consequences and routes (so `check` passes), and
    `alerts.command` appending each alert's text to root/alerts.txt."""
    shipped = yaml.safe_load((REPO / "rules" / "config.yaml").read_text())
    alerts = {"command": [sys.executable, "-c", ALERT_SCRIPT, str(root / "alerts.txt")],
              **kwargs.pop("alerts", {})}
    kwargs.setdefault("triage_rules", str(REPO / "rules" / "triage.yaml"))
    return write_config(root, consequences=str(REPO / "rules" / "consequences.yaml"),
                        routes=shipped["routes"], alerts=alerts, **kwargs)


# What an admin's paging script would do: take the alert on stdin (here: append it to a file).
ALERT_SCRIPT = ("import sys; open(sys.argv[1], 'a').write(sys.stdin.read() + '\\n----\\n')")


def alerts_written(root: Path) -> str:
    path = root / "alerts.txt"
    return path.read_text() if path.exists() else ""


def cert_for(directory: Path, name: str) -> CertPair | None:
    """A self-signed certificate for `name` only (not 127.0.0.1): a server presenting it to a
    client that connects by address is the "certificate for another host" case."""
    tool = shutil.which("openssl")
    if tool is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    pair = CertPair(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [tool, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={name}", "-keyout", str(pair.key),
         "-out", str(pair.cert), "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True)
    pair.key.chmod(0o644)
    return pair


class RefusingSmtpServer(SmtpServer):
    """An SmtpServer whose failed AUTH is answered `535 5.7.8` as real servers do (the base
    class leaves a failed login unanswered: fine for its tests, a hang for these)."""

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        result = super()._authenticate(server, session, envelope, mechanism, auth_data)
        return result if result.success else AuthResult(success=False, handled=False)

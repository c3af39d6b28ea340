"""deploy/: the systemd unit, the container image, the example config and environment file.

The unit is checked three ways: its directives (parsed), `systemd-analyze verify` and the
offline `systemd-analyze security` score when the tool is installed, and mailproc itself run
under the seccomp rule systemd installs for MemoryDenyWriteExecute=yes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml
from harness import REPO, mailproc, write_config

from mailproc.config.settings import load_config

DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "mailproc.service"
CREDS = "/run/credentials/mailproc.service/"
VENV_MAILPROC = Path(sys.executable).parent / "mailproc"


def _unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as section -> [(key, value)], keeping repeated keys (systemd allows them)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def _values(key: str, section: str = "Service") -> list[str]:
    return [v for k, v in _unit(UNIT.read_text())[section] if k == key]


# --------------------------------------------------------------------------- the unit

HARDENING = {
    "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "60", "Restart": "on-failure",
    "User": "mailproc", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/mailproc",
    "StateDirectory": "mailproc", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "ProtectHome": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet": "",
    "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "UMask": "0077",
    "ExecStart": "/opt/mailproc/.venv/bin/mailproc run",
    "ExecReload": "/bin/kill -HUP $MAINPID",
}


@pytest.mark.parametrize(("key", "expected"), HARDENING.items())
def test_unit_sets_each_hardening_directive(key: str, expected: str) -> None:
    assert _values(key) == [expected], f"{key}= in {UNIT.name}"


def test_unit_filters_syscalls_and_reads_the_config_named_in_its_environment() -> None:
    assert "@system-service" in _values("SystemCallFilter")
    assert "MAILPROC_CONFIG=/etc/mailproc/config.yaml" in _values("Environment")


def test_every_credential_the_example_config_reads_is_loaded_by_the_unit() -> None:
    loaded = {v.partition(":")[0] for v in _values("LoadCredential")}
    named = set(re.findall(re.escape(CREDS) + r"([\w.-]+)",
                           (DEPLOY / "config.example.yaml").read_text()))
    assert named == {"imap-password", "smtp-password"}
    assert named <= loaded


def _verify(unit_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # verify insists that ExecStart= exists and is executable; /opt/mailproc is where the guide
    # installs it, not where the tests run. Point a copy at this venv's real entry point.
    assert VENV_MAILPROC.exists(), "pip install -e . creates the mailproc entry point"
    unit = tmp_path / "mailproc.service"
    unit.write_text(unit_text.replace("/opt/mailproc/.venv/bin/mailproc", str(VENV_MAILPROC)))
    return subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)


def test_systemd_analyze_verify_passes_without_a_warning(tmp_path: Path) -> None:
    done = _verify(UNIT.read_text(), tmp_path)
    # systemd 252 exits 0 even for unknown keys or unparsable values: any output is a failure.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_systemd_analyze_verify_would_catch_a_misspelt_directive(tmp_path: Path) -> None:
    done = _verify(UNIT.read_text().replace("ProtectHome=yes", "ProtectHom=yes"), tmp_path)
    assert "Unknown key 'ProtectHom'" in done.stderr


def test_offline_security_exposure_is_low(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    unit = tmp_path / "mailproc.service"
    unit.write_text(UNIT.read_text())
    done = subprocess.run([tool, "security", "--offline=yes", str(unit)], capture_output=True,
                          text=True, timeout=60)
    score = re.search(r"Overall exposure level for mailproc\.service: ([\d.]+)", done.stdout)
    if score is None:
        pytest.skip(f"this systemd-analyze has no offline security check: {done.stderr[:200]}")
    # 0 is a sealed box, 10 an unconfined service; what is left is network access by design.
    assert float(score.group(1)) <= 2.0, done.stdout


# What systemd 252 (Debian 12) installs for MemoryDenyWriteExecute=yes (seccomp-util.c): EPERM
# for mmap with PROT_WRITE|PROT_EXEC, mprotect/pkey_mprotect adding PROT_EXEC, shmat with
# SHM_EXEC. Without python3-seccomp, the kernel's own PR_SET_MDWE (Linux >= 6.3, what newer
# systemd uses) is the fallback: it refuses the same W+X mappings.
_MDWE = r"""
import errno, os, sys
if sys.argv[1] == "seccomp":
    import seccomp
    deny, flt = seccomp.ERRNO(errno.EPERM), seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    flt.add_rule(deny, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, 6, 6))
    for name in ("mprotect", "pkey_mprotect"):
        flt.add_rule(deny, name, seccomp.Arg(2, seccomp.MASKED_EQ, 4, 4))
    flt.add_rule(deny, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, 0o100000, 0o100000))
    flt.load()
else:
    import ctypes
    if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:
        sys.exit(77)
os.execv(sys.argv[2], sys.argv[2:])
"""

_PROBE_THEN_RUN = r"""
import mmap, sys
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except PermissionError:
    pass
else:
    sys.exit("a writable+executable mapping was allowed: the rule is not in force")
from mailproc.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _mdwe_launcher() -> list[str]:
    system_python = "/usr/bin/python3"
    if Path(system_python).exists() and subprocess.run(
            [system_python, "-c", "import seccomp"], capture_output=True).returncode == 0:
        return [system_python, "-c", _MDWE, "seccomp"]
    return [sys.executable, "-c", _MDWE, "prctl"]


def test_mailproc_runs_under_memory_deny_write_execute(tmp_path: Path) -> None:
    routes = yaml.safe_load((REPO / "rules" / "config.yaml").read_text())["routes"]
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          triage_rules=str(REPO / "rules" / "triage.yaml"), routes=routes,
                          consequences=str(REPO / "rules" / "consequences.yaml"))
    results = []
    for args in (["check"], ["run", "--once", "--demo"]):
        done = subprocess.run(
            [*_mdwe_launcher(), sys.executable, "-c", _PROBE_THEN_RUN, "--config", str(config),
             *args], capture_output=True, text=True, timeout=180, cwd=tmp_path)
        if done.returncode == 77:
            pytest.skip("neither python3-seccomp (apt-get install python3-seccomp) nor the "
                        "kernel's PR_SET_MDWE is available to emulate MemoryDenyWriteExecute=")
        results.append((done.returncode, done.stderr[-2000:]))
    assert results == [(0, results[0][1]), (0, results[1][1])]
    # The demo reports really went through parsing, the store and the templates.
    assert len(list((tmp_path / "var" / "outbox").glob("*-ack-*.eml"))) >= 3


# --------------------------------------------------------------------------- image, config


def _dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    rows = [line.strip() for line in text.splitlines()]
    return [(r.split(None, 1)[0].upper(), r.split(None, 1)[1] if " " in r else "")
            for r in rows if r and not r.startswith("#")]


def test_image_is_slim_runs_as_non_root_and_keeps_data_in_a_volume() -> None:
    steps = _dockerfile()
    # Pinned by digest: a rebuild gets the same base, whatever the tag points to by then.
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", steps[0][1]), steps[0]
    assert steps[0][0] == "FROM"
    # Python packages at the tested versions: from the constraints file, which pins them all.
    (install,) = [arg for op, arg in steps if op == "RUN" and "pip install" in arg]
    assert "-c /tmp/src/deploy/constraints.txt" in install
    pinned = {line.split("==")[0].lower() for line in
              (DEPLOY / "constraints.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    wanted = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {re.split(r"[<>=~ ;\[]", d)[0].lower() for d in wanted} <= pinned
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert any("/var/lib/mailproc" in arg for op, arg in steps if op == "VOLUME")
    assert any("mailproc status" in arg for op, arg in steps if op == "HEALTHCHECK")
    copied = " ".join(arg for op, arg in steps if op == "COPY")
    assert "config.yaml" not in copied and "credentials" not in copied and ".venv" not in copied


def test_the_package_builds_from_exactly_what_the_image_copies(tmp_path: Path) -> None:
    src = tmp_path / "src"  # the image's /tmp/src/
    for op, arg in _dockerfile():
        *sources, dest = arg.split()
        if op != "COPY" or not dest.startswith("/tmp/src/"):
            continue
        target = src / dest.removeprefix("/tmp/src/")
        for name in sources:
            if (REPO / name).is_dir():  # Docker copies a directory's contents to the target
                shutil.copytree(REPO / name, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy(REPO / name, target / Path(name).name)  # as Docker does
    # An sdist, built offline by the setuptools at hand (the image builds a wheel with a fresh
    # one): it proves the metadata (README.md) and every package file are among the copies.
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
         "print(b.build_sdist(sys.argv[1]))", str(out)],
        cwd=src, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with tarfile.open(out / done.stdout.split()[-1]) as sdist:
        names = {Path(*Path(n).parts[1:]).as_posix() for n in sdist.getnames()}
        entry = sdist.extractfile(next(n for n in sdist.getnames()
                                       if n.endswith("entry_points.txt")))
        assert entry is not None and "mailproc = mailproc.cli.launch:main" in entry.read().decode()
    package = {p.relative_to(REPO).as_posix() for p in (REPO / "mailproc").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert package <= names


def _installed_example(tmp_path: Path) -> Path:
    """The example config with its absolute paths moved under tmp_path; fake credentials."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    for name in ("imap-password", "smtp-password"):
        (creds / name).write_text(f"secret for {name}\n")
    text = ((DEPLOY / "config.example.yaml").read_text()
            .replace(CREDS, f"{creds}/")
            .replace("/var/lib/mailproc", str(tmp_path / "data"))
            .replace("/opt/mailproc/templates", str(REPO / "templates"))
            .replace("/etc/mailproc/triage.yaml", str(REPO / "rules" / "triage.yaml"))
            .replace("/etc/mailproc/consequences.yaml", str(REPO / "rules" / "consequences.yaml")))
    path = tmp_path / "etc" / "config.yaml"
    path.parent.mkdir()
    path.write_text(text)
    return path


def test_example_config_loads_and_passes_mailproc_check(tmp_path: Path) -> None:
    path = _installed_example(tmp_path)
    config = load_config(path)
    imap, smtp = config.mailbox.imap, config.outgoing.smtp
    assert imap is not None and smtp is not None and imap.password and smtp.password
    assert imap.password.reveal() == "secret for imap-password"
    assert smtp.password.reveal() == "secret for smtp-password"
    assert config.data_dir == tmp_path / "data"
    run = mailproc(path, "check")  # renders every template, loads the triage rules
    assert run.code == 0, run.err


def test_env_example_is_plain_key_value_lines() -> None:
    text = (DEPLOY / "mailproc.env.example").read_text()
    assert "0600" in text
    pairs = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line) for line in pairs), pairs
    assert "MAILPROC_CONFIG=/etc/mailproc/config.yaml" in pairs

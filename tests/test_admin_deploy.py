"""Self-hosted translation in one step (deploy/libretranslate.service, deploy/compose.yaml),
loading the languages mailproc writes in, reachable by mailproc only; and `make run` installing
only what running needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from harness import REPO

DEPLOY = REPO / "deploy"
TEMPLATE_LANGUAGES = {p.name for p in (REPO / "templates").iterdir()
                      if p.is_dir() and len(p.name) == 2}


def test_the_libretranslate_unit_verifies_listens_on_loopback_and_loads_our_languages(
        tmp_path: Path) -> None:
    text = (DEPLOY / "libretranslate.service").read_text()
    (start,) = re.findall(r"^ExecStart=(.*)$", text, re.M)
    assert "--host 127.0.0.1" in start and "--port 5000" in start
    found = re.search(r"--load-only (\S+)", start)
    assert found is not None
    loaded = set(found.group(1).split(","))
    assert loaded >= TEMPLATE_LANGUAGES
    assert "url: http://127.0.0.1:5000/" in text  # the config line that goes with it
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    unit = tmp_path / "libretranslate.service"
    unit.write_text(text.replace("/opt/libretranslate/bin/libretranslate", sys.executable))
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_compose_runs_libretranslate_beside_mailproc_unpublished() -> None:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    mailproc, libre = doc["services"]["mailproc"], doc["services"]["libretranslate"]
    assert mailproc["build"]["dockerfile"] == "deploy/Dockerfile"
    assert "libretranslate" in mailproc["depends_on"]
    assert "ports" not in libre  # reachable from mailproc only
    assert set(libre["environment"]["LT_LOAD_ONLY"].split(",")) >= TEMPLATE_LANGUAGES
    assert re.fullmatch(r"libretranslate/libretranslate:v[\d.]+", libre["image"])
    assert "http://libretranslate:5000/" in (DEPLOY / "compose.yaml").read_text()


def test_make_run_installs_no_test_tools() -> None:
    """`make run` depends on an install of mailproc alone (`-e .`, no [test] extra); `make
    test` and `make lint` on the one with the test tools."""
    make = (REPO / "Makefile").read_text()
    rules = dict(re.findall(r"^([$()A-Z_a-z.]+):([^\n]*)", make, re.M))
    assert "$(RUN_STAMP)" in rules["run"] and "$(STAMP)" not in rules["run"]
    assert "$(STAMP)" in rules["lint"]
    (run_install,) = re.findall(r"^\$\(RUN_STAMP\):.*\n\t(.*)", make, re.M)
    assert run_install.endswith("-e .") and "test" not in run_install
    (test_install,) = re.findall(r"^\$\(STAMP\):.*\n\t(.*)", make, re.M)
    assert test_install.endswith("-e '.[test]'")
    assert "-c deploy/constraints.txt" in run_install + test_install

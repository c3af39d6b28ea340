"""`mailproc status`: health for monitoring, from the daemon's status file and the store.

Every failing part (mailbox, smtp, translation, rules, templates) is named with its cause, since
when it fails and what waits because of it; `--json` gives the same under "failing".
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import TextIO

from mailproc.cli.common import AddCommand, Handler, now_of, open_read_only
from mailproc.config.settings import Config


def register(command: AddCommand) -> dict[str, Handler]:
    status = command("status", "health for monitoring: exit 0 healthy, 1 degraded, 2 down")
    status.add_argument("--json", action="store_true")
    return {"status": cmd_status}


def cmd_status(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.health import Snapshot, judge
    from mailproc.store.files import DataDirLock, read_bytes

    store = open_read_only(config)  # first: it unlocks an encrypted data directory
    snapshot = None
    path = config.data_dir / "status.json"
    if path.exists():
        snapshot = Snapshot.from_json(json.loads(read_bytes(path)))
    alive = DataDirLock(config.data_dir).held_elsewhere()
    status = judge(snapshot, alive, store.pending_outgoing(), store.quarantined(),
                   store.all_cases(), config, now_of(args), len(store.translation_pending),
                   _free_bytes(config.data_dir))
    word = {0: "healthy", 1: "degraded", 2: "down"}[status.code]
    if args.json:
        out.write(json.dumps({"status": word, "code": status.code, "problems": status.problems,
                              **status.report}, indent=2) + "\n")
        return status.code
    out.write(f"mailproc: {word}\n")
    for problem in status.problems:
        out.write(f"  - {problem}\n")
    for key, value in status.report.items():
        if key != "failing":  # said above, in words
            out.write(f"{key}: {json.dumps(value)}\n")
    return status.code


def _free_bytes(path: Path) -> int | None:
    """Bytes free on the file system the data directory is (or will be) on."""
    for where in (path, *path.parents):
        if where.exists():
            return shutil.disk_usage(where).free
    return None

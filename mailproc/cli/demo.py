"""First-start demo for `make run`: a handful of sample mails put into an empty Maildir.

Only with `mailproc run --demo` on a Maildir mailbox whose store has never seen a message, so a
real installation is never touched. The samples ship in `mailproc/samples/`.
"""

from __future__ import annotations

from pathlib import Path

from mailproc.adapters.maildir import deliver
from mailproc.config.settings import Config

SAMPLES = Path(__file__).parent.parent / "samples"


def seed_demo(config: Config) -> int:
    """Deliver the samples when nothing was ever received; returns how many were put there."""
    maildir = config.mailbox.maildir
    if maildir is None or (config.data_dir / "ingest.jsonl").exists():
        return 0
    if any((maildir / sub).is_dir() and any((maildir / sub).iterdir()) for sub in ("new", "cur")):
        return 0
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    samples = sorted(SAMPLES.glob("*.eml"))
    for sample in samples:
        deliver(maildir, sample.read_bytes())
    return len(samples)

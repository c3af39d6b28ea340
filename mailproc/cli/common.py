"""What every subcommand shares: exit codes, the clock `--now` sets, a read-only store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TextIO

from mailproc.config.settings import Config
from mailproc.store.encryption import unlock
from mailproc.store.store import Store

EXIT_CONFIG = 2

Handler = Callable[[Config, argparse.Namespace, TextIO], int]
"""A subcommand: the loaded config, the parsed arguments, where to write; returns the exit code."""
AddCommand = Callable[[str, str], argparse.ArgumentParser]
"""Adds a subcommand's parser (name, one-line help) with the global options."""


def now_of(args: argparse.Namespace) -> datetime:
    """The time the command acts at: `--now` / MAILPROC_NOW, else the real clock."""
    clock: Callable[[], datetime] | None = getattr(args, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def day_argument(text: str) -> date:
    """An argparse type: a calendar day, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def open_read_only(config: Config) -> Store:
    unlock(config)  # storage.encryption: refuse a wrong key here, with the setting's name
    store = Store(config.data_dir, read_only=True)
    store.open()
    return store

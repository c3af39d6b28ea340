"""The mailbox source the configuration names: IMAP, or the embedded Maildir."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailproc.adapters.mailbox import MailSource
from mailproc.adapters.maildir import MaildirSource

if TYPE_CHECKING:
    from mailproc.config.settings import MailboxConfig


def open_source(cfg: MailboxConfig) -> MailSource:
    """Build the source the config names (not yet opened)."""
    if cfg.imap is not None:
        from mailproc.adapters.imap import ImapSource  # imapclient only where IMAP is used

        return ImapSource(cfg.imap)
    assert cfg.maildir is not None
    return MaildirSource(cfg.maildir, cfg.maildir_folders,
                         poll_step=min(cfg.poll_interval_seconds, 0.5))

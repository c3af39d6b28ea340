"""mailproc: runs a Code of Conduct committee's mailbox."""

__version__ = "0.1.0"

"""`mailproc genkey` and `mailproc rekey`: the key that encrypts the data directory at rest.

`genkey FILE` writes a new random key (mode 0600, never over an existing file). `rekey`
re-encrypts every file of the data directory with a new key, with the daemon stopped; run
without a new key it encrypts a plaintext directory with the key the config names. It is
crash-safe: stopped halfway, it is run again as before and finishes (README: Encryption at rest).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from mailproc.cli.common import EXIT_CONFIG, AddCommand, Handler
from mailproc.config.settings import Config, Secret


def register(command: AddCommand) -> dict[str, Handler]:
    genkey = command("genkey", "write a new random key for storage.encryption.key")
    genkey.add_argument("file", type=Path)
    rekey = command("rekey", "re-encrypt the data directory with a new key (daemon stopped)")
    new = rekey.add_mutually_exclusive_group()
    new.add_argument("--new-key-file", type=Path, metavar="PATH",
                     help="the new key (default: the key storage.encryption.key names, to "
                          "encrypt a directory that is not encrypted yet)")
    new.add_argument("--new-key-env", metavar="VAR", help="the new key, from this variable")
    new.add_argument("--decrypt", action="store_true",
                     help="leave the data directory unencrypted from now on")
    rekey.add_argument("--old-key-file", type=Path, action="append", default=[], metavar="PATH",
                       help="a key the directory is encrypted with, when the config no longer "
                            "names it (repeatable)")
    return {"genkey": cmd_genkey, "rekey": cmd_rekey}


def cmd_genkey(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.store.sealing import key_from_text, key_id, new_key_text

    text = new_key_text()
    try:
        fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        print(f"mailproc genkey: cannot create {args.file}: {exc.strerror} (an existing key "
              "is never overwritten)", file=sys.stderr)
        return EXIT_CONFIG
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    out.write(f"{args.file}: new key, id {key_id(key_from_text(text)).hex()}; keep a copy "
              "apart from the data directory's backups\n")
    return 0


def cmd_rekey(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.store.encryption import config_key, rekey
    from mailproc.store.files import DataDirProblem
    from mailproc.store.sealing import key_from_text

    def load(secret: Secret, what: str) -> bytes:
        try:
            return key_from_text(secret.reveal())
        except ValueError as exc:
            raise DataDirProblem(f"{what}: {exc}") from None

    if args.decrypt:
        new_key = None
    elif args.new_key_file or args.new_key_env:
        new_key = load(Secret(file=args.new_key_file, env=args.new_key_env),
                       "--new-key-file" if args.new_key_file else "--new-key-env")
    else:
        new_key = config_key(config)
        if new_key is None:
            print("mailproc rekey: give --new-key-file PATH (make one with: mailproc genkey "
                  "PATH), or set storage.encryption.key", file=sys.stderr)
            return EXIT_CONFIG
    old = [load(Secret(file=path), "--old-key-file") for path in args.old_key_file]
    done = rekey(config, new_key, old_keys=old)
    now = f"encrypted with key id {done.target}" if done.target else "not encrypted"
    out.write(f"{config.data_dir}: {done.sealed} files rewritten, {done.already} were already "
              f"done; now {now}\n")
    if done.dropped_lines:
        out.write(f"  {done.dropped_lines} damaged log lines (unreadable before too) left out\n")
    if new_key != _config_key_quiet(config):
        out.write("  now make storage.encryption in the config name "
                  f"{'no key' if new_key is None else 'the new key'}: the daemon refuses "
                  "any other\n")
    return 0


def _config_key_quiet(config: Config) -> bytes | None:
    from mailproc.store.encryption import config_key
    from mailproc.store.files import DataDirProblem

    try:
        return config_key(config)
    except DataDirProblem:
        return None

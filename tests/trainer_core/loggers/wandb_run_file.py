"""Read back an offline wandb run file (``offline-run-*/run-<id>.wandb``) for the tests.

wandb 0.31 keeps no Python reader for it (its service binary writes it). The file is a 7-byte ``:W&B`` header
followed by LevelDB's log format: 32 KiB blocks of records, each with a 7-byte header (checksum, little-endian
length, kind: full, first, middle or last fragment), a block's tail shorter than a header left as zero padding.
Every record is a ``wandb_internal_pb2.Record`` protobuf message.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["OfflineRun", "read_finished_run", "read_offline_run"]

_BLOCK = 32 * 1024
_HEADER = struct.Struct("<IHB")  # checksum, length, kind
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


@dataclasses.dataclass
class OfflineRun:
    """What the run file says: the config, each ``log`` call's row, and the exit code (None: not finished)."""

    config: dict[str, Any]
    history: list[dict[str, Any]]
    exit_code: int | None


def _payloads(data: bytes) -> Iterator[bytes]:
    if data[:4] != b":W&B":
        raise ValueError("not a wandb run file (no :W&B header)")
    pos, pending = 7, b""
    while pos + _HEADER.size <= len(data):
        room = _BLOCK - pos % _BLOCK
        if room < _HEADER.size:  # padding at a block's end
            pos += room
            continue
        _, length, kind = _HEADER.unpack_from(data, pos)
        if length == 0 and kind == 0:  # zeroed rest of the block
            pos += room
            continue
        chunk = data[pos + _HEADER.size:pos + _HEADER.size + length]
        if len(chunk) < length:  # the writer is still appending this record
            return
        pos += _HEADER.size + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        elif kind == _LAST:
            yield pending + chunk


def _key(item: Any) -> str:
    return item.key or "/".join(item.nested_key)


def read_offline_run(path: Path) -> OfflineRun:
    from wandb.proto import wandb_internal_pb2

    run = OfflineRun(config={}, history=[], exit_code=None)
    for payload in _payloads(path.read_bytes()):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        kind = record.WhichOneof("record_type")
        if kind == "config":
            run.config.update({_key(item): json.loads(item.value_json) for item in record.config.update})
        elif kind == "history":
            run.history.append({_key(item): json.loads(item.value_json) for item in record.history.item})
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    return run


def read_finished_run(path: Path, timeout_s: float = 60.0) -> OfflineRun:
    """The run once its file holds the exit record.

    ``run.finish()`` returns before wandb's service process has flushed the file in offline mode (seen: a file of
    the header alone right after ``finish``), so this polls the file until the run's exit record is in it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        run = read_offline_run(path)
        if run.exit_code is not None:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} holds no exit record {timeout_s:.0f} s after run.finish()")
        time.sleep(0.05)

"""Proof that a run under libnantrack.so was really tracked: its trace file
exists, is complete, and (for a program with a known leak) lists the leaked
blocks. A preload that silently failed to load would otherwise look fast.

Reads just enough of the layout defined in tracker/trace_format.h: the file
header, then records of {u32 type, u32 size, payload}, stopping at End.
"""
import struct
from collections import Counter
from pathlib import Path

MAGIC = b"NANTRACE"
# Version 3 only added the Snapshot record: a version 2 trace (a build from
# before it, measured with --library) reads the same.
FORMAT_VERSIONS = (2, 3)
RECORD_LIVE_BLOCKS = 4
RECORD_END = 7
LIVE_BLOCK_ENTRY = struct.Struct("<QQIIBB")  # address, size, stack id, thread, kind, leak kind


def trace_path(out_dir: Path, pid: int) -> Path:
    return out_dir / f"nantrack.{pid}.trace"


def live_block_sizes(path: Path) -> Counter:
    """How many blocks of each size the trace lists as live at exit.
    Raises ValueError saying what is wrong with the file."""
    data = path.read_bytes()
    if data[:8] != MAGIC:
        raise ValueError(f"{path.name} is not a nantrack trace (no {MAGIC.decode()} magic)")
    version, header_size = struct.unpack_from("<II", data, 8)
    if version not in FORMAT_VERSIONS:
        raise ValueError(f"{path.name} has format version {version}; "
                         f"bench/harness/trace_check.py reads versions {FORMAT_VERSIONS}")
    sizes = Counter()
    offset = header_size
    while offset + 8 <= len(data):
        record_type, size = struct.unpack_from("<II", data, offset)
        payload = data[offset + 8:offset + 8 + size]
        if len(payload) < size:
            break
        if record_type == RECORD_END:
            return sizes
        if record_type == RECORD_LIVE_BLOCKS:
            (count,) = struct.unpack_from("<I", payload)
            for entry in range(count):
                sizes[LIVE_BLOCK_ENTRY.unpack_from(payload, 4 + entry * LIVE_BLOCK_ENTRY.size)[1]] += 1
        offset += 8 + size
    raise ValueError(f"{path.name} is truncated (no End record after {offset} bytes)")


def check_trace(out_dir: Path, pid: int, expected_leak: tuple[int, int] | None) -> str | None:
    """None if process `pid` left a complete trace (showing `expected_leak`,
    (blocks, bytes each), when given); otherwise what is wrong."""
    path = trace_path(out_dir, pid)
    if not path.exists():
        return f"no trace {path.name} was written (was libnantrack.so loaded?)"
    try:
        sizes = live_block_sizes(path)
    except ValueError as error:
        return str(error)
    if expected_leak:
        blocks, block_size = expected_leak
        if sizes[block_size] < blocks:
            return (f"trace shows {sizes[block_size]} live blocks of {block_size} bytes; "
                    f"the program leaks {blocks}")
    return None

"""Inputs the real-program workloads read, generated into the workload's
scratch directory before timing starts. Seeded, so every run and every
machine sees the same data."""
import random
from pathlib import Path

SOURCE_FILES = 2000
SOURCE_DIRS = 40
FUNCTIONS_PER_FILE = 30


def inserts_sql(work_dir: Path, rows: int) -> Path:
    return work_dir / f"inserts-{rows}.sql"


def write_inserts_sql(work_dir: Path, rows: int) -> None:
    """One table filled row by row in a transaction, then indexed and
    queried: what an application's import job does."""
    rng = random.Random(1)
    lines = ["CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL);",
             "BEGIN;"]
    lines += [f"INSERT INTO items(name, category, price) VALUES "
              f"('item-{rng.getrandbits(40):x}', 'category-{row % 37}', {rng.random() * 100:.2f});"
              for row in range(rows)]
    lines += ["COMMIT;",
              "CREATE INDEX items_by_category ON items(category, price);",
              "SELECT category, count(*), avg(price) FROM items GROUP BY category;"]
    inserts_sql(work_dir, rows).write_text("\n".join(lines) + "\n")


def text_lines(work_dir: Path, count: int) -> Path:
    return work_dir / f"lines-{count}.txt"


def write_text_lines(work_dir: Path, count: int) -> None:
    rng = random.Random(2)
    words = ("alpha", "beta", "gamma", "delta", "epsilon")
    text_lines(work_dir, count).write_text(
        "".join(f"{rng.getrandbits(64):x} {rng.choice(words)} {line}\n" for line in range(count)))


def source_tree(work_dir: Path) -> Path:
    return work_dir / "repo"


def write_source_tree(work_dir: Path, _size=None) -> None:
    """SOURCE_FILES small C files over SOURCE_DIRS directories, ~1.5 KB each."""
    rng = random.Random(3)
    for file in range(SOURCE_FILES):
        directory = source_tree(work_dir) / "src" / f"module{file % SOURCE_DIRS:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"file{file:04d}.c").write_text("".join(
            f"int f{file}_{n}(int x) {{ return x * {rng.randint(1, 999)} + {n}; }}\n"
            for n in range(FUNCTIONS_PER_FILE)))

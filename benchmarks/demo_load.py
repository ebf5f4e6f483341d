"""How fast `aftercrisis demo --participants N` loads the demo trial through the services.

Each size is loaded into a new SQLite database in a temporary directory (or a new PostgreSQL database
on the server DATABASE_URL names), by the command itself in its own process, migrations included.
Prints the time and participants per second for each size, against the figure measured before the
demo's services were batched (441 participants in 95 s, 4.6 participants/s, on the 2-core development
machine), and last `participants/s: N` for the largest size.

    python benchmarks/demo_load.py [--participants 441 10000]

Targets: 441 in at most 12 s, 10,000 in at most 5 minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.server import fresh_database  # noqa: E402

BEFORE = {441: 95.0}  # seconds, measured with the demo as it was before batching


def load(participants: int) -> float:
    with (
        tempfile.TemporaryDirectory(prefix="aftercrisis-demo.") as tmp,
        fresh_database(Path(tmp)) as database_url,
    ):
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "AFTERCRISIS_HOME": tmp,
            "AFTERCRISIS_PROTOCOL": str(ROOT / "protocols" / "core.yaml"),
            "DJANGO_SETTINGS_MODULE": "aftercrisis.config.settings.dev",
        }
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import sys; from aftercrisis.cli import main; sys.exit(main(sys.argv[1:]))",
             "demo", "--participants", str(participants)],
            env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[441, 10_000])
    args = parser.parse_args()
    rate = 0.0
    for n in args.participants:
        seconds = load(n)
        rate = n / seconds
        before = f"; before: {BEFORE[n]:.0f} s ({BEFORE[n] / seconds:.1f}x)" if n in BEFORE else ""
        print(f"{n} participants: {seconds:.1f} s, {rate:.1f} participants/s{before}", flush=True)
    print(f"participants/s: {rate:.1f}")


if __name__ == "__main__":
    main()

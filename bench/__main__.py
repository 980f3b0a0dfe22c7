"""`make bench`: run every benchmark script in this folder, each in its own process, and keep its report.

Each script prints its own figures (medians over its repeats); the combined report goes to
bench/results/latest.txt so figures quoted elsewhere can name the run they came from.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    scripts = [p for p in scripts if not wanted or p.stem in wanted]
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    report: list[str] = [f"# make bench, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"]
    status = 0
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent)
        print(proc.stdout, end="", flush=True)
        if proc.returncode != 0:
            print(proc.stderr[-4000:], file=sys.stderr)
            status = 1
        report += [f"== {script.stem} (exit {proc.returncode})", proc.stdout.rstrip()]
    (out_dir / "latest.txt").write_text("\n".join(report) + "\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

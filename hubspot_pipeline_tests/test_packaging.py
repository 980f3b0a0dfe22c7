"""The shipped wheel holds the pipeline only: the sandbox and the tests stay in the repository."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_leaves_out_the_sandbox_and_the_tests(tmp_path: Path) -> None:
    had_build = (ROOT / "build").exists()
    try:
        _build_wheel(tmp_path)
    finally:
        if not had_build:  # setuptools builds in the source tree
            shutil.rmtree(ROOT / "build", ignore_errors=True)
    (wheel,) = tmp_path.glob("hubspot_pipeline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names if n.endswith(".py")}
    assert packages == {"hubspot_pipeline"}
    assert "hubspot_pipeline/definitions.py" in names
    assert "hubspot_pipeline/store/table_writer.py" in names


def _build_wheel(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

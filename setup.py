"""The wheel carries the compiled NHS.UK assets: a checkout that has not built them builds them first."""

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithAssets(build_py):
    def run(self) -> None:
        if not (ROOT / "src" / "aftercrisis" / "static" / "nhsuk" / "app.css").is_file():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
            subprocess.run(["npm", "run", "-s", "build"], cwd=ROOT, check=True)
        super().run()


setup(cmdclass={"build_py": BuildPyWithAssets})

"""An installation's home: AFTERCRISIS_HOME holds its settings file, its protocol and its data.

```
HOME/aftercrisis.env    settings (KEY=VALUE lines; the process environment wins)
HOME/protocol.yaml      the trial's protocol, to edit (`aftercrisis init` copies the CORE example)
HOME/var/               the SQLite database and the collected static files
```
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

ENV_FILE = "aftercrisis.env"
EXAMPLE_PROTOCOL = Path(__file__).resolve().parents[1] / "protocol" / "core.yaml"


def read_env_file(path: Path) -> None:
    """Set each KEY=VALUE of `path` that the environment does not already set. A missing file sets nothing."""
    if not path.is_file():
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip().isidentifier():
            raise ValueError(f"{path}, line {number}: expected KEY=VALUE, found {line!r}")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


def init(home: Path) -> list[Path]:
    """Make `home` a working directory: the settings file, the CORE protocol to edit and var/.

    Refuses a directory that already has a settings file, so nothing in use is overwritten.
    """
    home = home.resolve()
    env_file = home / ENV_FILE
    if env_file.exists():
        raise FileExistsError(f"{env_file} already exists; nothing was changed")
    (home / "var").mkdir(parents=True, exist_ok=True)
    protocol = home / "protocol.yaml"
    if not protocol.exists():
        shutil.copyfile(EXAMPLE_PROTOCOL, protocol)
    env_file.write_text(
        "# Settings of this aftercrisis installation, read by `aftercrisis` (run here, or with\n"
        "# AFTERCRISIS_HOME set to this directory) and by systemd's EnvironmentFile=.\n"
        f"AFTERCRISIS_HOME={home}\n"
        "AFTERCRISIS_PROTOCOL=protocol.yaml\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        "ALLOWED_HOSTS=127.0.0.1,localhost\n"
        "# DATABASE_URL=postgres://aftercrisis:PASSWORD@127.0.0.1:5432/aftercrisis  (default: SQLite in var/)\n"
        "# AFTERCRISIS_BIND=127.0.0.1:8000\n"
        "# AFTERCRISIS_WORKERS=5\n"
        "# AFTERCRISIS_THREADS=4\n",
        encoding="utf-8",
    )
    env_file.chmod(0o600)  # it holds the secret key
    return [env_file, protocol, home / "var"]

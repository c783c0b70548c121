"""Writing a bench result: the machine it ran on, and one JSON file per kind and day under var/bench/."""

import datetime
import json
import os
import platform
from pathlib import Path


def header() -> dict:
    """When and on what machine: a benchmark number means nothing without them."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }


def write(report: dict, *, out: str, kind: str) -> Path:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{datetime.date.today():%Y-%m-%d}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Written {path}")
    return path

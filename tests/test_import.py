"""`import tracking` stays light: no Ray, no database driver, no pandas until they are used."""

from __future__ import annotations

import subprocess
import sys


def test_import_tracking_does_not_import_ray_or_heavy_backends() -> None:
    code = (
        "import sys, tracking\n"
        "heavy = [m for m in ('ray', 'pandas', 'sqlalchemy', 'boto3') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

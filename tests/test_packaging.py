"""What `pip install .` (not -e) installs: the code and every file it reads at run time."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_runbooks_templates_migrations_and_the_plugins(tmp_path):
    # From a copy: a build/ folder left in the checkout by an earlier build would be packed again.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "node_modules",
                                                                 "__pycache__", "_artifacts", "instance"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("support_console-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {path.relative_to(ROOT).as_posix() for path in (ROOT / "runbooks").glob("*.md")}
    assert shipped and shipped <= names, sorted(shipped - names)
    for needed in ("console/templates/admin/base.html", "console/static/console.css", "console/migrations/console/env.py",
                   "admin_tasks/accounts/unlock_account.py", "admin_tasks/shop/records.py"):
        assert needed in names, needed
    assert not any(name.startswith("tests/") for name in names)

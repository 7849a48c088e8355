"""The library's walls (import-linter contracts in pyproject.toml) hold, and they can fail."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed in this environment")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {"PATH": str(LINT.parent), "PYTHONPATH": str(root), "HOME": str(root)}
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, env=env)


def test_every_contract_is_kept():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


@pytest.mark.parametrize("importer,line,contract", [
    ("algos/ppo.py", "from ..envs import cake  # noqa", "Learners know no economy"),
    ("markets/goods.py", "from ..envs import cake  # noqa", "Markets are pure"),
    ("envs/cake.py", "from .. import plots  # noqa", "Economies hold only economics"),
    ("contract.py", "from . import nets  # noqa", "Layers"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path, importer, line, contract):
    shutil.copytree(ROOT / "macrobook", tmp_path / "macrobook", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "macrobook" / importer
    target.write_text(target.read_text() + "\n" + line + "\n")
    r = _lint(tmp_path)
    assert r.returncode != 0, r.stdout
    broken = [ln for ln in r.stdout.splitlines() if ln.endswith("BROKEN")]
    assert any(contract in ln for ln in broken), r.stdout


def test_a_new_circular_import_breaks_the_acyclic_contract(tmp_path):
    shutil.copytree(ROOT / "macrobook", tmp_path / "macrobook", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    offline = tmp_path / "macrobook" / "llm" / "offline.py"
    offline.write_text(offline.read_text() + "\nfrom . import client  # noqa\n")   # client already imports offline
    r = _lint(tmp_path)
    assert r.returncode != 0
    assert any("No circular imports" in ln and ln.endswith("BROKEN") for ln in r.stdout.splitlines()), r.stdout

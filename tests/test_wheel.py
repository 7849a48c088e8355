"""The package as a user installs it: `make wheel` builds a wheel; installed into a fresh virtual
environment (not the source tree), it runs Chapter 1 with QUICK=True.

The fresh environment borrows the heavy dependencies (torch, numpy, jupyter) from the project's
environment through a .pth file instead of downloading them again; macrobook itself comes only from
the wheel, and the test checks that the chapter's kernel imported it from there.
"""
import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.notebook
def test_wheel_installs_and_runs_chapter_1(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], check=True)
    wheels = list(dist.glob("macrobook-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(purelib), str(wheels[0])],
                   check=True)
    # the dependencies, from this environment: plain directories only, so its editable macrobook is not seen
    deps = [p for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
            if Path(p).is_dir()]
    (purelib / "zz_project_deps.pth").write_text("\n".join(deps) + "\n")
    work = tmp_path / "run"
    work.mkdir()
    nb = json.loads((ROOT / "notebooks" / "01_rl_fundamentals.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "id": "wheel-check",
                        "source": "import macrobook\nprint('macrobook imported from', macrobook.__file__)"})
    (work / "ch1.ipynb").write_text(json.dumps(nb))
    probe = ("import json, macrobook; print(json.dumps({'file': macrobook.__file__}))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # nothing may point at the source tree
    where = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, check=True, cwd=work, env=env)
    assert json.loads(where.stdout)["file"].startswith(str(purelib)), where.stdout
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    run = subprocess.run([str(py), "-m", "papermill", "ch1.ipynb", "out.ipynb", "-p", "QUICK", "True", "-k", "python3",
                          "--no-progress-bar"], cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads((work / "out.ipynb").read_text())
    errors = [o for c in out["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    used = [line for c in out["cells"] for o in c.get("outputs", []) for line in "".join(o.get("text", "")).splitlines()
            if line.startswith("macrobook imported from ")]
    assert used and all(str(purelib) in line for line in used), used

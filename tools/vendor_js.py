"""The JavaScript the book serves itself instead of loading it from a CDN: the ipywidgets HTML
manager (renders the saved state of widgets with no kernel) and RequireJS, which loads it.

    python tools/vendor_js.py [--dest _build/html/_static/widgets]

Each package is pinned to a version and to the sha512 integrity the npm registry publishes for it;
``npm pack`` fetches the tarball once into ``_build/vendor/`` (a cache), the digest is checked, and
the files a page needs are copied to ``dest``. ``_config.yml`` (``nb_ipywidgets_js``) points the
pages at ``_static/widgets/``. MathJax ships in a PyPI package instead (sphinx-mathjax-offline).

The files are copied after Sphinx has finished: Jupyter Book adds every .js file found under a
static path to every page, and only pages with widgets need these 3.7 MB.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / "vendor"
# package: (version, integrity published by the registry, files under package/ to serve)
PACKAGES = {
    "@jupyter-widgets/html-manager": (
        "1.0.15", "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        ["dist/embed-amd.js"]),
    "requirejs": (
        "2.3.8", "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        ["require.js"]),
}


# The widget manager typesets labels with MathJax 2's ``MathJax.Hub.Queue``; the book ships MathJax 3,
# which has no Hub: without this shim every widget on a page throws "reading 'Queue'".
MATHJAX_HUB_SHIM = """// written by tools/vendor_js.py: MathJax 2's Hub.Queue for the ipywidgets HTML manager, on MathJax 3
(function () {
  function shim() {
    var M = window.MathJax;
    if (M && !M.Hub) {
      M.Hub = {Queue: function (job) {
        var el = job && job[2], MJ = window.MathJax;
        if (el && MJ && MJ.typesetPromise) { MJ.typesetPromise([el]).catch(function () {}); }
      }};
    }
  }
  shim();
  document.addEventListener("DOMContentLoaded", shim);
  window.addEventListener("load", shim);
})();
"""


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def tarball(name: str) -> Path:
    """The package's tarball in the cache, fetched with ``npm pack`` if missing; digest checked."""
    version, integrity, _ = PACKAGES[name]
    CACHE.mkdir(parents=True, exist_ok=True)
    tgz = CACHE / (name.lstrip("@").replace("/", "-") + f"-{version}.tgz")
    if not tgz.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(f"npm is needed once to fetch {name}@{version} for pages with widgets "
                             "(Debian: apt-get install npm), or put its tarball in " + str(CACHE))
        subprocess.run([npm, "pack", f"{name}@{version}", "--pack-destination", str(CACHE), "--silent"],
                       check=True, stdout=subprocess.DEVNULL)
    got = _integrity(tgz)
    if got != integrity:
        tgz.unlink()
        raise SystemExit(f"{name}@{version}: integrity {got} does not match the pinned {integrity}")
    return tgz


def vendor(dest: Path) -> list[Path]:
    """Copy every pinned file to ``dest`` (flat: embed-amd.js, require.js) and write the MathJax shim."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "mathjax-hub-shim.js").write_text(MATHJAX_HUB_SHIM)
    out = [dest / "mathjax-hub-shim.js"]
    for name, (_, _, files) in PACKAGES.items():
        with tarfile.open(tarball(name)) as tar:
            for f in files:
                member = tar.extractfile(f"package/{f}")
                target = dest / Path(f).name
                target.write_bytes(member.read())
                out.append(target)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", default=str(ROOT / "_build" / "html" / "_static" / "widgets"))
    args = ap.parse_args(argv)
    for p in vendor(Path(args.dest)):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())

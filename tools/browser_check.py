"""Open every built page in headless Chromium from disk, with the network cut, and report what a
reader would see.

    python tools/browser_check.py [_build/html] [--pages notebooks/03_six_sector_maddpg.html ...]

For each page it reports, as JSON: the assets fetched from anywhere but the disk, assets that failed
to load, script errors, maths left as raw TeX (``\\(`` or ``\\[`` in the text outside code), how many
formulas MathJax typeset, images that did not load, and, for each scenario slider, whether moving it
changed the figure and its text. Exit status 1 when any page fails (see ``failures``).

How: the pages are copied to a temporary folder and a small probe script is put at the top of each
page's ``<head>`` (the built book itself is not touched). Headless Chromium runs with a proxy that
refuses every connection; the probe waits for MathJax to finish, moves the sliders and writes its
findings into the DOM, and this script reads them back over the DevTools protocol on a pipe
(``--remote-debugging-pipe``). No Selenium, no driver, no port, no download: only Debian's chromium.
"""
from __future__ import annotations

import argparse
import html as htmlmod
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Messages the themes print on any first visit (no stored light/dark choice yet): not errors of ours.
KNOWN_THEME_MESSAGES = ("Got invalid theme mode: . Resetting to auto.",)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")

PROBE = r"""<script>
(function(){
  var R = window.__mbProbe = {errors: [], failed: []};
  window.addEventListener('error', function(e){
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { R.failed.push(t.src || t.href); }
    else { R.errors.push(String(e.message || e)); }
  }, true);
  window.addEventListener('unhandledrejection', function(e){ R.errors.push('unhandled rejection: ' + String(e.reason)); });
  var ce = console.error;
  console.error = function(){ R.errors.push(Array.prototype.map.call(arguments, String).join(' ')); return ce.apply(console, arguments); };
  function rawTeX(){
    var out = [], skip = {PRE:1, CODE:1, SCRIPT:1, STYLE:1, TEXTAREA:1, 'MJX-ASSISTIVE-MML':1};
    var w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, null);
    var n;
    while ((n = w.nextNode())) {
      var p = n.parentNode, bad = false;
      while (p && p !== document.body) { if (skip[p.nodeName] || (p.classList && (p.classList.contains('highlight') || p.classList.contains('output')))) { bad = true; break; } p = p.parentNode; }
      if (!bad && /\\\(|\\\[/.test(n.nodeValue)) out.push(n.nodeValue.trim().slice(0, 80));
    }
    return out;
  }
  async function sliders(){
    var res = [];
    for (const root of document.querySelectorAll('.mb-scenario-slider')) {
      var img = root.querySelector('img.mb-frame'), txt = root.querySelector('pre.mb-text');
      var ins = root.querySelectorAll('input.mb-param'), outs = root.querySelectorAll('output.mb-value');
      var r = {id: root.id, inputs: ins.length, moves: []};
      for (var k = 0; k < ins.length; k++) {
        var inp = ins[k];
        var before = {src: img.src, text: txt.textContent, label: outs[k].textContent};
        var old = +inp.value, to = old < +inp.max ? +inp.max : +inp.min;
        inp.value = String(to);
        inp.dispatchEvent(new Event('input', {bubbles: true}));
        var loaded = true;
        try { await img.decode(); } catch (e) { loaded = false; }
        var after = {src: img.src, text: txt.textContent, label: outs[k].textContent};
        r.moves.push({param: k, from: old, to: to, img_changed: before.src !== after.src,
                      text_changed: before.text !== after.text, label_before: before.label, label_after: after.label,
                      text_after: after.text.slice(0, 300), img_loaded: loaded && img.naturalWidth > 0});
        inp.value = String(old);
        inp.dispatchEvent(new Event('input', {bubbles: true}));
      }
      res.push(r);
    }
    return res;
  }
  async function report(){
    var sl = await sliders();
    var imgs = Array.prototype.slice.call(document.images);
    var res = {
      url: location.href,
      mathjax: !!(window.MathJax && window.MathJax.version), mathjax_version: window.MathJax && window.MathJax.version,
      math_spans: document.querySelectorAll('.math').length,
      typeset: document.querySelectorAll('mjx-container').length,
      raw_tex: rawTeX(),
      images: imgs.length,
      images_broken: imgs.filter(function(i){ return !(i.complete && i.naturalWidth > 0); }).map(function(i){ return (i.getAttribute('src') || '').slice(0, 100); }),
      remote: performance.getEntriesByType('resource').map(function(e){ return e.name; }).filter(function(u){ return !/^(file|data|blob|about):/.test(u); }),
      failed: R.failed, errors: R.errors, sliders: sl,
      clipped_outputs: Array.prototype.slice.call(document.querySelectorAll('div.cell_output pre, div.output pre'))
        .filter(function(e){ return e.scrollWidth > e.clientWidth + 1; })
        .map(function(e){ return e.textContent.slice(0, 60); }),
      echoed_html: Array.prototype.slice.call(document.querySelectorAll('pre'))
        .filter(function(e){ return e.textContent.indexOf('class="mb-scenario-slider"') >= 0; }).length,
      widget_views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
      widgets_rendered: document.querySelectorAll('.jupyter-widgets').length
    };
    var pre = document.createElement('pre');
    pre.id = 'mb-probe-result';
    pre.textContent = JSON.stringify(res);
    document.body.appendChild(pre);
  }
  window.addEventListener('load', function(){
    var p = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
    Promise.resolve(p).then(function(){ setTimeout(report, 300); }, function(e){ R.errors.push('MathJax: ' + e); setTimeout(report, 300); });
  });
})();
</script>"""


def find_chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chapter_pages(html_dir: Path) -> list[Path]:
    """The chapter pages and the book's own pages (what a reader opens)."""
    pages = sorted((html_dir / "notebooks").glob("[0-9][0-9]_*.html")) + sorted((html_dir / "book").glob("*.html"))
    return pages


def _inject(page: Path) -> None:
    text = page.read_text(errors="replace")
    text, n = re.subn(r"<head(\s[^>]*)?>", lambda m: m.group(0) + PROBE, text, count=1)
    if not n:
        raise ValueError(f"{page}: no <head> to put the probe in")
    page.write_text(text)


class _Pipe:
    """Chromium's DevTools protocol over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, messages
    separated by NUL): no websocket library, no driver, no port."""

    def __init__(self, chromium: str, profile: str):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def fds():   # in the child: the pipe ends at fd 3 and 4, as Chromium expects
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             # the network is cut: every http(s) request goes to a proxy that refuses it
             "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
             "--allow-file-access-from-files", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=fds)   # preexec runs before the close: keep 3 and 4
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._id = b"", 0

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError(f"{method}: no answer from chromium in {timeout} s")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        for fd in (self._w, self._r):
            os.close(fd)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def probe(chromium: str, page: Path, timeout_s: float = 120) -> dict:
    """Open ``page`` (probe already injected) and wait for the probe's report."""
    with tempfile.TemporaryDirectory(prefix="mb-chrome-") as profile:
        cdp = _Pipe(chromium, profile)
        try:
            target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            cdp.call("Page.navigate", {"url": page.as_uri()}, session)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                got = cdp.call("Runtime.evaluate", {
                    "expression": "(function(){var e=document.getElementById('mb-probe-result');"
                                  "return e ? e.textContent : null})()", "returnByValue": True}, session)
                value = got.get("result", {}).get("value")
                if value:
                    return json.loads(value)
                time.sleep(0.25)
        finally:
            cdp.close()
    return {"url": page.as_uri(), "probe": f"no result in {timeout_s:.0f} s (the page never finished loading)",
            "errors": [], "failed": [], "remote": [], "raw_tex": [], "images_broken": [], "sliders": []}


def failures(res: dict, page_name: str) -> list[str]:
    bad = []
    if "probe" in res:
        bad.append(res["probe"])
    if res.get("remote"):
        bad.append(f"fetched from the network: {res['remote'][:5]}")
    if res.get("failed"):
        bad.append(f"assets failed to load: {res['failed'][:5]}")
    errors = [e for e in res.get("errors", []) if e not in KNOWN_THEME_MESSAGES]
    if errors:
        bad.append(f"script errors: {errors[:5]}")
    if res.get("raw_tex"):
        bad.append(f"maths left as raw TeX: {res['raw_tex'][:3]}")
    if res.get("math_spans", 0) and not res.get("typeset"):
        bad.append(f"{res['math_spans']} formulas and none typeset (MathJax loaded: {res.get('mathjax')})")
    if res.get("images_broken"):
        bad.append(f"images not loaded: {res['images_broken'][:5]}")
    if res.get("echoed_html"):
        bad.append(f"{res['echoed_html']} slider(s) also printed as raw HTML text")
    if res.get("clipped_outputs"):
        bad.append(f"{len(res['clipped_outputs'])} printed outputs wider than the column: {res['clipped_outputs'][:2]}")
    if res.get("widget_views", 0) and not res.get("widgets_rendered", 0):
        bad.append(f"{res['widget_views']} saved widgets and none rendered")
    for s in res.get("sliders", []):
        for mv in s["moves"]:
            if not (mv["img_changed"] and mv["img_loaded"]):
                bad.append(f"slider {s['id']} parameter {mv['param']}: moving it did not change the figure")
            if mv["label_before"] == mv["label_after"]:
                bad.append(f"slider {s['id']} parameter {mv['param']}: its value label did not change")
    return bad


def check(html_dir: Path, pages: list[str] | None = None, workers: int = 2) -> dict:
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium on PATH (Debian: apt-get install chromium)")
    html_dir = Path(html_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="mb-book-") as tmp:
        copy = Path(tmp) / "html"
        shutil.copytree(html_dir, copy)
        targets = [copy / p for p in pages] if pages else chapter_pages(copy)
        for t in targets:
            _inject(t)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda t: probe(chromium, t), targets))
        report = {}
        for t, res in zip(targets, results):
            name = str(t.relative_to(copy))
            res["failures"] = failures(res, name)
            report[name] = res
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("html_dir", nargs="?", default=str(ROOT / "_build" / "html"))
    ap.add_argument("--pages", nargs="*", help="pages relative to html_dir (default: every chapter and book page)")
    ap.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = ap.parse_args(argv)
    report = check(Path(args.html_dir), args.pages)
    if args.json:
        print(json.dumps(report, indent=1))
    bad = 0
    for name, res in report.items():
        sl = ", ".join(f"{s['id']}: {len(s['moves'])} moved" for s in res.get("sliders", []))
        status = "FAIL" if res["failures"] else "ok"
        print(f"{status:4} {name}: {res.get('typeset', 0)}/{res.get('math_spans', 0)} formulas typeset, "
              f"{res.get('images', 0)} images, sliders [{sl}]")
        for f in res["failures"]:
            print(f"       {f}")
        bad += bool(res["failures"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

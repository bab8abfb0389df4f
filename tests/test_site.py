"The website: built from _quarto.yml (offline renderer here) and checked in headless Chromium."
import functools, http.server, json, threading, time, urllib.parse, urllib.request
from pathlib import Path
import pytest
from conftest import ROOT
from browser import Browser, find_chromium

MISSING = []  # requests the site's server answered with 404

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from lpc_book.site import render_offline
    from lpc_book.report import build_report
    build_report(ROOT)
    out = render_offline(ROOT, tmp_path_factory.mktemp("site") / "_site", quiet=True)
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            if len(args) > 1 and str(args[1]) == "404": MISSING.append(args[0])
    handler = functools.partial(Handler, directory=str(out))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield out, f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()

@pytest.fixture(scope="module")
def browser():
    exe = find_chromium(install=True)
    if exe is None: pytest.skip("chromium is missing and could not be installed (apt-get install chromium)")
    b = Browser(exe); yield b; b.close()

def test_every_page_of_quarto_is_built(site):
    from lpc_book.site import read_quarto, site_pages, out_path
    out, _ = site
    pages = site_pages(read_quarto(ROOT), ROOT)
    assert pages[0][1] == "index.qmd" and (out / "index.html").exists()
    assert any(p == "report/report.ipynb" for _, p in pages)
    for _, p in pages: assert (out / out_path(p)).stat().st_size > 1000, p

def test_pages_links_images_in_chromium(site, browser, tmp_path):
    out, base = site
    pages = json.loads((out / "pages.json").read_text())["pages"]
    checked_links = set()
    for page in pages:
        url = base + page["html"]
        browser.goto(url)
        assert browser.eval("document.body && document.body.innerText.length") > 50, url
        imgs = browser.eval("Array.from(document.images).map(i => [i.src.slice(0, 80), i.complete, i.naturalWidth, i.naturalHeight])")
        for src, complete, w, h in imgs: assert complete and w > 0 and h > 0, (url, src)
        links = browser.eval("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        for link in links:
            link = link.split("#")[0]
            if not link.startswith(base) or link in checked_links: continue
            checked_links.add(link)
            with urllib.request.urlopen(link) as r: assert r.status == 200, (url, link)
        if "MathJax" in browser.eval("document.documentElement.outerHTML.slice(0, 200000)"):
            assert browser.eval("!!document.querySelector('script[src*=\"site_libs/mathjax/MathJax.js\"]')"), url
    assert len(checked_links) >= len(pages)
    assert not MISSING, f"pages asked for files the site lacks: {MISSING[:5]}"

def test_report_main_table_has_a_row_per_method(site, browser, tmp_path):
    out, base = site
    browser.goto(base + "report/report.html")
    tables = browser.eval("Array.from(document.querySelectorAll('table[id^=\"main-table\"]')).map(t => [t.id, "
                          "Array.from(t.querySelectorAll('tbody tr')).map(r => r.cells[0].innerText)])")
    assert tables, "the report has no main table: run `make book` (or commit runs) first"
    from lpc_book.runs import list_runs
    for tid, methods in tables:
        # a run cut to some methods (`-p method '[...]'`) has its own table, "main-table-<profile>-<methods>-only"
        assert len(methods) == len(set(methods)) and len(methods) >= (1 if tid.endswith("-only") else 2), (tid, methods)
    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.stat().st_size > 10_000
    print(f"report screenshot: {shot}")

def test_offline_maths_is_typeset(site, browser):
    "A page with LaTeX gets typeset by the local MathJax (no network)."
    out, base = site
    pages = json.loads((out / "pages.json").read_text())["pages"]
    page = next(p for p in pages if p["source"] == "nbs/00_data.ipynb")
    browser.goto(base + page["html"])
    # wait on MathJax's own End hook (up to 60 s), not a fixed 10 s poll: on a loaded 2-core CI machine the poll
    # ran out before MathJax had typeset the page (a clean-clone CI simulation of d9d9007)
    n = browser.eval(MATHJAX_DONE)
    assert n is not None and n > 0, f"MathJax missing, stuck or typeset nothing: {n}"
    assert browser.eval("document.querySelectorAll('.MathJax, .MathJax_Display, mjx-container').length") > 0
    time.sleep(1)
    # the site's configuration was read before MathJax started (it falls back to TeX fonts, which the site lacks)
    assert browser.eval('MathJax.Hub.config["HTML-CSS"].webFont') == "STIX-Web"
    assert not MISSING, f"MathJax asked for files the site lacks: {MISSING[:5]}"

# Resolves, once MathJax has started and typeset the page, to the number of typeset formulas (null: no MathJax on
# the page; -1: still not done after 60 s). The hook's callback must return nothing: MathJax waits on a returned
# callback, and the queue's would only run after the hook.
MATHJAX_DONE = """new Promise(resolve => {
  if (!window.MathJax || !MathJax.Hub) return resolve(null);
  setTimeout(() => resolve(-1), 60000);
  MathJax.Hub.Register.StartupHook("End", () => { MathJax.Hub.Queue(() => {
    resolve(document.querySelectorAll('.MathJax, .MathJax_Display, mjx-container').length); }); });
})"""

def test_no_page_loads_anything_from_the_network(site, browser):
    """Every page, opened in Chromium, requests only files of the site (the local server, or data: URIs) until its
    maths is typeset by the local MathJax; and its HTML names no remote script, stylesheet, font or image.
    The browser resolves no host but localhost, so a remote request is still reported (requestWillBeSent) but
    fails at once: nothing leaves the machine, and since it never succeeds it is never cached either."""
    from lpc_book.site import remote_refs
    out, base = site
    pages = json.loads((out / "pages.json").read_text())["pages"]
    browser.record_network()
    on_site = lambda u: u.startswith(base) or u.startswith(("data:", "blob:", "about:"))
    maths, off_site, in_html, asked, t0 = {}, {}, {}, set(), time.time()
    for page in pages:
        url = base + page["html"]
        browser.goto(url)
        maths[page["html"]] = browser.eval(MATHJAX_DONE)
        browser.drain(0.2)  # requests the page starts once typeset (fonts of the laid-out maths)
        reqs = browser.requests()
        assert reqs and reqs[0] == url, (url, reqs[:3])
        asked.update(reqs)
        if bad := [u for u in reqs if not on_site(u)]: off_site[page["html"]] = bad
        if refs := remote_refs((out / page["html"]).read_text()): in_html[page["html"]] = refs
    assert not off_site, f"pages load files from outside the site: {off_site}"
    assert not in_html, f"pages name files outside the site: {in_html}"
    assert all(n is not None and n >= 0 for n in maths.values()), f"MathJax missing or stuck: {maths}"
    assert maths["nbs/00_data.html"] > 0, "the maths of chapter 00 was not typeset"
    assert any("site_libs/mathjax/fonts/" in u for u in asked), "MathJax used no local web font"
    assert not MISSING, f"pages asked for files the site lacks: {MISSING[:5]}"
    print(f"{len(pages)} pages in {time.time() - t0:.0f} s, {len(asked)} distinct requests, all on the site; "
          f"formulas typeset per page: {maths}")

"""The website: built from _quarto.yml (offline renderer here) and checked in headless Chromium as a reader sees it:
the front page's findings above the fold, pages without code prompts, tables that fit or scroll in their own box,
images with alt text, unique anchors, small pages, no machine paths, nothing loaded from the network."""
import functools, http.server, json, re, subprocess, threading, time, urllib.parse, urllib.request
from pathlib import Path
import pytest
from conftest import ROOT
from browser import Browser, find_chromium

MISSING = []  # requests the site's server answered with 404
SHOTS = Path("/tmp/lpc_book_site_screenshots")  # one screenshot per results page (the closing notes read them)

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

def pages_of(out): return json.loads((out / "pages.json").read_text())["pages"]

def test_every_page_of_quarto_is_built(site):
    from lpc_book.site import read_quarto, site_pages, render_pages, out_path
    out, _ = site
    cfg = read_quarto(ROOT)
    side = [p for _, p in site_pages(cfg, ROOT)]
    assert side[0] == "index.qmd" and (out / "index.html").exists()
    assert {f"report/{n}.ipynb" for n in ("claims", "lpc_vs_baselines", "flow_prior", "runs", "bench")} <= set(side)
    assert not any(p.startswith("runs/") for p in side), "run notebooks belong on their experiment's page, not the sidebar"
    runs = [p for s, p in render_pages(cfg, ROOT) if s is None]
    assert runs and all(re.match(r"runs/[^/]+/[^/]+/notebook\.ipynb$", p) for p in runs)  # rendered, linked from the report
    for _, p in render_pages(cfg, ROOT): assert (out / out_path(p)).stat().st_size > 1000, p

# Measured in the page: tables wider than the page with no box of their own that scrolls, repeated ids, images that
# did not load or whose alt text says nothing, code prompts. A table may overflow inside an element that scrolls
# sideways (overflow-x auto or scroll) and itself fits the page.
READ = """(() => {
  const W = document.documentElement.clientWidth;
  const boxed = t => { for (let e = t.parentElement; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (['auto', 'scroll'].includes(s.overflowX)) return e.getBoundingClientRect().right <= W + 1; }
    return false; };
  const wide = Array.from(document.querySelectorAll('table')).filter(t => t.getBoundingClientRect().right > W + 1 && !boxed(t));
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);
  return {wide: wide.map(t => t.id || t.innerText.slice(0, 60)), page_wider: document.documentElement.scrollWidth > W + 1,
          repeated: ids.filter((x, i) => ids.indexOf(x) !== i),
          images: Array.from(document.images).map(i => [i.getAttribute('src').slice(0, 80), i.complete && i.naturalWidth > 0,
                                                         i.getAttribute('alt')]),
          prompts: (document.body.innerText.match(/^\\s*(In|Out)\\s*\\[[ 0-9]*\\]:/gm) || []).length
                   + Array.from(document.querySelectorAll('.jp-InputPrompt, .jp-OutputPrompt, .prompt')).filter(e => e.innerText.trim()).length,
          text: document.body.innerText.length};
})()"""

def meaningful(alt):
    "Alt text that says something: words, not nbconvert's placeholder nor a file name."
    return bool(alt) and len(alt.split()) >= 3 and "No description" not in alt and not re.fullmatch(r"[\w./-]+\.(png|jpe?g|svg)", alt)

def test_every_page_reads_in_chromium(site, browser):
    """Every page: loads, its links and images resolve, no `In [ ]:` prompt, every table fits the page or scrolls in
    its own box (and the page never scrolls sideways), every image has a meaningful alt text, ids are unique, the
    HTML is under 2 MB and names no folder of the machine it was built on."""
    out, base = site
    pages, checked_links, problems = pages_of(out), set(), {}
    machine = re.compile(re.escape(str(ROOT)) + r"|(?<![\w.~])/(?:work|home|root|tmp|Users|mnt|scratch)/[\w.-]+")
    for page in pages:
        url = base + page["html"]
        browser.goto(url)
        r = browser.eval(READ)
        bad = {k: v for k, v in dict(wide=r["wide"], page_wider=r["page_wider"], repeated_ids=r["repeated"],
                                      prompts=r["prompts"], not_loaded=[s for s, ok, _ in r["images"] if not ok],
                                      alt=[(s, a) for s, _, a in r["images"] if not meaningful(a)]).items() if v}
        html = (out / page["html"]).read_text()
        if (out / page["html"]).stat().st_size > 2_000_000: bad["size"] = (out / page["html"]).stat().st_size
        if m := machine.search(html): bad["machine_path"] = html[max(0, m.start() - 60):m.end() + 20]
        if r["text"] < 50: bad["empty"] = r["text"]
        if bad: problems[page["html"]] = bad
        for link in browser.eval("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"):
            link = link.split("#")[0]
            if not link.startswith(base) or link in checked_links: continue
            checked_links.add(link)
            with urllib.request.urlopen(link) as resp: assert resp.status == 200, (url, link)
    assert not problems, problems
    assert len(checked_links) >= len([p for p in pages if p["sidebar"]])
    assert not MISSING, f"pages asked for files the site lacks: {MISSING[:5]}"

def test_front_page_opens_with_the_findings(site, browser):
    "Above the fold (1280 x 900): the claims table with its verdicts and at least one figure of the runs."
    out, base = site
    browser.goto(base + "index.html")
    fold = browser.eval("window.innerHeight")
    table = browser.eval("""(() => { const t = document.getElementById('claims-summary');
        return t && {top: t.getBoundingClientRect().top, verdicts: Array.from(t.querySelectorAll('td.verdict')).map(c => c.innerText)}; })()""")
    assert table and table["top"] < fold, table
    assert table["verdicts"] and set(table["verdicts"]) <= {"held", "not held", "inconclusive", "pending"}, table
    figs = browser.eval("Array.from(document.querySelectorAll('figure img')).map(i => [i.getBoundingClientRect().top, i.naturalWidth, i.alt])")
    assert any(top < fold - 150 and w > 0 for top, w, _ in figs), (fold, figs)  # a figure starts in the first screen
    assert "What it found" in browser.eval("document.body.innerText")
    SHOTS.mkdir(exist_ok=True)
    shot = browser.screenshot(SHOTS / "index.png")
    assert shot.stat().st_size > 10_000

def test_report_main_table_has_a_row_per_method(site, browser):
    out, base = site
    SHOTS.mkdir(exist_ok=True)
    for p in pages_of(out):  # a screenshot of each results page's first screen
        if p["source"].startswith("report/"):
            browser.goto(base + p["html"]); browser.screenshot(SHOTS / (Path(p["html"]).stem + ".png"))
    browser.goto(base + "report/lpc_vs_baselines.html")
    tables = browser.eval("Array.from(document.querySelectorAll('table[id^=\"main-table\"]')).map(t => [t.id, "
                          "Array.from(t.querySelectorAll('tbody tr')).map(r => r.cells[0].innerText)])")
    assert tables, "the report has no main table: run `make book` (or commit runs) first"
    for tid, methods in tables:
        # a run cut to some methods (`-p method '[...]'`) has its own table, "main-table-<profile>-<methods>-only"
        assert len(methods) == len(set(methods)) and len(methods) >= (1 if tid.endswith("-only") else 2), (tid, methods)
    print(f"screenshots of the results pages: {SHOTS}")

def test_runs_keep_what_the_book_shows():
    """runs/ holds (in git) only the runs the report uses or a chapter cites; each run removed is one line of
    runs/SUPERSEDED.md naming the commit it ran from and the commit that removed it."""
    from lpc_book.runs import list_runs
    from lpc_book.results import used_runs
    tracked = {Path(f).parts[1:3] for f in subprocess.run(["git", "ls-files", "runs"], cwd=ROOT, capture_output=True,
                                                          text=True, check=True).stdout.split() if f.count("/") >= 3}
    runs = [r for r in list_runs(ROOT / "runs") if (r.experiment, r.id) in tracked]
    chapters = " ".join(p.read_text() for p in (ROOT / "nbs").glob("[0-9]*.ipynb"))
    keep = {r.id for r in used_runs(runs)} | {r.id for r in runs if r.id.rsplit("-", 1)[-1] in chapters}
    assert not [f"{r.experiment}/{r.id}" for r in runs if r.id not in keep], \
        "runs the report does not use: remove them (git rm -r) and add a line each to runs/SUPERSEDED.md"
    assert not [r.id for r in runs if r.params.get("profile") == "smoke"], "smoke runs are CI checks: not committed"
    lines = [l for l in (ROOT / "runs" / "SUPERSEDED.md").read_text().splitlines() if l.startswith("| ") and "/" in l]
    for l in lines:
        run, ran, removed = [c.strip() for c in l.strip("|").split("|")]
        assert re.fullmatch(r"[\w]+/\d{8}-\d{6}-[0-9a-f]{6}", run) and re.fullmatch(r"[0-9a-f]{7}", removed), l
        assert not (ROOT / "runs" / run).exists(), f"{run} is listed as superseded but is still in runs/"

def test_offline_maths_is_typeset(site, browser):
    "A page with LaTeX gets typeset by the local MathJax (no network)."
    out, base = site
    page = next(p for p in pages_of(out) if p["source"] == "nbs/00_data.ipynb")
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
    pages = pages_of(out)
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

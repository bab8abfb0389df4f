"A minimal headless-Chromium driver over the DevTools protocol (websocket-client), for the site check."
import base64, json, os, shutil, socket, subprocess, tempfile, time, urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--hide-scrollbars"]

def find_chromium(install=True):
    "Path of Debian's chromium; installs it with apt-get when missing and `install` (root only)."
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p: return p
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, timeout=1200)
        return shutil.which("chromium")
    return None

def _free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

# Resolve no host name but localhost: a page that asks for a remote file still issues the request (and the
# DevTools protocol reports it) but it fails at once, so nothing leaves the machine and nothing waits on a timeout.
NO_REMOTE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"

class Browser:
    def __init__(self, exe, width=1280, height=900, no_remote=True):
        import websocket
        self.profile = tempfile.mkdtemp(prefix="lpc-chromium-")
        self.port = _free_port()
        self.events = []  # DevTools events (messages without an id) since the last goto()
        self.proc = subprocess.Popen([exe, *FLAGS, *([NO_REMOTE] if no_remote else []), f"--user-data-dir={self.profile}",
                                      f"--remote-debugging-port={self.port}", f"--window-size={width},{height}",
                                      "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=2)); break
            except OSError: time.sleep(0.2)
        else: raise RuntimeError("chromium did not start")
        page = next(t for t in tabs if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.i = 0
        self.call("Page.enable"); self.call("Runtime.enable")

    def call(self, method, **params):
        self.i += 1; mid = self.i
        self.ws.send(json.dumps(dict(id=mid, method=method, params=params)))
        while True:
            msg = self._recv()
            if msg.get("id") == mid:
                if "error" in msg: raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def _recv(self):
        msg = json.loads(self.ws.recv())
        if "method" in msg and "id" not in msg: self.events.append(msg)
        return msg

    def record_network(self):
        "Start reporting the page's network requests (see `requests`)."
        self.call("Network.enable")

    def drain(self, quiet=0.3, timeout=5):
        "Collect pending events until none arrives for `quiet` seconds (at most `timeout` seconds)."
        import websocket
        t0 = time.time()
        self.ws.settimeout(quiet)
        try:
            while time.time() - t0 < timeout:
                try: self._recv()
                except websocket.WebSocketTimeoutException: break
        finally: self.ws.settimeout(60)

    def requests(self):
        "URLs of every request the page made since the last goto() (`Network.requestWillBeSent`), in order."
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def goto(self, url, timeout=30):
        self.events = []
        self.call("Page.navigate", url=url)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.eval("document.readyState") == "complete": return
            time.sleep(0.1)
        raise TimeoutError(url)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r: raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        Path(path).write_bytes(base64.b64decode(data)); return Path(path)

    def close(self):
        try: self.ws.close()
        except Exception: pass
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

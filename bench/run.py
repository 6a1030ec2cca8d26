#!/usr/bin/env python3
"""`make bench`: libodp's benchmarks and its peers, side by side, in one run on one machine.

    python3 bench/run.py [--runs 5] [--skip-build]

Builds what it needs (the release library and the collector example, bench/c/odp_bench.c, the Go
program in bench/go, a Python venv under target/bench-venv with the pinned Optimizely Python SDK,
matplotlib and libodp's binding), starts one local collector in count-only mode on 127.0.0.1, runs
every measurement --runs times (interleaved, so that background load spreads over all of them),
prints one table of medians, and writes bench/results.json and docs/bench.png.

Standard library only; the chart is drawn by bench/chart.py under the venv's Python. The method
is described in bench/README.md and in the "method" entry of results.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "target"
VENV = TARGET / "bench-venv"
VENV_PY = VENV / "bin" / "python"
LIB = TARGET / "release" / "libodp.so"
C_BENCH = TARGET / "odp_bench"
GO_BENCH = TARGET / "odp-go-bench"
COLLECTOR = TARGET / "release" / "examples" / "collector"
PREPARE_BENCH = ROOT / "benches" / "prepare.rs"
RESULTS = ROOT / "bench" / "results.json"
CHART = ROOT / "docs" / "bench.png"
REQUIREMENTS = ROOT / "bench" / "python" / "requirements.txt"
REFUSING_URL = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused

# Sizes. Each run is at most a few seconds; the whole `make bench` stays well under 10 minutes
# on 2 cores (see bench/README.md).
C_ENQUEUE = [(1, 200_000), (2, 100_000)]  # (threads, calls per thread): 200,000 calls each
C_THROUGHPUT_EVENTS = 200_000
C_BATCHES = [10, 100]
C_MEMORY_EVENTS = 100_000
PY = dict(events=20_000, window=500, calls=5_000, burst=500)
GO = dict(events=100_000, window=5_000, calls=50_000, burst=5_000)

METHOD = {
    "runs": "Every measurement runs N times (default 5), interleaved round by round (one round runs "
    "each measurement once, peers and libodp alternating which goes first); the table shows "
    "medians. A peer/libodp ratio is the median of the per-round ratios (both measured "
    "back to back), which cancels most of the machine's background load.",
    "seed_event": 'type "fullstack", action "purchased", identifiers {"fs_user_id":"user123",'
    '"email":"user123@example.com"}, data {"item":"shirt","price":50.0}',
    "collector": "one examples/collector in --count-only mode on 127.0.0.1 for the whole run: "
    "it checks that a POST /v3/events body is a JSON array, counts its elements and answers "
    "202; GET /_received returns the count (the run fails if the collector keeps connections "
    "that ended, which would slow it down for later clients)",
    "c_enqueue": "bench/c/odp_bench enqueue: 200,000 odp_send_event calls (1 thread, or 2 threads "
    "x 100,000), each timed with clock_gettime(CLOCK_MONOTONIC); queue_capacity 10,000,000 so "
    "none is refused; the dispatcher delivers to the collector meanwhile (batch 10)",
    "c_throughput": "bench/c/odp_bench throughput: 200,000 events sent as fast as accepted "
    "(queue_capacity 200,000), timed from the first send until odp_client_flush returns "
    "(every event acknowledged by the collector); HTTP requests = stats.batches_sent",
    "c_memory": "bench/c/odp_bench memory: process RSS with one idle client (and the RSS growth "
    "its creation caused, after a first client warmed the allocator); then 100,000 events queued "
    f"against {REFUSING_URL} (connections refused, so all stay pending): RSS growth / 100,000",
    "per_call": "each client's send call timed on its own (Python perf_counter_ns, Go "
    "time.Now); calls in bursts (Python 500, Go 5,000) well below both queues' capacity; "
    "between bursts, untimed, the run waits until the collector has counted every event, so "
    "every timed call is an accepted event and delivery runs in the background during a "
    "burst. After a warm-up whose events are delivered first.",
    "delivered": "N events (Python 20,000, Go 100,000) sent as fast as the client accepts them "
    "while at most W (Python 500, Go 5,000) are outstanding, i.e. sent but not yet counted by "
    "the collector (GET /_received is read only when the window is full); timed from the first "
    "send until the collector has counted all N. W is below every client's queue capacity "
    "(Python SDK 1,000, which drops silently; Go SDK and libodp 10,000), so nothing is lost; "
    "the run fails if the collector's count differs from the number sent. Both clients of a "
    "row use their default delivery settings (batches of 10, 1 s flush interval).",
    "peers": "Optimizely Python SDK optimizely-sdk==5.5.0 (Optimizely(datafile=...)."
    "send_odp_event) vs libodp.Client(datafile=...).send_event; Optimizely Go SDK "
    "github.com/optimizely/go-sdk/v2 v2.3.1 (OptimizelyFactory{Datafile}.StaticClient()."
    "SendOdpEvent) vs libodp's Go binding (odp.NewClient(Config{Datafile}).SendOdpEvent). "
    'Every client gets the same static datafile, whose integrations entry {"key":"odp",'
    '"publicKey":"bench-key","host":<collector URL>} points ODP at the collector.',
    "prepare": "cargo bench --bench prepare (benches/prepare.rs): event::prepare (validation, "
    "fs_user_id normalisation, common data, idempotence id, encoding) in a loop, no client; "
    "its own median of 11 samples of 200,000 events, run once per round",
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path = ROOT, env: Optional[dict[str, str]] = None,
        timeout: float = 900, capture: bool = False) -> str:
    """Runs cmd; exits with its output on failure. Returns stdout when capture is set."""
    full_env = dict(os.environ, **(env or {}))
    result = subprocess.run(cmd, cwd=cwd, env=full_env, timeout=timeout, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout or "")
            sys.stderr.write(result.stderr or "")
        sys.exit(f"[bench] failed ({result.returncode}): {' '.join(map(str, cmd))}")
    return result.stdout if capture else ""


def json_line(cmd: list[str], **kw: Any) -> dict[str, Any]:
    """Runs a benchmark program and parses the last JSON object it printed."""
    out = run(cmd, capture=True, **kw)
    for line in reversed(out.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    sys.exit(f"[bench] no JSON line from: {' '.join(map(str, cmd))}\n{out}")


# -- build ------------------------------------------------------------------------------------

def build(skip: bool) -> None:
    if skip:
        for path in (LIB, C_BENCH, GO_BENCH, COLLECTOR, VENV_PY):
            if not path.exists():
                sys.exit(f"[bench] --skip-build, but {path} is missing")
        return
    cargo = os.environ.get("CARGO", "cargo")
    log("cargo build --release --lib --example collector")
    run([cargo, "build", "--release", "--lib", "--example", "collector"])

    cc = os.environ.get("CC", "gcc")
    log("building bench/c/odp_bench.c")
    run([cc, "-O2", "-std=c99", "-Iinclude", "-pthread", "bench/c/odp_bench.c", "-o", str(C_BENCH),
         "-Ltarget/release", "-lodp", f"-Wl,-rpath,{TARGET / 'release'}"])

    log("go build bench/go (downloads the pinned Optimizely Go SDK on first use)")
    run(["go", "build", "-o", str(GO_BENCH), "."], cwd=ROOT / "bench" / "go")

    build_venv()


def build_venv() -> None:
    """target/bench-venv: requirements.txt once (re-done when it changes), then libodp's binding
    from bindings/python on every run, so the bench always measures the tree's binding. The
    binding is built from a copy under target/ so that nothing is written under bindings/."""
    stamp = VENV / ".bench-requirements"
    wanted = REQUIREMENTS.read_text()
    if not VENV_PY.exists():
        log(f"creating {VENV.relative_to(ROOT)}")
        run([sys.executable, "-m", "venv", str(VENV)])
    if not stamp.exists() or stamp.read_text() != wanted:
        log("pip install -r bench/python/requirements.txt")
        run([str(VENV_PY), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)])
        stamp.write_text(wanted)
    src = ROOT / "bindings" / "python"
    copy = TARGET / "bench-build" / "python-binding"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(src / name, copy / name)
    shutil.copytree(src / "src" / "libodp", copy / "src" / "libodp",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.dylib", "*.dll"))
    log("pip install bindings/python (libodp's binding)")
    run([str(VENV_PY), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--force-reinstall", str(copy)])


# -- machine ----------------------------------------------------------------------------------

def first_line(cmd: list[str], cwd: Path = ROOT) -> str:
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60).stdout
        return out.strip().splitlines()[0] if out.strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    go_mod = (ROOT / "bench" / "go" / "go.mod").read_text()
    go_sdk = re.search(r"github.com/optimizely/go-sdk/v2 (v\S+)", go_mod)
    venv_versions = first_line([str(VENV_PY), "-c",
                                "import sys, importlib.metadata as m; print(sys.version.split()[0], "
                                "m.version('optimizely-sdk'), m.version('matplotlib'))"]).split()
    dirty = bool(first_line(["git", "status", "--porcelain", "--untracked-files=no"]))
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory": mem,
        "kernel": f"{platform.system()} {platform.release()} {platform.machine()}",
        "rustc": first_line(["rustc", "--version"]),
        "go": first_line(["go", "version"]),
        "python": venv_versions[0] if venv_versions else "",
        "cc": first_line([os.environ.get("CC", "gcc"), "--version"]),
        "optimizely_python_sdk": venv_versions[1] if len(venv_versions) > 1 else "",
        "optimizely_go_sdk": go_sdk.group(1) if go_sdk else "",
        "matplotlib": venv_versions[2] if len(venv_versions) > 2 else "",
        "git_commit": first_line(["git", "rev-parse", "--short", "HEAD"]) + ("+dirty" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # Extra client configuration odp_bench.c appends when set (None: the defaults).
        "odp_bench_config": os.environ.get("ODP_BENCH_CONFIG"),
    }


# -- collector --------------------------------------------------------------------------------

class Collector:
    """examples/collector in count-only mode on 127.0.0.1, one for the whole run.

    Every client's runs use it in turn. The Python SDK opens a new connection for every batch
    (requests.post without a session), about 2,500 per run, so the collector must forget the
    connections that end: before be56996 it kept every one open (CLOSE_WAIT), slowed down after
    some 12,000 and would have run out of descriptors. open_fds() lets the run check that.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(COLLECTOR), "--port", "0", "--count-only", "--quiet", "--events-out", "/dev/null"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.stop()
            sys.exit(f"[bench] the collector did not start: {line!r}")
        self.url = m.group(1)
        with urllib.request.urlopen(self.url + "/health", timeout=5) as r:
            r.read()

    def count(self) -> int:
        with urllib.request.urlopen(self.url + "/_received", timeout=10) as r:
            return int(json.load(r)["event_count"])

    def open_fds(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.proc.pid}/fd"))
        except OSError:
            return -1

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- measurements -----------------------------------------------------------------------------

def c_enqueue(url: str, threads: int, calls: int) -> dict[str, Any]:
    r = json_line([str(C_BENCH), "enqueue", str(threads), str(calls), url])
    if r["refused"]:
        sys.exit(f"[bench] enqueue: {r['refused']} calls refused")
    return r


def c_throughput(url: str, batch: int) -> dict[str, Any]:
    return json_line([str(C_BENCH), "throughput", str(C_THROUGHPUT_EVENTS), str(batch), url])


def c_memory() -> dict[str, Any]:
    return json_line([str(C_BENCH), "memory", str(C_MEMORY_EVENTS), REFUSING_URL])


def python_run(url: str, client: str) -> dict[str, Any]:
    args = [f"--{k}={v}" for k, v in PY.items()]
    return json_line([str(VENV_PY), str(ROOT / "bench" / "python" / "bench_python.py"),
                      "--client", client, "--collector", url, *args],
                     env={"ODP_LIBRARY_PATH": str(LIB)}, timeout=300)


def go_run(url: str, client: str) -> dict[str, Any]:
    args = [f"-{k}={v}" for k, v in GO.items()]
    return json_line([str(GO_BENCH), "-client", client, "-collector", url, *args], timeout=300)


def prepare_run() -> Optional[dict[str, Any]]:
    """The micro-benchmark of the core's validate+serialize path, if benches/prepare.rs exists."""
    if not PREPARE_BENCH.exists():
        return None
    return json_line([os.environ.get("CARGO", "cargo"), "bench", "--quiet", "--bench", "prepare"])


# -- summary ----------------------------------------------------------------------------------

def med(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in rows))


def paired(peer: list[dict[str, Any]], ours: list[dict[str, Any]], key: str) -> float:
    """Median over rounds of peer[key] / libodp[key], both measured in the same round."""
    return float(statistics.median(float(p[key]) / float(o[key]) for p, o in zip(peer, ours)))


def summarize(raw: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    s: dict[str, Any] = {"c": {}, "python": {}, "go": {}}
    for threads, _ in C_ENQUEUE:
        rows = raw[f"c_enqueue_{threads}"]
        s["c"][f"enqueue_{threads}_thread"] = {
            k: med(rows, k) for k in ("p50_ns", "p99_ns", "max_ns", "mean_ns")}
    for batch in C_BATCHES:
        rows = raw[f"c_throughput_{batch}"]
        s["c"][f"throughput_batch_{batch}"] = {
            k: med(rows, k) for k in ("events_per_s", "seconds", "batches_sent", "delivered")}
        s["c"][f"throughput_batch_{batch}"]["events"] = C_THROUGHPUT_EVENTS
    rows = raw["c_memory"]
    s["c"]["memory"] = {k: med(rows, k) for k in
                        ("idle_client_rss_bytes", "idle_client_delta_bytes", "bytes_per_queued_event")}
    s["c"]["memory"]["events"] = C_MEMORY_EVENTS
    s["prepare"] = ({"ns_per_event": med(raw["prepare"], "ns_per_event")}
                    if raw.get("prepare") else None)

    for lang, unit in (("python", "us"), ("go", "ns")):
        peer, ours = raw[f"{lang}_sdk"], raw[f"{lang}_libodp"]
        row: dict[str, Any] = {"unit": unit}
        for key in (f"p50_{unit}", f"p99_{unit}", f"mean_{unit}", "events_per_s"):
            row[key] = {"sdk": med(peer, key), "libodp": med(ours, key),
                        "ratio_peer_over_libodp": paired(peer, ours, key)}
        row["sdk_version"] = peer[0].get("version") if lang == "python" else None
        s[lang] = row
    return s


def advantage(metric: str, ratio: float) -> float:
    """How many times better libodp is: a time ratio as is, a rate ratio inverted."""
    return 1.0 / ratio if metric == "events_per_s" else ratio


def targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    c1 = s["c"]["enqueue_1_thread"]
    py, go = s["python"], s["go"]
    rows = [
        ("C enqueue p50 <= 1 us (1 thread)", f"{c1['p50_ns']:.0f} ns", c1["p50_ns"] <= 1000),
        ("C enqueue p99 <= 10 us (1 thread)", f"{c1['p99_ns']:.0f} ns", c1["p99_ns"] <= 10000),
        (">= 100,000 events/s delivered at batch 10 (C)",
         f"{s['c']['throughput_batch_10']['events_per_s']:,.0f}/s",
         s["c"]["throughput_batch_10"]["events_per_s"] >= 100_000),
        (">= 10x the Python SDK's delivered events/s",
         f"{advantage('events_per_s', py['events_per_s']['ratio_peer_over_libodp']):.1f}x",
         advantage("events_per_s", py["events_per_s"]["ratio_peer_over_libodp"]) >= 10),
        (">= 10x the Python SDK's per-call speed (p50)",
         f"{py['p50_us']['ratio_peer_over_libodp']:.2f}x",
         py["p50_us"]["ratio_peer_over_libodp"] >= 10),
        ("ahead of the Go SDK per call (p50)",
         f"{go['p50_ns']['ratio_peer_over_libodp']:.2f}x",
         go["p50_ns"]["ratio_peer_over_libodp"] > 1),
        ("ahead of the Go SDK in delivered events/s",
         f"{advantage('events_per_s', go['events_per_s']['ratio_peer_over_libodp']):.2f}x",
         advantage("events_per_s", go["events_per_s"]["ratio_peer_over_libodp"]) > 1),
        ("<= 1 KiB per queued event", f"{s['c']['memory']['bytes_per_queued_event']:.0f} B",
         s["c"]["memory"]["bytes_per_queued_event"] <= 1024),
    ]
    return [{"target": t, "measured": m, "met": bool(ok)} for t, m, ok in rows]


def fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.0f} us"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def table(s: dict[str, Any], m: dict[str, Any], runs: int) -> str:
    out: list[str] = []
    w = out.append
    w(f"libodp benchmarks: medians of {runs} runs; {m['cpu']}, {m['cores']} cores, {m['kernel']}")
    w(f"{m['rustc']}; {m['go']}; Python {m['python']}; {m['date']}; commit {m['git_commit']}")
    w("")
    w(f"{'C (bench/c/odp_bench.c)':<44}{'p50':>10}{'p99':>10}{'max':>10}{'mean':>10}")
    for threads, calls in C_ENQUEUE:
        e = s["c"][f"enqueue_{threads}_thread"]
        w(f"{f'  enqueue, {threads} thread(s), {threads * calls:,} calls':<44}"
          f"{fmt_ns(e['p50_ns']):>10}{fmt_ns(e['p99_ns']):>10}{fmt_ns(e['max_ns']):>10}"
          f"{fmt_ns(e['mean_ns']):>10}")
    w(f"{'':<44}{'events/s':>12}{'requests':>10}{'seconds':>10}")
    for batch in C_BATCHES:
        t = s["c"][f"throughput_batch_{batch}"]
        w(f"{f'  delivered, {C_THROUGHPUT_EVENTS:,} events, batch {batch}':<44}"
          f"{t['events_per_s']:>12,.0f}{t['batches_sent']:>10,.0f}{t['seconds']:>10.3f}")
    mem = s["c"]["memory"]
    w(f"  memory: idle client process RSS {mem['idle_client_rss_bytes'] / 2**20:.1f} MiB "
      f"(the client itself: +{mem['idle_client_delta_bytes'] / 1024:.0f} KiB); "
      f"{mem['bytes_per_queued_event']:.0f} bytes per queued event ({C_MEMORY_EVENTS:,} pending)")
    if s["prepare"]:
        w(f"  event::prepare micro-benchmark (validate + serialize): "
          f"{s['prepare']['ns_per_event']:.0f} ns/event")
    else:
        w("  event::prepare micro-benchmark: benches/prepare.rs not present")
    w("")
    w(f"{'Peers (same collector, same seed event)':<36}{'SDK':>12}{'libodp':>12}"
      f"{'SDK/libodp':>12}{'libodp is':>14}")
    for lang, label, sdk in (("python", "Python", f"optimizely-sdk {m['optimizely_python_sdk']}"),
                             ("go", "Go", f"go-sdk {m['optimizely_go_sdk']}")):
        row = s[lang]
        unit = row["unit"]
        w(f"  {label} ({sdk})")
        for key, name in ((f"p50_{unit}", f"per call p50 ({unit})"),
                          (f"p99_{unit}", f"per call p99 ({unit})"),
                          ("events_per_s", "delivered events/s")):
            v = row[key]
            adv = advantage(key, v["ratio_peer_over_libodp"])
            digits = ",.0f" if key == "events_per_s" or unit == "ns" else ",.2f"
            w(f"    {name:<32}{format(v['sdk'], digits):>12}{format(v['libodp'], digits):>12}"
              f"{v['ratio_peer_over_libodp']:>12.2f}"
              f"{(f'{adv:.2f}x ' + ('better' if adv >= 1 else 'worse')):>14}")
    w("  (SDK/libodp: median of per-round ratios; per call, > 1 means libodp is faster; "
      "events/s, < 1 means libodp is faster)")
    w("")
    w("Targets (issue 5)")
    for t in targets(s):
        w(f"  {t['target']:<50}{t['measured']:>14}   {'met' if t['met'] else 'NOT met'}")
    return "\n".join(out)


# -- main -------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs of each measurement (>= 5 for the README)")
    ap.add_argument("--skip-build", action="store_true", help="use what target/ already holds")
    ap.add_argument("--no-chart", action="store_true")
    a = ap.parse_args()
    started = time.monotonic()
    os.chdir(ROOT)
    build(a.skip_build)
    if PREPARE_BENCH.exists() and not a.skip_build:
        log("cargo bench --no-run --bench prepare")
        run([os.environ.get("CARGO", "cargo"), "bench", "--quiet", "--no-run", "--bench", "prepare"])
    info = machine()
    load_before = os.getloadavg()

    col = Collector()
    log(f"collector at {col.url}")
    fds_at_start = col.open_fds()
    raw: dict[str, list[dict[str, Any]]] = {}

    def record(name: str, fn: Callable[[], Optional[dict[str, Any]]]) -> None:
        t0 = time.monotonic()
        r = fn()
        if r is not None:
            r["wall_s"] = round(time.monotonic() - t0, 3)
            raw.setdefault(name, []).append(r)
        fds = col.open_fds()
        if fds > fds_at_start + 200:
            sys.exit(f"[bench] the collector holds {fds} descriptors after {name} "
                     f"({fds_at_start} at start): it keeps connections that ended, which slows "
                     "it down for the clients that follow")

    try:
        for i in range(a.runs):
            log(f"round {i + 1}/{a.runs}")
            for threads, calls in C_ENQUEUE:
                record(f"c_enqueue_{threads}", lambda t=threads, c=calls: c_enqueue(col.url, t, c))
            for batch in C_BATCHES:
                record(f"c_throughput_{batch}", lambda b=batch: c_throughput(col.url, b))
            record("c_memory", c_memory)
            order = ["sdk", "libodp"] if i % 2 == 0 else ["libodp", "sdk"]
            for client in order:
                record(f"python_{client}", lambda c=client: python_run(col.url, c))
            for client in order:
                record(f"go_{client}", lambda c=client: go_run(col.url, c))
            record("prepare", prepare_run)
    finally:
        col.stop()

    summary = summarize(raw)
    text = table(summary, info, a.runs)
    print(text, flush=True)
    elapsed = time.monotonic() - started
    results = {
        "machine": info,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "runs": a.runs,
        "seconds_total": round(elapsed, 1),
        "method": METHOD,
        "sizes": {"c_enqueue": C_ENQUEUE, "c_throughput_events": C_THROUGHPUT_EVENTS,
                  "c_batches": C_BATCHES, "c_memory_events": C_MEMORY_EVENTS,
                  "python": PY, "go": GO},
        "summary": summary,
        "targets": targets(summary),
        "table": text.splitlines(),
        "raw": raw,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {RESULTS.relative_to(ROOT)}")
    if not a.no_chart:
        CHART.parent.mkdir(parents=True, exist_ok=True)
        run([str(VENV_PY), str(ROOT / "bench" / "chart.py"), str(RESULTS), str(CHART)],
            env={"MPLBACKEND": "Agg", "MPLCONFIGDIR": str(TARGET / "bench-build" / "mpl")})
        log(f"wrote {CHART.relative_to(ROOT)}")
    log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

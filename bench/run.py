"""Run the benchmarks and write bench/results/*.json and bench/results/README.md.

    python bench/run.py                      # everything (about 30 minutes on a shared 2-core CPU)
    python bench/run.py --quick              # a smoke-sized version of everything (a few minutes)
    python bench/run.py --only step_overhead --only metric_throughput
    python bench/run.py --readme             # only regenerate README.md from the JSON files

Each benchmark runs in its own process with one torch thread (set LPC_BENCH_THREADS to change it) and measures the
package as it is. Earlier figures are the JSON files committed beside the current ones (`*_before.json`: the state
before the optimisation of 2026-11; `step_overhead_paired.json`), kept as they were recorded: no benchmark writes
them (`common.RECORDED`), and README.md names the file, date and command behind every number.
"""
from __future__ import annotations
import argparse, json, math, os, re, statistics, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("LPC_BENCH_RESULTS") or HERE / "results")  # tests redirect it
BENCHMARKS = {"step_overhead": "step_overhead.py", "cost_quality": "cost_quality.py",
              "metric_throughput": "metric_throughput.py", "iteration_time": "iteration_time.py"}
if str(HERE) not in sys.path: sys.path.insert(0, str(HERE))
from common import RECORDED  # the recorded figures, never overwritten


def _load(name):
    p = RESULTS / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _f(x, nd=3): return "—" if x is None else f"{x:.{nd}f}"


def _date(r): return r["started"][:10]


def _machine(r):
    m = r["machine"]
    return (f"{m['cpu_model']}, {m['cpu_count']} cores, {m['platform']}; torch {m['torch']}, "
            f"{m['torch_num_threads']} thread(s); load average {r.get('loadavg_start')} -> {r.get('loadavg_end')}; "
            f"{r['started']}{' (quick)' if r.get('quick') else ''}")


def _command(r):
    "The command that wrote a result, e.g. `step_overhead.py --suffix _before --impl samplers.py of 399e23b`."
    argv = [Path(r["argv"][0]).name] + [re.sub(r".*samplers_([0-9a-f]{7,40})\.py$", r"lpc_book/samplers.py of \1", a)
                                        for a in r["argv"][1:]]
    argv = [f"CHECKOUT/{Path(a).name}" if a.startswith("/") else a for a in argv]  # no machine's paths on the website
    return " ".join(a or "''" for a in argv)


def _source(name, r):
    "Where a figure came from: its file, date and command."
    return f"`{name}.json` ({_date(r)}, `{_command(r)}`)"


# ---- 1. step overhead ---------------------------------------------------------------------------------------------
# evaluations of a chain of K moves by the samplers before the redesign (z_0..z_{K-1}), for the recorded file that
# does not carry its own counts (step_overhead_before.json); since then every file records `evaluations`
# (step_overhead.evaluations: K + 1 full for ULA / preconditioned, 1 + K full and K z-only for MALA, K + 1 z-only
# without params)
OLD_EVALS = {"ula": lambda K: (K, 0), "preconditioned": lambda K: (K, 0), "mala": lambda K: (K, K),
             "ula_sample": lambda K: (0, K), "mala_sample": lambda K: (0, K + 1)}


def _evals(c, v):
    "(full, z-only) evaluations per chain of variant v in configuration c."
    e = c.get("evaluations", {}).get(v)
    return (e["full"], e["z"]) if e else OLD_EVALS[v](c["K"])


def _ref_min(c, v):
    "Minimum CPU time per step (ms) of the minimal work of variant v in configuration c."
    m = {n: c["per_step_cpu_ms"][n]["min"] for n in ("bare_full", "bare_z")}
    full, z = _evals(c, v)
    return (full * m["bare_full"] + z * m["bare_z"]) / c["K"]


def _min_ratio(c, v): return c["per_step_cpu_ms"][v]["min"] / _ref_min(c, v)


def _formula(c, v):
    "The reference of variant v as text, e.g. '21/20 bare_full'."
    K, (full, z) = c["K"], _evals(c, v)
    term = lambda n, what: "" if not n else (what if n == K else f"{n}/{K} {what}")
    return " + ".join(t for t in (term(full, "bare_full"), term(z, "bare_z")) if t)


def _worst_estimate(r, v):
    "1 + the sampler's own cost per step / the minimal work per step, at the configuration where that is largest."
    if not (r and r.get("synthetic") and r.get("configs")) or v not in r["synthetic"]["overhead_us"]: return None
    return max(1 + r["synthetic"]["overhead_us"][v]["min"] / (1e3 * _ref_min(c, v)) for c in r["configs"])


STEP_ROWS = (("median over configurations, paired CPU ratio", lambda r, v: statistics.median(c["ratio_cpu"][v]["median"] for c in r["configs"])),
             ("worst configuration, paired CPU ratio", lambda r, v: max(c["ratio_cpu"][v]["median"] for c in r["configs"])),
             ("worst configuration, ratio of CPU minima", lambda r, v: max(_min_ratio(c, v) for c in r["configs"])),
             ("worst configuration, estimated as 1 + (sampler's own cost per step) / (minimal work, minimum)", _worst_estimate))


def _step_section(now, before):
    variants = list(now["configs"][0]["ratio_cpu"]) if now.get("configs") else list(now["synthetic"]["overhead_us"])
    out = ["## 1. Step overhead: one Langevin step against the bare decoder pass", "",
           "Per-step time of `lpc_book.samplers.langevin` (K moves per call, `params=` for the learning variants, theta's "
           "gradient then added to `.grad` as LPC does) divided by the per-step time of the minimal work it must do, "
           "counted in bare passes: the energy + backward w.r.t. z and theta (`bare_full`) and the energy + z-gradient "
           "(`bare_z`). The sampler evaluates z_0 and each of the K new states: (K+1)/K `bare_full` per move for ULA and "
           "preconditioned ULA; (K+1)/K `bare_full` + `bare_z` for MALA (z_0 with theta, each proposal for z only, the "
           "kept state again with theta); (K+1)/K `bare_z` without `params` (sampling). Ideal 1.00, target <= 1.10. "
           "Process CPU time on one thread (the wall-clock figures are in the JSON; on a shared machine they swing by "
           "10-20% between repetitions). Each cell: median of the paired per-repetition ratios [interquartile range] / "
           "ratio of the minimum times. Even in CPU time, single ratios move by several percent with the other "
           "processes' use of the caches and memory bus; the sampler's own cost, which is what the implementation "
           "controls, is measured precisely in the second table, and the last summary row turns it into the "
           "worst-case ratio, the figure the target applies to.", ""]
    if now.get("configs"):
        out += ["| decoder | params | K | reps | bare CPU ms/step (max/min over reps) | " + " | ".join(variants) + " |",
                "|---|---|---|---|---|" + "---|" * len(variants)]
        for c in now["configs"]:
            b = c["per_step_cpu_ms"]["bare_full"]
            cells = [f"{c['ratio_cpu'][v]['median']:.3f} [{c['ratio_cpu'][v]['q25']:.2f}, {c['ratio_cpu'][v]['q75']:.2f}] / "
                     f"{_min_ratio(c, v):.3f}" for v in variants]
            out.append(f"| {c['name']} | {c['decoder_params']:,} | {c['K']} | {c['reps']} | {b['median']:.2f} "
                       f"({b['max'] / b['min']:.2f}) | " + " | ".join(cells) + " |")
        c0, b0 = now["configs"][0], (before or {}).get("configs", [None])[0]
        f_now = "; ".join(f"{v}: {_formula(c0, v)}" for v in variants)
        f_before = "; ".join(f"{v}: {_formula(b0, v)}" for v in variants if v in b0["ratio"]) if b0 else None
        out += ["", f"Reference per move at K = {c0['K']}: {f_now}" +
                (f" (before: {f_before})" if f_before and f_before != f_now else "") + ".", "",
                "| summary | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
        for label, fn in STEP_ROWS:
            cells = []
            for v in variants:
                a = fn(now, v)
                b = fn(before, v) if before and before.get("configs") and v in before["configs"][0]["ratio_cpu"] else None
                cells.append(f"{_f(b)} -> {_f(a)}" if b is not None else _f(a))
            out.append(f"| {label}{' (before -> now)' if before else ''} | " + " | ".join(cells) + " |")
        out.append("")
    syn_now, syn_before = now.get("synthetic"), (before or {}).get("synthetic")
    if syn_now:
        out += ["The sampler's own cost per step: `langevin` on an energy that costs almost nothing (B = 64, d = 16, one "
                "parameter) minus the bare passes it must make on the same energy (its own evaluation count, as above), "
                "CPU microseconds per step (minimum / median over "
                f"{syn_now['reps']} repetitions of {syn_now['n_calls']} calls of K = {syn_now['K']} steps). "
                "Divide by a decoder's bare ms/step to get the overhead it adds on that decoder.", "",
                "| variant | " + ("before (us/step) | now (us/step) |" if syn_before else "us/step |"),
                "|---|" + ("---|---|" if syn_before else "---|")]
        for v, o in syn_now["overhead_us"].items():
            a = f"{o['min']:.0f} / {o['median']:.0f}"
            if syn_before and v in syn_before["overhead_us"]:
                ob = syn_before["overhead_us"][v]
                out.append(f"| {v} | {ob['min']:.0f} / {ob['median']:.0f} | {a} |")
            else: out.append(f"| {v} | {a} |")
        out.append("")
        if syn_before: out += ["Before and now were measured in different processes, at different times, on different "
                               "hosts: absolute microseconds follow the machine and its load (a busy second core roughly "
                               "doubles or triples them); the ratios above divide that out.", ""]
    out += [f"Now: {_source('step_overhead', now)}; {_machine(now)}."]
    if before: out += [f"Before (recorded): {_source('step_overhead_before', before)}; {_machine(before)}."]
    return out + [""]


def _paired_section(r):
    "The recorded run of the since-removed `step_overhead.py --paired`: two samplers interleaved in one process."
    s = r["synthetic"]
    imp = s["implementations"]
    short = lambda p: re.sub(r".*samplers_([0-9a-f]{7,40})\.py$", r"samplers.py of \1", p)
    out = ["### Recorded: the sampler's own cost of two implementations in one process", "",
           f"{_source('step_overhead_paired', r)}: before = `{short(imp['before']['path'])}` ({imp['before']['api']} API), "
           f"after = `{short(imp['after']['path'])}` of that day ({imp['after']['api']} API), on the synthetic energy "
           f"above, every block interleaved in a rotating order, {s['reps']} repetitions of {s['n_calls']} calls of "
           f"K = {s['K']} moves, CPU time. Own cost = per-step time minus the bare passes of that implementation's own "
           "evaluation count, from the same repetition's bare timings. Cells: minimum over repetitions / paired median "
           "[IQR]; ratio: after / before, median of the per-repetition ratios [IQR], and the ratio of the minima.", "",
           "| variant | before (us/step) | after (us/step) | after / before, paired | after / before, of minima |",
           "|---|---|---|---|---|"]
    cell = lambda o: f"{o['min']:.0f} / {o['paired']['median']:.0f} [{o['paired']['q25']:.0f}, {o['paired']['q75']:.0f}]"
    for v in s["variants"]:
        q = s["ratio_to_first"]["after"][v]
        out.append(f"| {v} | {cell(s['own_us']['before'][v])} | {cell(s['own_us']['after'][v])} | "
                   f"{q['paired']['median']:.2f} [{q['paired']['q25']:.2f}, {q['paired']['q75']:.2f}] | {q['of_min']:.2f} |")
    bf = s["per_step_us"]["bare_full"]
    out += ["", f"Bare pass on this energy: {bf['min']:.0f} us (minimum), {bf['median']:.0f} us (median) per evaluation. "
            f"Machine: {_machine(r)}.", ""]
    return out


# ---- 2. cost to quality -------------------------------------------------------------------------------------------
def _cq_section(r):
    "The time-to-quality section of a cost_quality result (the frontier's definition)."
    if r.get("skipped"): return ["## 2. Cost to quality", "", f"Skipped: {r['skipped']}", ""]
    v, l, st, m = r["vae"], r["lpc"], r["settings"], r["lpc_method"]
    cv, cl, pl = r["vae_to_target"]["seconds"], r["lpc_to_target"]["seconds"], r["vae_plateau"]
    it = lambda c: c["iteration"]["x"]
    spi = lambda c: f"{1e3 * c['seconds_per_iteration']['median']:.1f} [{1e3 * c['seconds_per_iteration']['q25']:.1f}, " \
                    f"{1e3 * c['seconds_per_iteration']['q75']:.1f}]"
    ch = l.get("chain") or {}
    div = m.get("encoder_divergence", m.get("warm_start"))  # results recorded before 2026-12-08 call it warm_start
    lpc_desc = (f"K = {m['n_steps']} {m['sampler']} step(s), {div} warm start"
                f"{' (reverse-KL half from the chain start)' if m.get('reverse_from_start') else ''}, step "
                f"{'adapted throughout' if m.get('keep_adapting') else 'adapted, then frozen' if m.get('adapt_steps') else 'fixed'}")
    out = ["## 2. Cost to quality: the time to the VAE's quality, the book's default LPC against the VAE on MNIST", "",
           f"The cpu profile's nets (latent {st['latent_dim']}, width {st['width']}), Adam, batch {st['batch_size']}, the "
           f"learned sigma; LPC: {lpc_desc}. The VAE trains until its FID curve is flat (cap {st['train_seconds']:.0f} s): "
           f"its plateau FID is F* and its seconds the budget T = {r['budget_seconds']:.0f} s, which LPC then gets. "
           f"Domain-FID of {st['eval_curve_samples']} samples every {st['eval_every_seconds']:g} training seconds, clock "
           "paused. One seed; the frontier experiment gives intervals over seeds.", "",
           "| | VAE | LPC |", "|---|---|---|",
           f"| ms per SGD iteration (median [IQR]) | {spi(v)} | {spi(l)} |",
           f"| training seconds / SGD iterations | {v['seconds']:.0f} / {v['iterations']} | {l['seconds']:.0f} / {l['iterations']} |",
           f"| FID at the end | {v['curve'][-1]['fid']:.2f} | {l['curve'][-1]['fid']:.2f} (tail level {r['lpc_tail_fid']:.2f}) |",
           f"| first second at FID <= F* [bracket] | {cv['x']:.0f} [{cv['lo']:.0f}, {cv['hi']:.0f}] | " +
           (f"{cl['x']:.0f} [{cl['lo']:.0f}, {cl['hi']:.0f}]" if cl["reached"] else "not by T") + " |",
           f"| SGD iterations to F* | {it(r['vae_to_target']):.0f} | " + (f"{it(r['lpc_to_target']):.0f}" if cl["reached"] else "—") + " |",
           "", f"F* = **{r['target_fid']:.2f}** ± {pl['level_se']:.2f} (the VAE's plateau; fitted change over its last 20% "
           f"{100 * pl['change']:+.1f}%; one evaluation's noise {pl['noise']:.2f}). LPC "
           + ("reached it and stayed" if r["held"] else "crossed it only in a dip" if cl["reached"] else "did not reach it by T")
           + f": **t(LPC)/t(VAE) = {r['time_ratio']:.2f}**, iteration ratio {r['iteration_ratio']:.2f} ({r['ratio_kind']}); "
           f"an LPC iteration costs {r['per_iteration_cost_ratio']:.2f} VAE iterations. LPC's chains: acceptance "
           f"{ch.get('accept_prob', math.nan):.2f}, distance {ch.get('distance', math.nan):.2f} posterior SDs, energy drop "
           f"{ch.get('energy_drop', math.nan):.2f}.", "", f"{_source('cost_quality', r)}; {_machine(r)}; {r['seconds']:.0f} s in all.", ""]
    return out



# ---- 3. metric throughput -----------------------------------------------------------------------------------------
def _metric_rows(r, label):
    out = []
    for k, v in r["results"].items():
        if v.get("skipped"): out.append(f"| {label} | {k} | | | skipped: {v['skipped'][:120]} | | |"); continue
        s = v["seconds"]
        net = f" ({v['inception_network']})" if v.get("inception_network") else ""
        out.append(f"| {label} | {v['extractor']}-FID{net} | {v['n_generated']:,} | {v['n_reference']:,} MNIST test | "
                   f"{s['median']:.1f} [{s['min']:.1f}, {s['max']:.1f}] ({s['n']} reps) | {v['samples_per_second']:.1f} | "
                   f"{v['first_call_seconds']:.1f} |")
    return out



def _metric_section(r, before=None):
    out = ["## 3. Metric throughput (`lpc_book.quality.sample_quality`, FID only)", "",
           "Now: torch-fidelity's Inception weights with batch norm folded into the convolutions and channels-last "
           "activations (`lpc_book.quality.register_fused_inception`; features equal to about 1e-5 to the original's)."
           + (" Before (recorded): torch-fidelity's own Inception module; the domain-FID path did not change." if before
              else ""), "",
           "| | metric | generated | reference | seconds (median [min, max]) | images/s | warm-up call, 100 images (s) |",
           "|---|---|---|---|---|---|---|"]
    if before: out += _metric_rows(before, "before")
    out += _metric_rows(r, "now" if before else "")
    out += ["", "Reference statistics are cached by torch-fidelity after the first call (a warm-up with 100 "
            "generated images, shown apart; it includes the reference's features when they were not cached yet).",
            f"Now: {_source('metric_throughput', r)}; {_machine(r)}."]
    if before: out.append(f"Before (recorded): {_source('metric_throughput_before', before)}; {_machine(before)}.")
    return out + [""]


# ---- 4. seconds per iteration -------------------------------------------------------------------------------------
COSTMODEL_ARGS = ["--steps", "1", "2", "5", "10", "--threads-list", "1", "--repeats", "20"]  # the cost model's check
# (about 2 minutes, run on its own: make bench's iteration_time already gives every LPC row its prediction)


def _iter_section(r, name="iteration_time", title="## 4. Seconds per SGD iteration (`bench/iteration_time.py`)"):
    cell = lambda v: f"{1e3 * v['median']:.1f} [{1e3 * v['min']:.1f}, {1e3 * v['max']:.1f}]" if v else "—"
    out = [title, "",
           f"Batch {r['batch_size']}, the 28x28 conv nets of the cpu profile (latent {r.get('latent_dim', 16)}, width "
           f"{r.get('width', 32)}), {r['data']} data; LPC with the Jeffreys warm start and K preconditioned steps. "
           "`start`: the reverse-KL half of the warm start reuses the chain's start and its gradient (the default since "
           "2026-12-03); `fresh`: it draws its own sample and pays a decoder pass for it (the behaviour before). Every "
           "configuration is timed once per repetition in turn, so before and after share the machine's load. Median "
           "[min, max] over repetitions, milliseconds, and the median's ratio to the VAE's at the same thread count.", ""]
    base = r.get("base_threads", r["torch_num_threads"])
    for t in r.get("threads", [base]):
        key = "" if t == base else f"_threads{t}"
        get = lambda n: r["results"].get(n + key)
        ks = sorted({int(k.split("_")[1][1:]) for k in r["results"] if k.startswith("lpc_K")})
        out += [f"**{t} thread{'s' if t > 1 else ''}.** VAE: {cell(get('vae'))} ms per iteration.", "",
                "| K | decoder passes (start / fresh) | start (ms) | fresh (ms) | start / VAE | fresh / VAE | saved | cost model's error (start / fresh) |",
                "|---|---|---|---|---|---|---|---|"]
        err = lambda v: f"{100 * v['model_error']:+.0f}%" if "model_error" in v else "—"
        for k in ks:
            a, b = get(f"lpc_K{k}_start"), get(f"lpc_K{k}_fresh")
            if not (a and b): continue
            out.append(f"| {k} | {a['decoder_grad_evals_per_it']:.0f} / {b['decoder_grad_evals_per_it']:.0f} | {cell(a)} | "
                       f"{cell(b)} | {a['vs_vae']:.2f} | {b['vs_vae']:.2f} | {100 * (1 - a['median'] / b['median']):.0f}% | "
                       f"{err(a)} / {err(b)} |")
        if get("pass_theta"):
            errs = [abs(v["model_error"]) for v in r["results"].values() if "model_error" in v and v["threads"] == t]
            out.append(f"\nCost model (methods chapter), from the VAE's iteration and the decoder passes timed beside it: "
                       f"c_theta {cell(get('pass_theta'))} ms, c_z {cell(get('pass_z'))} ms; prediction within 10% for "
                       f"{sum(e <= 0.1 for e in errs)} of {len(errs)} rows (largest error {100 * max(errs):.0f}%).")
        out.append("")
    out += [f"{_source(name, r)}; {_machine(r)}.", ""]
    return out


PERSISTENT_ARGS = ["--persistent", "--cpu-clock", "--steps", "1", "2", "5", "--threads-list", "1", "--repeats", "10",
                   "--n-train", "8000"]  # persistent chains' visits against the cost model (#37; about 8 minutes)


def _persist_section(r):
    "The persistent chains' rows against the cost model."
    cell = lambda v: f"{1e3 * v['median']:.1f} [{1e3 * v['min']:.1f}, {1e3 * v['max']:.1f}]" if v else "—"
    get = lambda n: r["results"].get(n)
    out = [f"## 6. Persistent chains against the cost model (`bench/iteration_time.py {' '.join(PERSISTENT_ARGS)}`)", "",
           f"Batch {r['batch_size']}, the cpu profile's nets (latent {r['latent_dim']}, width {r['width']}), {r['data']} "
           f"data, a store of {r['n_train']} examples, {r['base_threads']} thread, {r['clock']} clock (the CPU seconds of "
           "a one-thread process are inflated far less than wall-clock seconds by a shared machine's load). At every K: "
           "fresh chains (Jeffreys, the reverse KL from the chain's start), and persistent chains with the forward-KL "
           "warm start (`fwd`, r = 0) and with the Jeffreys warm start (`jeff`, r = 1: a fresh reverse-KL sample). The "
           "prediction s/it_VAE - c_theta + (K + 1) c_theta + r c_z + c_E / 5 + c_s takes the parts timed beside the "
           "iterations. Median [min, max] over repetitions, milliseconds.", "",
           f"VAE: {cell(get('vae'))} ms per iteration; c_theta {cell(get('pass_theta'))}, c_z {cell(get('pass_z'))}, "
           f"c_E (forward only) {cell(get('pass_forward'))}, c_s (the store's read and write of 64 rows) {cell(get('store'))} ms.", "",
           "| K | fresh (ms) | persistent, fwd (ms) | persistent, jeff (ms) | cost model's error (fresh / fwd / jeff) |",
           "|---|---|---|---|---|"]
    err = lambda v: f"{100 * v['model_error']:+.0f}%" if v and "model_error" in v else "—"
    for k in sorted({int(k.split("_")[1][1:]) for k in r["results"] if k.startswith("lpc_K")}):
        a, b, c = get(f"lpc_K{k}_start"), get(f"lpc_K{k}_persist_fwd"), get(f"lpc_K{k}_persist_jeff")
        out.append(f"| {k} | {cell(a)} | {cell(b)} | {cell(c)} | {err(a)} / {err(b)} / {err(c)} |")
    return out + ["", f"Machine: {_machine(r)}.", ""]



# ---- the summary and the recorded files ---------------------------------------------------------------------------
def _headline(so, so_b, cq, mt, mt_b):
    "The headline figures, each with the files it comes from (recorded before -> now)."
    rows = []
    def pair(b, a, fmt): return f"{fmt(b)} -> {fmt(a)}" if b is not None else fmt(a)
    def src(name, r, name_b=None, b=None):
        return (f"`{name_b}.json` ({_date(b)}) -> " if b is not None else "") + f"`{name}.json` ({_date(r)})"
    if so and so.get("configs"):
        so_b = so_b if so_b and so_b.get("configs") else None
        for v in ("ula", "preconditioned", "mala"):
            med = lambda r: statistics.median(c["ratio_cpu"][v]["median"] for c in r["configs"]) if r else None
            own = lambda r: r["synthetic"]["overhead_us"][v]["min"] if r and r.get("synthetic") else None
            rows.append(f"| step overhead, {v}: worst configuration (estimated); median over configurations of the "
                        f"paired CPU ratio; sampler's own cost (us/step) | {pair(_worst_estimate(so_b, v), _worst_estimate(so, v), _f)}; "
                        f"{pair(med(so_b), med(so), _f)}; {pair(own(so_b), own(so), lambda x: f'{x:.0f}')} | "
                        f"{src('step_overhead', so, 'step_overhead_before', so_b)} |")
    if cq and not cq.get("skipped"):
        rows.append(f"| cost to quality: t(LPC) / t(VAE) to the VAE's plateau FID, the book's LPC; the same in SGD "
                    f"iterations; LPC seconds per iteration | {cq['time_ratio']:.2f}; {cq['iteration_ratio']:.3f}; "
                    f"{cq['lpc']['seconds_per_iteration']['median']:.3f} | {src('cost_quality', cq)} |")
    if mt:
        for k, v in mt["results"].items():
            if v.get("skipped"): continue
            b = (mt_b or {}).get("results", {}).get(k, {})
            bs = b["seconds"]["median"] if b and not b.get("skipped") else None
            rows.append(f"| metric throughput: {v['extractor']}-FID of {v['n_generated']:,} samples, seconds (median) | "
                        f"{pair(bs, v['seconds']['median'], lambda x: f'{x:.1f}')} | "
                        f"{src('metric_throughput', mt, 'metric_throughput_before', mt_b if bs is not None else None)} |")
    if not rows: return []
    return (["## The figures", "",
             "Now: this folder's `NAME.json`, written by `make bench`. Before: the recorded figures of the state before "
             "the optimisation (`NAME_before.json`, measured with options since removed; the last section lists what "
             "produced each file). Details in the sections below.", "",
             "| figure | value | from |", "|---|---|---|"] + rows + [""])


def _recorded_summary(name, r):
    "What a recorded file holds that the sections above do not show."
    if r.get("benchmark") == "iteration_time" and "base_threads" not in r:
        return "ms per iteration (median): " + ", ".join(f"{k} {1e3 * v['median']:.0f}" for k, v in r["results"].items()) \
               + " (the nets' width was 32 then, 16 in section 4: not comparable)"
    if r.get("benchmark") == "cost_quality" and r.get("definition") != "frontier":
        return (f"time ratio {r['time_ratio']:.2f}, iteration ratio {r['iteration_ratio']:.3f} by the definition before "
                "issue 16 (LPC's seconds to the VAE's final FID after a fixed budget): not comparable with section 2")
    if r.get("benchmark") == "cost_quality":
        return f"time ratio {r['time_ratio']:.2f}, iteration ratio {r['iteration_ratio']:.3f}, {r['torch_num_threads']} threads"
    if r.get("benchmark") == "distributed":
        return "; ".join(f"{k}: {1e3 * v['per_iteration']['median']:.0f} ms/iteration" for k, v in r["runs"].items())
    return {"step_overhead_before": "section 1, 'before'", "metric_throughput_before": "section 3, 'before'",
            "step_overhead_paired": "section 1, last table", "iteration_time_costmodel": "section 5",
            "iteration_time_persistent": "section 6",
            "mcpc_side_by_side": "the book's mcpc against MCPC's own code on its MNIST hierarchy, same weights and minibatches (issue 38)"}.get(name, "")


def _recorded_section():
    "Every JSON file here besides the four that `make bench` writes: its date, the command that wrote it, what it holds."
    names = sorted(p.stem for p in RESULTS.glob("*.json") if p.stem not in BENCHMARKS)
    if not names: return []
    out = ["## Where the other figures come from", "",
           "The JSON files in this folder that `make bench` does not write, as they were recorded. "
           "The `_before` and `_paired` files measured older copies of `lpc_book/samplers.py` taken from git (the "
           "`--before`, `--impl` and `--paired` options, removed when the sampler's interface changed in issue 33: the "
           "bench measures the package as it is); no benchmark overwrites them.", "",
           "| file | recorded | command | load average at start | holds |", "|---|---|---|---|---|"]
    for n in names:
        r = _load(n)
        out.append(f"| `{n}.json` | {r['started']} | `{_command(r)}` | {r.get('loadavg_start')} | {_recorded_summary(n, r)} |")
    return out + [""]


def render_readme() -> str:
    "README.md's text, from the JSON files in RESULTS."
    lines = ["# Benchmarks", "", "Generated by `make bench` (`bench/run.py`) from the JSON files in this folder; each "
             "JSON holds every repetition, the machine (platform, CPU model, cores), torch version, thread count and "
             "the load average. All benchmarks run with `torch.set_num_threads(1)`.", ""]
    r = {n: _load(n) for n in (*BENCHMARKS, "step_overhead_before", "metric_throughput_before")}  # each file read once
    paired = _load("step_overhead_paired")
    lines += _headline(r["step_overhead"], r["step_overhead_before"], r["cost_quality"], r["metric_throughput"],
                       r["metric_throughput_before"])
    if r["step_overhead"]: lines += _step_section(r["step_overhead"], r["step_overhead_before"])
    if paired: lines += _paired_section(paired)
    if r["cost_quality"]: lines += _cq_section(r["cost_quality"])
    if r["metric_throughput"]: lines += _metric_section(r["metric_throughput"], r["metric_throughput_before"])
    if r["iteration_time"]: lines += _iter_section(r["iteration_time"])
    costmodel = _load("iteration_time_costmodel")
    if costmodel: lines += _iter_section(costmodel, "iteration_time_costmodel", title="## 5. The cost model against "
                                         f"measured iterations (`bench/iteration_time.py {' '.join(COSTMODEL_ARGS)} --suffix _costmodel`)")
    persistent = _load("iteration_time_persistent")
    if persistent: lines += _persist_section(persistent)
    lines += _recorded_section()
    return "\n".join(lines)


def write_readme() -> Path:
    "Write RESULTS/README.md (atomically)."
    RESULTS.mkdir(parents=True, exist_ok=True)
    dest, tmp = RESULTS / "README.md", RESULTS / "README.md.tmp"
    tmp.write_text(render_readme())
    os.replace(tmp, dest)
    return dest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke-sized runs")
    ap.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this benchmark (repeatable)")
    ap.add_argument("--suffix", default="", help="suffix of the JSON names (not one of the recorded files')")
    ap.add_argument("--readme", action="store_true", help="only regenerate README.md")
    a = ap.parse_args()
    names = a.only or list(BENCHMARKS)
    taken = [n + a.suffix for n in names if n + a.suffix in RECORDED]
    if taken and not a.readme:
        ap.error(f"--suffix {a.suffix!r} would overwrite the recorded {', '.join(t + '.json' for t in taken)}; choose another")
    t0 = time.perf_counter()
    failed = []
    if not a.readme:
        for name in names:
            print(f"== {name}", flush=True)
            cmd = [sys.executable, str(HERE / BENCHMARKS[name]), "--suffix", a.suffix] + (["--quick"] if a.quick else [])
            t = time.perf_counter()
            rc = subprocess.call(cmd, cwd=HERE.parent, env={**os.environ, "PYTHONHASHSEED": "0"})
            print(f"== {name}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {time.perf_counter() - t:.0f} s", flush=True)
            if rc: failed.append(name)
    print(f"-> {write_readme()} ({time.perf_counter() - t0:.0f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

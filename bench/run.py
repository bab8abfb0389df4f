"""Run the benchmarks and write bench/results/*.json and bench/results/README.md.

    python bench/run.py                      # everything (under 30 minutes on a shared 2-core CPU)
    python bench/run.py --quick              # a smoke-sized version of everything (a few minutes)
    python bench/run.py --only step_overhead --only metric_throughput
    python bench/run.py --suffix _before     # results as NAME_before.json (e.g. before an optimisation)
    python bench/run.py --before 399e23b     # the "before" figures: samplers.py of that commit (with the extra
                                             # energy pass LPC then made for its logged loss) and torch-fidelity's
                                             # own Inception module, into NAME_before.json
    python bench/run.py --paired 17556df     # the sampler's own cost per step of that commit's samplers.py and of
                                             # the current one, interleaved in one process (step_overhead_paired.json:
                                             # the before/after figure under one load; a few minutes)
    python bench/run.py --readme             # only regenerate README.md from the JSON files

Each benchmark runs in its own process with one torch thread (set LPC_BENCH_THREADS to change it).
"""
from __future__ import annotations
import argparse, json, math, os, re, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("LPC_BENCH_RESULTS") or HERE / "results")  # tests redirect it
BENCHMARKS = {"step_overhead": "step_overhead.py", "cost_quality": "cost_quality.py",
              "metric_throughput": "metric_throughput.py", "iteration_time": "iteration_time.py"}


def _load(name):
    p = RESULTS / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _f(x, nd=3): return "—" if x is None else f"{x:.{nd}f}"


def _machine(r):
    m = r["machine"]
    return (f"{m['cpu_model']}, {m['cpu_count']} cores, {m['platform']}; torch {m['torch']}, "
            f"{m['torch_num_threads']} thread(s); load average {r.get('loadavg_start')} -> {r.get('loadavg_end')}; "
            f"{r['started']}{' (quick)' if r.get('quick') else ''}")


# evaluations of a chain of K moves by the samplers before the redesign (z_0..z_{K-1}); JSON files written since
# record their own counts (`evaluations`, see bench/common.py), the current sampler's being K + 1 full for ULA /
# preconditioned, 1 + K full and K z-only for MALA, K + 1 z-only without params
OLD_EVALS = {"ula": lambda K: (K, 0), "preconditioned": lambda K: (K, 0), "mala": lambda K: (K, K),
             "ula_sample": lambda K: (0, K), "mala_sample": lambda K: (0, K + 1)}


def _evals(c, v):
    "(full, z-only) evaluations per chain of variant v in configuration c."
    e = c.get("evaluations", {}).get(v)
    return (e["full"], e["z"]) if e else OLD_EVALS[v](c["K"])


def _ref_min(c, v):
    "Minimum per-step time (ms) of the minimal work of variant v in configuration c."
    m = {n: c["per_step_ms"][n]["min"] for n in ("bare_full", "bare_z")}
    full, z = _evals(c, v)
    return (full * m["bare_full"] + z * m["bare_z"]) / c["K"]


def _formula(c, v):
    "The reference of variant v as text, e.g. '21/20 bare_full'."
    K, (full, z) = c["K"], _evals(c, v)
    term = lambda n, what: "" if not n else (what if n == K else f"{n}/{K} {what}")
    return " + ".join(t for t in (term(full, "bare_full"), term(z, "bare_z")) if t)


def _step_section(now, before, paired=None):
    out = ["## 1. Step overhead: one Langevin step against the bare decoder pass", "",
           "Per-step time of `lpc_book.samplers.langevin` (K moves per call, `params=` for the learning variants, theta's "
           "gradient then added to `.grad` as LPC does) divided by the per-step time of the minimal work it must do, "
           "counted in bare passes: the energy + backward w.r.t. z and theta (`bare_full`) and the energy + z-gradient "
           "(`bare_z`). The current sampler evaluates z_0 and each of the K new states: (K+1)/K `bare_full` per move for "
           "ULA and preconditioned ULA; (K+1)/K `bare_full` + `bare_z` for MALA (z_0 with theta, each proposal for z "
           "only, the kept state again with theta); (K+1)/K `bare_z` without `params` (sampling). The samplers before "
           "the redesign (399e23b, 17556df) left z_K unevaluated: `bare_full`, `bare_full + bare_z` for MALA, `bare_z` "
           "for ULA sampling; each file's figures use its own counts (shown under the table). "
           "Ideal 1.00, target <= 1.10. Each cell: median of the paired per-repetition wall-clock ratios "
           "[interquartile range] / ratio of the minimum times. On this machine the wall clock cannot resolve a few "
           "percent: even idle, the same bare pass varies by a factor of 1.2 to 2.6 between repetitions (the "
           "max/min column) and by over 60% between processes, so single ratios swing by 10-20% either way and "
           "ratios below 1 occur. The sampler's own cost, which is what an implementation controls, is measured "
           "precisely in the second table, and the last summary row turns it into the worst-case ratio.", ""]
    variants = list(now["configs"][0]["ratio"]) if now.get("configs") else []
    if variants:
        out += ["| decoder | params | K | reps | bare ms/step (max/min over reps) | " + " | ".join(variants) + " |",
                "|---|---|---|---|---|" + "---|" * len(variants)]
        for c in now["configs"]:
            cells = [f"{c['ratio'][v]['median']:.3f} [{c['ratio'][v]['q25']:.2f}, {c['ratio'][v]['q75']:.2f}] / "
                     f"{c['ratio_of_min'][v]:.3f}" for v in variants]
            out.append(f"| {c['name']} | {c['decoder_params']:,} | {c['K']} | {c['reps']} | "
                       f"{c['per_step_ms']['bare_full']['median']:.2f} ({c['per_step_ms']['bare_full']['max'] / c['per_step_ms']['bare_full']['min']:.2f}) | "
                       + " | ".join(cells) + " |")
        c0, b0 = now["configs"][0], (before or {}).get("configs", [None])[0]
        f_now = "; ".join(f"{v}: {_formula(c0, v)}" for v in variants)
        f_before = "; ".join(f"{v}: {_formula(b0, v)}" for v in variants if v in b0["ratio"]) if b0 else None
        out += ["", f"Reference per move at K = {c0['K']}: {f_now}" +
                (f" (before: {f_before})" if f_before and f_before != f_now else "") + ".", ""]
        import statistics
        rows = [("median over configurations, paired wall ratio", lambda r, v: statistics.median(c["ratio"][v]["median"] for c in r["configs"])),
                ("median over configurations, ratio of minima", lambda r, v: statistics.median(c["ratio_of_min"][v] for c in r["configs"])),
                ("worst configuration, ratio of minima", lambda r, v: max(c["ratio_of_min"][v] for c in r["configs"])),
                ("worst configuration, estimated as 1 + (sampler's own cost per step) / (bare pass, minimum)",
                 lambda r, v: max(1 + r["synthetic"]["overhead_us"][v]["min"] / (1e3 * _ref_min(c, v))
                                  for c in r["configs"]) if r.get("synthetic") else None)]
        hdr = "| summary | " + " | ".join(variants) + " |"
        out += [hdr, "|---|" + "---|" * len(variants)]
        for label, fn in rows:
            cells = []
            for v in variants:
                a = fn(now, v)
                b = fn(before, v) if before and before.get("configs") and v in before["configs"][0].get("ratio_of_min", before["configs"][0]["ratio"]) else None
                cells.append(f"{_f(b)} -> {_f(a)}" if b is not None else _f(a))
            out.append(f"| {label}{' (before -> after)' if before else ''} | " + " | ".join(cells) + " |")
        out.append("")
    syn_now, syn_before = now.get("synthetic"), (before or {}).get("synthetic")
    if syn_now:
        out += ["The sampler's own cost per step: `langevin` on an energy that costs almost nothing (B = 64, d = 16, one "
                "parameter) minus the bare passes it must make on the same energy (its own evaluation count, as above), "
                "CPU microseconds per step (minimum / median over "
                f"{syn_now['reps']} repetitions of {syn_now['n_calls']} calls of K = {syn_now['K']} steps). "
                "Divide by a decoder's bare ms/step to get the overhead it adds on that decoder.", "",
                "| variant | " + ("before (us/step) | after (us/step) |" if syn_before else "us/step |"),
                "|---|" + ("---|---|" if syn_before else "---|")]
        for v, o in syn_now["overhead_us"].items():
            a = f"{o['min']:.0f} / {o['median']:.0f}"
            if syn_before and v in syn_before["overhead_us"]:
                ob = syn_before["overhead_us"][v]
                out.append(f"| {v} | {ob['min']:.0f} / {ob['median']:.0f} | {a} |")
            else: out.append(f"| {v} | {a} |")
        out.append("")
        if syn_before: out += ["Before and after were measured in different processes, at different times: absolute "
                               "microseconds follow the machine's load (a busy second core roughly doubles or triples "
                               "them), so implementations compare under one load only in a paired run (`bench/run.py "
                               "--paired REV`" + (", below" if paired else "") + ").", ""]
    out += [f"Machine (after): {_machine(now)}."] + ([f"Machine (before): {_machine(before)}."] if before else []) + [""]
    return out


def _paired_section(r):
    "The sampler's own cost per step, two implementations interleaved in one process (step_overhead.py --paired)."
    s = r["synthetic"]
    imp = s["implementations"]
    out = ["### The sampler's own cost, before and after in one process", "",
           f"`step_overhead.py --paired`: before = `{_short(imp['before']['path'])}` ({imp['before']['api']} API), after = "
           f"`{_short(imp['after']['path'])}` ({imp['after']['api']} API), on the synthetic energy above, every block "
           f"interleaved in a rotating order, {s['reps']} repetitions of {s['n_calls']} calls of K = {s['K']} moves, "
           "CPU time. Own cost = per-step time minus the bare passes of that implementation's own evaluation count, from "
           "the same repetition's bare timings. Cells: minimum over repetitions / paired median [IQR]; ratio: "
           "after / before, median of the per-repetition ratios [IQR], and the ratio of the minima.", "",
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


def _short(path):
    m = re.search(r"samplers_([0-9a-f]{7,40})\.py", str(path))
    return f"samplers.py of {m.group(1)}" if m else str(path)


def _target_lines(r):
    "The time-to-target sentence of a cost_quality result (first-crossing definition)."
    cv, cl, pl = r["vae_to_target"], r["lpc_to_target"], r["vae_plateau"]
    br = lambda c, k: f"[{c[k]['lo']:.0f}, {c[k]['hi']:.0f}]"
    return [f"Target F* = the VAE's plateau FID **{r['target_fid']:.2f}** (median of its last 20%; fitted change over "
            f"that stretch {100 * pl['change']:+.1f}%, {'flat' if pl['flat'] else 'NOT flat'} by the 2% rule). "
            f"The VAE first reached it at {cv['seconds']['x']:.1f} s {br(cv, 'seconds')} / {cv['iterations']['x']:.0f} "
            f"iterations; LPC " + (f"at {cl['seconds']['x']:.1f} s {br(cl, 'seconds')} / {cl['iterations']['x']:.0f} "
            "iterations" if cl["reached"] else f"did not within the cap ({cl['seconds']['x']:.0f} s)") +
            f": time ratio **{r['time_ratio']:.2f}**, iteration ratio **{r['iteration_ratio']:.3f}** ({r['ratio_kind']}; "
            "first crossings interpolated between the bracketing evaluations).", ""]

def _old_target_lines(r):
    "The same for results written before the first-crossing definition (target = the VAE's final FID)."
    return [(f"**LPC reached the VAE's final FID ({r['target_fid']:.2f})**" if r["reached"] else
             f"**LPC did not reach the VAE's final FID ({r['target_fid']:.2f}) within the cap**"),
            f"after {r['lpc_seconds_to_target']:.1f} training seconds and {r['lpc_iterations_to_target']} SGD iterations: "
            f"time ratio **{r['time_ratio']:.2f}** (LPC seconds / VAE's total seconds: the definition before issue 16), "
            f"iteration ratio **{r['iteration_ratio']:.3f}** ({r['ratio_kind']}; resolution one evaluation interval).", ""]


def _cq_frontier_section(r):
    "The time-to-quality section of a cost_quality result by the frontier's definition (since issue 16)."
    v, l, st, m = r["vae"], r["lpc"], r["settings"], r["lpc_method"]
    cv, cl, pl = r["vae_to_target"]["seconds"], r["lpc_to_target"]["seconds"], r["vae_plateau"]
    it = lambda c: c["iteration"]["x"]
    spi = lambda c: f"{1e3 * c['seconds_per_iteration']['median']:.1f} [{1e3 * c['seconds_per_iteration']['q25']:.1f}, " \
                    f"{1e3 * c['seconds_per_iteration']['q75']:.1f}]"
    ch = l.get("chain") or {}
    lpc_desc = (f"K = {m['n_steps']} {m['sampler']} step(s), {m['warm_start']} warm start"
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
           f"{ch.get('energy_drop', math.nan):.2f}.", "", f"Machine: {_machine(r)}; {r['seconds']:.0f} s in all.", ""]
    return out


def _cq_section(r, b=None):
    if r.get("definition") == "frontier" and not r.get("skipped"): return _cq_frontier_section(r)
    out = ["## 2. Cost to quality: LPC (Jeffreys warm start, preconditioned) against the VAE on MNIST", ""]
    if r.get("skipped"): return out + [f"Skipped: {r['skipped']}", ""]
    v, l = r["vae"], r["lpc"]
    c = r["config"]
    out += [f"Same conv decoder and encoder (latent {c['latent_dim']}, width {c['width']}), Adam lr {c['lr']}, batch "
            f"{c['batch_size']}, {c['likelihood']} likelihood; LPC with K = {c['n_steps']} {c['sampler']} steps of "
            f"eta = {c['step_size']}. The VAE trains for {r['vae_budget_seconds']:.0f} s; LPC until it reaches the VAE's "
            f"final domain-FID (cap {r['lpc_cap']:g}x). FID of {r['n_eval_samples']} samples every "
            f"{r['eval_every_seconds']:.1f} training seconds, clock paused. One seed.", "",
            "| | VAE | LPC |", "|---|---|---|",
            f"| seconds per SGD iteration (median [IQR]) | {v['seconds_per_iteration']['median']:.3f} "
            f"[{v['seconds_per_iteration']['q25']:.3f}, {v['seconds_per_iteration']['q75']:.3f}] | "
            f"{l['seconds_per_iteration']['median']:.3f} [{l['seconds_per_iteration']['q25']:.3f}, "
            f"{l['seconds_per_iteration']['q75']:.3f}] |",
            f"| training seconds / SGD iterations run | {v['seconds']:.1f} / {v['iterations']} | {l['seconds']:.1f} / {l['iterations']} |",
            f"| final domain-FID | {v['curve'][-1]['fid']:.2f} (re-evaluations: {v['fid_eval_spread']['min']:.2f}–"
            f"{v['fid_eval_spread']['max']:.2f}) | {l['curve'][-1]['fid']:.2f} |", "",
            *(_target_lines(r) if "vae_to_target" in r else _old_target_lines(r)),
            "FID against training seconds:", "", "| seconds | VAE iteration | VAE FID | LPC iteration | LPC FID |",
            "|---|---|---|---|---|"]
    grid = sorted({round(p["seconds"]) for p in v["curve"]} | {round(p["seconds"]) for p in l["curve"]})
    def at(curve, s):
        pts = [p for p in curve if round(p["seconds"]) == s]
        return (str(pts[0]["iterations"]), f"{pts[0]['fid']:.2f}") if pts else ("", "")
    for s in grid: out.append(f"| {s} | " + " | ".join(at(v["curve"], s) + at(l["curve"], s)) + " |")
    out += ["", f"Machine: {_machine(r)}; {r['seconds']:.0f} s in all.", ""]
    if b and not b.get("skipped"):
        out += [f"Before the sampler optimisation (`cost_quality_before.json`, same settings): VAE "
                f"{b['vae']['seconds_per_iteration']['median']:.3f} s/iteration, LPC "
                f"{b['lpc']['seconds_per_iteration']['median']:.3f} s/iteration, VAE final FID {b['target_fid']:.2f}, "
                f"LPC {'reached it' if b['reached'] else 'did not reach it'} ({b['lpc_iterations_to_target']} iterations, "
                f"{b['lpc_seconds_to_target']:.0f} s): time ratio {b['time_ratio']:.2f}, iteration ratio "
                f"{b['iteration_ratio']:.3f} ({b['ratio_kind']}). Differences between the two runs are dominated by the "
                f"machine's load (load average {b.get('loadavg_start')} vs {r.get('loadavg_start')}): the sampler's own "
                "cost is well under 1% of an LPC iteration here." + _evals_note(b, r), ""]
    return out


def _evals_note(before, after):
    "What differs in the work of LPC's chain when the two runs used samplers of different APIs."
    b, a = (before or {}).get("sampler_api", "old"), (after or {}).get("sampler_api", "old")
    if b == a: return ""
    return (f" The two runs' chains differ in work by design: the {'before' if b == 'new' else 'after'} sampler evaluates "
            "z_0 and each of the K new states (K + 1 decoder passes with theta's gradient per chain), the other "
            "z_0..z_{K-1} (K).")


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
           "Before: torch-fidelity's own Inception module. After: the same weights with batch norm folded into the "
           "convolutions and channels-last activations (`lpc_book.quality.register_fused_inception`; features equal "
           "to about 1e-5). The domain-FID path did not change.", "",
           "| | metric | generated | reference | seconds (median [min, max]) | images/s | warm-up call, 100 images (s) |",
           "|---|---|---|---|---|---|---|"]
    if before: out += _metric_rows(before, "before")
    out += _metric_rows(r, "after" if before else "")
    out += ["", "Reference statistics are cached by torch-fidelity after the first call (a warm-up with 100 "
            "generated images, shown apart; it includes the reference's features when they were not cached yet). "
            f"Machine (after): {_machine(r)}."]
    if before: out.append(f"Machine (before): {_machine(before)}.")
    return out + [""]


COSTMODEL_ARGS = ["--steps", "1", "2", "5", "10", "--threads-list", "1", "--repeats", "20"]  # the cost model's check
# (about 2 minutes, run on its own: make bench's iteration_time already gives every LPC row its prediction)


def _iter_section(r, before=None, title="## 4. Seconds per SGD iteration (`bench/iteration_time.py`)"):
    if not any(k.endswith(("_start", "_fresh")) for k in r["results"]): return _old_iter_section(r, before)
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
    out += [f"Machine: {_machine(r)}.", ""]
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


def _old_iter_section(r, before=None):
    "The table of an iteration_time.json written before the start/fresh pairs (one method per row)."
    out = ["## 4. Seconds per SGD iteration (`bench/iteration_time.py`)", "",
           f"Batch {r['batch_size']}, the 28x28 conv decoder, {r['data']} data, {r['torch_num_threads']} thread(s); LPC with the "
           "Jeffreys warm start and K preconditioned steps. Median [min, max] over repetitions, milliseconds.", "",
           "| method | " + ("before (ms) | after (ms) |" if before else "ms |"), "|---|" + ("---|---|" if before else "---|")]
    cell = lambda v: f"{1e3 * v['median']:.0f} [{1e3 * v['min']:.0f}, {1e3 * v['max']:.0f}]"
    for k, v in r["results"].items():
        b = (before or {}).get("results", {}).get(k)
        out.append(f"| {k} | " + (f"{cell(b) if b else '—'} | " if before else "") + f"{cell(v)} |")
    if before: out += ["", "The VAE's code path did not change between the two runs: its difference is the machine's run-to-run "
                       "variation, which is larger than the sampler's saving per iteration (below 1 ms at K = 10)."
                       + _evals_note(before, r)]
    out += ["", f"Machine (after): {_machine(r)}."] + ([f"Machine (before): {_machine(before)}."] if before else [])
    return out + [""]


def _headline(so, so_b, cq, cq_b, mt, mt_b):
    "The three figures, before -> after, as one table."
    import statistics
    rows = []
    def pair(b, a, fmt): return f"{fmt(b)} -> {fmt(a)}" if b is not None else fmt(a)
    if so and so.get("configs"):
        for v in ("ula", "preconditioned", "mala"):
            med = lambda r: statistics.median(c["ratio"][v]["median"] for c in r["configs"]) if r and r.get("configs") else None
            est = lambda r: (max(1 + r["synthetic"]["overhead_us"][v]["min"] / (1e3 * _ref_min(c, v)) for c in r["configs"])
                             if r and r.get("synthetic") and r.get("configs") else None)
            own = lambda r: r["synthetic"]["overhead_us"][v]["min"] if r and r.get("synthetic") else None
            rows.append(f"| step overhead, {v}: median over configurations of the paired ratio; worst configuration "
                        f"(estimated); sampler's own cost (us/step) | {pair(med(so_b), med(so), _f)}; "
                        f"{pair(est(so_b), est(so), _f)}; {pair(own(so_b), own(so), lambda x: f'{x:.0f}')} |")
    if cq and not cq.get("skipped"):
        g = lambda r, k: r[k] if r and not r.get("skipped") else None
        sec = lambda r: r["lpc"]["seconds_per_iteration"]["median"] if r and not r.get("skipped") else None
        if cq_b is not None and cq_b.get("definition") != cq.get("definition"): cq_b = None  # measured otherwise: no pair
        what = ("t(LPC) / t(VAE) to the VAE's plateau FID, the book's LPC" if cq.get("definition") == "frontier"
                else "LPC's time / VAE's time to the VAE's final FID")
        rows.append(f"| cost to quality: {what}; the same in SGD iterations; "
                    f"LPC seconds per iteration | {pair(g(cq_b, 'time_ratio'), cq['time_ratio'], lambda x: f'{x:.2f}')}; "
                    f"{pair(g(cq_b, 'iteration_ratio'), cq['iteration_ratio'], _f)}; {pair(sec(cq_b), sec(cq), _f)} |")
    if mt:
        for k, v in mt["results"].items():
            if v.get("skipped"): continue
            b = (mt_b or {}).get("results", {}).get(k, {})
            bs = b["seconds"]["median"] if b and not b.get("skipped") else None
            rows.append(f"| metric throughput: {v['extractor']}-FID of {v['n_generated']:,} samples, seconds (median) | "
                        f"{pair(bs, v['seconds']['median'], lambda x: f'{x:.1f}')} |")
    if not rows: return []
    return (["## The three figures (before -> after the optimisation)", "",
             "Before: `lpc_book/samplers.py` of commit " + f"`{_before_rev(so_b)}`" +
             (" (with the extra energy pass LPC then made for its logged loss)" if _loss_pass(so_b, cq_b) else "") +
             " and torch-fidelity's own Inception module (`make bench-before`). After: "
             "this commit (`make bench`). Details in the sections below.", "",
             "| figure | value |", "|---|---|"] + rows + [""])


def _loss_pass(*runs):
    "Did the 'before' sampler report no final energy (LPC then paid one more energy pass)? Files without the record: 399e23b's."
    return any(r.get("loss_pass", True) for r in runs if r)


def _before_rev(r):
    impl = (r or {}).get("implementation", "")
    import re
    m = re.search(r"samplers_([0-9a-f]{7,40})\.py|commit ([0-9a-f]{7,40})", impl)
    return (m.group(1) or m.group(2)) if m else "?"


def render_readme() -> str:
    "README.md's text, from the JSON files in RESULTS."
    lines = ["# Benchmarks", "", "Generated by `make bench` (`bench/run.py`) from the JSON files in this folder; each "
             "JSON holds every repetition, the machine (platform, CPU model, cores), torch version, thread count and "
             "the load average. All benchmarks run with `torch.set_num_threads(1)`.", ""]
    r = {n + s: _load(n + s) for n in BENCHMARKS for s in ("", "_before")}  # each file read once
    paired = _load("step_overhead_paired")
    lines += _headline(r["step_overhead"], r["step_overhead_before"], r["cost_quality"], r["cost_quality_before"],
                       r["metric_throughput"], r["metric_throughput_before"])
    if r["step_overhead"]: lines += _step_section(r["step_overhead"], r["step_overhead_before"], paired)
    if paired: lines += _paired_section(paired)
    if r["cost_quality"]: lines += _cq_section(r["cost_quality"], r["cost_quality_before"])
    if r["metric_throughput"]: lines += _metric_section(r["metric_throughput"], r["metric_throughput_before"])
    if r["iteration_time"]: lines += _iter_section(r["iteration_time"], r["iteration_time_before"])
    costmodel = _load("iteration_time_costmodel")
    if costmodel: lines += _iter_section(costmodel, title="## 5. The cost model against measured iterations "
                                         f"(`bench/iteration_time.py {' '.join(COSTMODEL_ARGS)} --suffix _costmodel`)")
    persistent = _load("iteration_time_persistent")
    if persistent: lines += _persist_section(persistent)
    return "\n".join(lines)


def write_readme() -> Path:
    "Write RESULTS/README.md (atomically)."
    RESULTS.mkdir(parents=True, exist_ok=True)
    dest, tmp = RESULTS / "README.md", RESULTS / "README.md.tmp"
    tmp.write_text(render_readme())
    os.replace(tmp, dest)
    return dest


def _samplers_of(rev, flag):
    "lpc_book/samplers.py of git revision `rev`, written to a temporary samplers_REV.py."
    try: src = subprocess.check_output(["git", "show", f"{rev}:lpc_book/samplers.py"], cwd=HERE.parent, text=True)
    except (subprocess.CalledProcessError, OSError) as e:
        sys.exit(f"{flag} {rev}: cannot read lpc_book/samplers.py at that revision with git ({e})")
    impl = Path(tempfile.mkdtemp(prefix="lpc_bench_")) / f"samplers_{rev}.py"
    impl.write_text(src)
    return impl


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke-sized runs")
    ap.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run only this benchmark (repeatable)")
    ap.add_argument("--suffix", default="", help="suffix of the JSON names, e.g. _before")
    ap.add_argument("--readme", action="store_true", help="only regenerate README.md")
    ap.add_argument("--paired", metavar="REV", help="measure the sampler's own cost per step of lpc_book/samplers.py of "
                    "git revision REV against the current one, interleaved in one process (step_overhead_paired.json); "
                    "alone, unless --only names benchmarks to run as well")
    ap.add_argument("--before", metavar="REV", help="benchmark the state before the optimisation: lpc_book/samplers.py "
                    "of git revision REV and the unfused Inception (suffix _before unless --suffix is given)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    failed, extra, suffix = [], {}, a.suffix
    paired = _samplers_of(a.paired, "--paired") if a.paired else None
    if a.before:
        impl = _samplers_of(a.before, "--before")
        a.suffix = a.suffix or "_before"
        extra = {"step_overhead": ["--impl", str(impl)], "cost_quality": ["--impl", str(impl)],
                 "iteration_time": ["--impl", str(impl)], "metric_throughput": ["--unfused"]}
    if not a.readme:
        jobs = [(name, [str(HERE / BENCHMARKS[name]), "--suffix", a.suffix] + extra.get(name, []))
                for name in a.only or (() if paired else list(BENCHMARKS))]
        if paired: jobs.append(("step_overhead_paired", [str(HERE / "step_overhead.py"), "--paired", str(paired),
                                                         "--suffix", suffix]))
        for name, args in jobs:
            print(f"== {name}", flush=True)
            cmd = [sys.executable, *args] + (["--quick"] if a.quick else [])
            t = time.perf_counter()
            rc = subprocess.call(cmd, cwd=HERE.parent, env={**os.environ, "PYTHONHASHSEED": "0"})
            print(f"== {name}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {time.perf_counter() - t:.0f} s", flush=True)
            if rc: failed.append(name)
    print(f"-> {write_readme()} ({time.perf_counter() - t0:.0f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

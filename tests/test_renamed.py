"""The method field `warm_start` is `encoder_divergence` since 2026-12-08 (issue 33), with the warm-start sweep's
`warm_starts` (`encoder_divergences`) and the frontier's `persistent_warm_start` (`persistent_encoder_divergence`).
Runs written before call them by the old names: the run store reads them under the new ones (`lpc_book.params.renamed`,
applied in `lpc_book.runs.Run`), so the committed runs give the report and the claims they gave before the rename, and
an old run folder resumes. New input with an old name is refused, naming the new one."""
import contextlib, io, json
from pathlib import Path
import pytest
from conftest import ROOT

from lpc_book.cli import main
from lpc_book.methods import make_method
from lpc_book.params import defaults
from lpc_book.results import claims_table, paired_values, seed_runs, seed_table
from lpc_book.runs import Run, list_runs, start_run

# The committed runs of the warm-start study (claim 4's confirmatory seeds 3-7, cpu profile) and of the frontier, and
# what the code before the rename computed from them (recorded at commit 1773995 with that commit's lpc_book).
WARM_START_RUNS = ("20261207-202256-ec2eb8", "20261207-202256-c40ae0", "20261207-202256-0cb915", "20261207-202256-950139",
                   "20261207-202256-35cb15")
FRONTIER_RUNS = ("20261203-084226-1b6735", "20261203-084226-b0cd9e", "20261203-154938-ff9af2")
CLAIM_4 = {"claim": "4. Jeffreys is the best warm start", "verdict": "not held", "seeds": 5, "censored": 0, "look": "",
           "statistic": "0.219 [0.114, 0.325] (98.3% interval)",
           "rule": "log(FID Jeffreys / FID other) < 0 for every other warm start (closest: reverse); forward: -1.770 "
                   "[-1.846, -1.693], Jeffreys better in 5 of 5; reverse: +0.219 [+0.114, +0.325], Jeffreys better in 0 "
                   "of 5; none: -1.732 [-1.820, -1.645], Jeffreys better in 5 of 5",
           "runs": ", ".join(WARM_START_RUNS)}
WARM_START_TABLE = {  # encoder divergence: (fid, log_px, chain_energy_drop, encoder_grad_evals), mean [95% t-interval]
    "none": ("365 [360, 369]", "-1,542 [-1,542, -1,541]", "-3.5 [-4.25, -2.75]", "0 [0, 0]"),
    "forward": ("378 [373, 384]", "-1,544 [-1,544, -1,544]", "4.79 [1.8, 7.78]", "1,200 [1,200, 1,200]"),
    "reverse": ("51.9 [47.5, 56.2]", "-1,410 [-1,416, -1,404]", "0.594 [0.107, 1.08]", "1,200 [1,200, 1,200]"),
    "jeffreys": ("64.5 [60.8, 68.3]", "-1,425 [-1,434, -1,416]", "1.35 [0.00403, 2.71]", "1,200 [1,200, 1,200]")}
PAIRED_SEED_3 = {"none": 307.0668905214518, "forward": 320.75052087089887, "reverse": -7.986448131968473}
FRONTIER_DIVERGENCES = {"ula_k1": "jeffreys", "preconditioned_k10": "jeffreys", "preconditioned_k1_reverse": "reverse",
                        "preconditioned_k2_reverse": "reverse", "preconditioned_k1_last": "jeffreys"}


def committed(ids):
    runs = [r for r in list_runs(ROOT / "runs", root=ROOT) if r.id in ids]
    if len(runs) < len(ids): pytest.skip(f"committed runs {sorted(set(ids) - {r.id for r in runs})} are no longer in runs/")
    return runs


def test_committed_runs_are_read_under_the_new_names():
    for r in committed(WARM_START_RUNS + FRONTIER_RUNS):
        assert "warm_start" in r.config["params"], "the folders keep their old names (this test reads old runs)"
        assert "warm_start" not in r.params and "encoder_divergence" in r.params
        assert not any("warm_start" in row for row in r.metrics["results"])
    for r in committed(WARM_START_RUNS):
        assert r.params["encoder_divergences"] == ["none", "forward", "reverse", "jeffreys"]
        assert [row["encoder_divergence"] for row in r.metrics["results"]] == ["none", "forward", "reverse", "jeffreys"]


def test_claim_4_is_decided_as_before_the_rename():
    row = claims_table(committed(WARM_START_RUNS), "cpu").set_index("claim").loc[CLAIM_4["claim"]].to_dict()
    assert {"claim": CLAIM_4["claim"], **row} == CLAIM_4


def test_warm_start_tables_are_as_before_the_rename():
    by_seed = seed_runs(committed(WARM_START_RUNS), "warm_start", "cpu")
    assert sorted(by_seed) == [3, 4, 5, 6, 7]
    st = seed_table(by_seed)
    assert st.columns[0] == "encoder_divergence" and "warm_start" not in st.columns  # the report's table is keyed by it
    got = {r["encoder_divergence"]: (r["fid"], r["log_px"], r["chain_energy_drop"], r["encoder_grad_evals"])
           for r in st.to_dict("records")}
    assert got == WARM_START_TABLE
    pv = paired_values(by_seed, "fid", "jeffreys", relative=False)
    assert dict(zip(pv[pv.seed == 3].configuration, pv[pv.seed == 3].difference)) == pytest.approx(PAIRED_SEED_3, rel=1e-12)


def test_frontier_rows_keep_their_divergence():
    st = seed_table(seed_runs(committed(FRONTIER_RUNS), "frontier", "cpu")).set_index("label")
    assert "warm_start" not in st.columns
    assert {k: st.loc[k, "encoder_divergence"] for k in FRONTIER_DIVERGENCES} == FRONTIER_DIVERGENCES


def test_the_old_name_is_refused_naming_the_new_one():
    with pytest.raises(TypeError, match='"warm_start" was renamed "encoder_divergence"'):
        make_method("lpc", warm_start="reverse")
    assert make_method("lpc", encoder_divergence="reverse").encoder_divergence == "reverse"


def call(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_an_old_run_folder_resumes_under_the_new_names(tmp_path, monkeypatch):
    """A run interrupted before the rename (its config.json with warm_start, warm_starts and method_params of the old
    name) resumes: `lpc-book resume` hands the notebook the new names, and its parameter check accepts them."""
    import papermill
    monkeypatch.setenv("LPC_BOOK_CACHE", str(tmp_path / "cache"))
    new = {"out_dir": str(tmp_path / "runs"), "encoder_divergences": ["none", "reverse"],
           "method_params": {"lpc": {"encoder_divergence": "reverse"}}}
    r = start_run("warm_start", new)
    old = dict(r.config, params={({"encoder_divergence": "warm_start", "encoder_divergences": "warm_starts"}).get(k, k):
                                 ({"lpc": {"warm_start": "reverse"}} if k == "method_params" else v)
                                 for k, v in r.config["params"].items()})
    (r.path / "config.json").write_text(json.dumps(old))
    r.set_status("interrupted"); r.release()
    assert Run(r.path).params == {**r.params}  # (the new names, as `start_run` checked them)
    seen = {}
    def notebook(nb, out, parameters, **kw):  # what the experiment notebook's first lines do: `begin` -> start_run
        seen.update(parameters)
        start_run(Path(nb).stem, parameters, run_dir=parameters["run_dir"]).finish()
    monkeypatch.setattr(papermill, "execute_notebook", notebook)
    code, text, err = call(["resume", str(r.path), "--no-progress"])
    assert code == 0, err
    assert seen["encoder_divergences"] == ["none", "reverse"] and seen["method_params"] == {"lpc": {"encoder_divergence": "reverse"}}
    assert not {"warm_start", "warm_starts"} & set(seen)
    assert Run(r.path).status == "ok" and json.loads((r.path / "config.json").read_text())["params"]["warm_starts"] == ["none", "reverse"]


def test_defaults_have_the_new_names():
    assert "encoder_divergence" in defaults("lpc_vs_baselines") and "warm_start" not in defaults("lpc_vs_baselines")
    assert defaults("warm_start")["encoder_divergences"] == ["none", "forward", "reverse", "jeffreys"]
    assert defaults("frontier")["persistent_encoder_divergence"] == "forward"

"""One LPC and one home for every default (issue 33): the three ways of building `lpc` agree, and the package writes
a default value of the chain's settings (n_steps, step_size, sampler, encoder_divergence) in one place per method."""
import ast, dataclasses, json
from pathlib import Path
from conftest import ROOT

NAMES = {"n_steps", "step_size", "sampler", "encoder_divergence"}
# Functions whose own keyword defaults of these names are not a method's: the sampler's and the estimators' chains.
OWN_CHAINS = {("samplers.py", "langevin"): "the sampler function's default kernel (ULA), for callers outside the methods",
              ("likelihood.py", "langevin_proposal"): "the importance sampler's proposal chain",
              ("likelihood.py", "reconstruction_mse"): "the reconstruction estimator's descent"}
VALID = {"n_steps": lambda v: isinstance(v, int), "step_size": lambda v: isinstance(v, float),  # a value a method could take
         "sampler": lambda v: v in ("ula", "preconditioned", "mala"), "encoder_divergence": lambda v: v in ("jeffreys", "forward", "reverse", "none")}


def literal_defaults():
    "Every literal value given to one of NAMES in the package: (file, enclosing def/class, kind, name, value, line)."
    for path in sorted((ROOT / "lpc_book").glob("*.py")):
        if path.name == "_modidx.py": continue
        tree = ast.parse(path.read_text())
        parent = {ch: node for node in ast.walk(tree) for ch in ast.iter_child_nodes(node)}
        def where(n):
            while n in parent:
                n = parent[n]
                if isinstance(n, (ast.FunctionDef, ast.ClassDef)): return n.name
            return "<module>"
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)):
                a = node.args
                pos = a.posonlyargs + a.args
                pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
                for arg, d in pairs:
                    if arg.arg in NAMES and isinstance(d, ast.Constant) and d.value is not None:
                        yield path.name, getattr(node, "name", "lambda"), "parameter", arg.arg, d.value, node.lineno
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id in NAMES \
                    and isinstance(node.value, ast.Constant):
                yield path.name, where(node), "field", node.target.id, node.value.value, node.lineno
            elif isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg in NAMES and isinstance(kw.value, ast.Constant):
                        yield path.name, where(node), "keyword", kw.arg, kw.value.value, node.lineno
            elif isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values):
                    if isinstance(k, ast.Constant) and k.value in NAMES and isinstance(v, ast.Constant) and v.value is not None:
                        yield path.name, where(node), "dict", k.value, v.value, node.lineno


def test_each_default_has_one_home():
    "Only the method classes' fields and the registry's named differences write these defaults; each once per method."
    from lpc_book.methods import METHODS, method_fields, Langevin
    homes, stray = {}, []
    for file, where, kind, name, value, line in literal_defaults():
        if (file, where) in OWN_CHAINS and kind == "parameter" or not VALID[name](value): continue
        if file == "methods.py" and kind == "field": homes.setdefault((where, name), []).append(value); continue
        if file == "methods.py" and kind == "keyword" and where == "<module>": continue  # register_method(...) differences
        stray.append(f"{file}:{line} {where} {kind} {name}={value!r}")
    assert not stray, "defaults written outside their one home (lpc_book.methods):\n" + "\n".join(stray)
    assert all(len(v) == 1 for v in homes.values()), homes
    for name, spec in METHODS.items():  # a preset lists differences only: never a copy of the class's default
        same = {k: v for k, v in spec.differences.items() if not callable(v) and method_fields(spec.cls).get(k) == v}
        assert not same, f"preset {name!r} repeats {spec.cls.__name__}'s defaults {same}"


def test_three_ways_of_building_lpc_agree():
    from lpc_book.methods import LPC, make_method
    from lpc_book.params import defaults
    a, b, c = (dataclasses.asdict(m) for m in (LPC(), make_method("lpc"), make_method("lpc", defaults("lpc_vs_baselines"))))
    assert a == b == c, (a, b, c)
    assert (a["n_steps"], a["sampler"], a["encoder_divergence"], a["init"]) == (5, "preconditioned", "jeffreys", "encoder_sample")


def test_a_field_the_method_lacks_is_an_error():
    import pytest
    from lpc_book.methods import make_method
    with pytest.raises(TypeError, match="'n_steps'"): make_method("mcpc", n_steps=10)
    with pytest.raises(TypeError, match="'burn_in', 'init', 'encoder_divergence'"):
        make_method("mcpc", burn_in=3, init="encoder_sample", encoder_divergence="jeffreys")
    with pytest.raises(TypeError, match='"warm_start" was renamed "encoder_divergence"'):  # the field's old name
        make_method("lpc", warm_start="reverse")


def test_methods_chapter_table_is_the_registry():
    "The methods chapter shows every preset's fields: its table cell's committed output is `methods_table()`."
    from lpc_book.methods import methods_table
    nb = json.loads((ROOT / "nbs" / "04_methods.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip().endswith("print(methods_table())"))
    shown = "".join("".join(o.get("text", "")) for o in cell["outputs"] if o.get("output_type") == "stream")
    assert shown.strip() == methods_table().strip(), "re-run the table cell of nbs/04_methods.ipynb"

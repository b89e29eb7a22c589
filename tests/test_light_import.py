import subprocess
import sys

HEAVY = ("torch", "transformers", "vllm", "datatrove", "ray", "tokenizers", "pyarrow")


def test_import_prox_stays_light():
    code = f"import sys, prox; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_heuristic_does_not_import_torch():
    """spaCy's thinc imports torch whenever it is installed (the [hf] extra): about 1 s of every heuristic run's
    start-up, for layers a blank tokenizer never uses. CI installs torch, so this holds where it matters."""
    code = ("import sys; from prox.writers.heuristic import HeuristicWriter; "
            "HeuristicWriter().drop_reason('The river rose two metres overnight and the council met. ' * 30); "
            "import importlib.util; print(importlib.util.find_spec('torch') is not None, 'spacy' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["True", "False"], out

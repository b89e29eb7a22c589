import subprocess
import sys

HEAVY = ("torch", "transformers", "vllm", "datatrove", "ray", "tokenizers", "pyarrow")


def test_import_prox_stays_light():
    code = f"import sys, prox; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

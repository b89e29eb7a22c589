#!/usr/bin/env bash
# The GPU checks of issues 3 and 4 in one go, for a lent GPU machine with torch + transformers installed.
#   SHARED=path/to/shared OUT=results/ bash bench/run_gpu_checks.sh
# SHARED needs corpora/web_sample.jsonl and tokenizers/llama2. Figures go to $OUT and stdout.
set -uo pipefail
SHARED=${SHARED:-../shared}
OUT=${OUT:-/tmp/prox-gpu}
mkdir -p "$OUT"
export PYTHONPATH=$PWD/src:$PWD/bench${PYTHONPATH:+:$PYTHONPATH} PROX_SHARED=$SHARED PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
python3 -m pytest -q -rs -p no:cacheprovider tests/test_constrained.py tests/test_vllm_writer.py \
    "tests/test_refiner.py::test_tiny_transformers_model_end_to_end" 2>&1 | tee "$OUT/tests.log" | tail -8
python3 bench/bench_gpu.py --corpus "$SHARED/corpora/web_sample.jsonl" --tokenizer "$SHARED/tokenizers/llama2" \
    --repeat 8 --json "$OUT/gpu.json" "$@" 2>&1 | grep -v -i "deprecat\|forward_call" | tee "$OUT/bench.log"

#!/usr/bin/env bash
# The GPU check (issue 21): the report on the torch and jax backends on a CUDA GPU, their
# device tables, the GPU side of the default-precision divergences and the kernel rules, and
# `check --precision strict|default` on a fixture model. One script, about 6 minutes; writes
# everything under $OUT (default /tmp/gpu-check) and prints a summary.
#
# The device machine has torch and jax with CUDA, numpy, hypothesis, pytest and h5py, no
# TensorFlow and no Keras: carry Keras as wheels (pure Python). Here, in the repository root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 -d .whl \
#       keras==3.15.1 namex==0.1.0 optree==0.20.0
# then run, carrying .whl:
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl \
#     && PYTHONPATH=/tmp/site:. bash tests/power/gpu.sh
set -u
out="${OUT:-/tmp/gpu-check}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 LSTM_VERIFY_JAX_CACHE="$out/jax-cache"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$out/gpu.txt" 2>&1
for backend in torch jax; do
  started=$(date +%s)
  KERAS_BACKEND=$backend timeout 170 python3 -m verify report \
    --json "$out/report-$backend.json" > "$out/report-$backend.txt" 2>&1
  echo "$backend report: exit $? in $(( $(date +%s) - started )) s"
  KERAS_BACKEND=$backend timeout 60 python3 -m pytest -q -p no:cacheprovider \
    tests/test_devices.py tests/test_kernels.py tests/test_divergences.py \
    > "$out/tests-$backend.txt" 2>&1
  echo "$backend device tests: exit $? ($(tail -1 "$out/tests-$backend.txt"))"
  for precision in strict default; do
    KERAS_BACKEND=$backend timeout 40 python3 -m verify check tests/data/keras3_text.keras \
      --precision "$precision" > "$out/check-$backend-$precision.txt" 2>&1
    echo "$backend check --precision $precision: exit $?"
  done
done
for backend in torch jax; do
  echo "== $backend"
  sed -n '/^device table/,/^default-precision divergences/p' "$out/report-$backend.txt"
  grep -E "^(device|precision|all properties|MISMATCH)" "$out/report-$backend.txt"
done

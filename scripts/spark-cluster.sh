#!/usr/bin/env bash
# Clusters a corpus with the batch pipeline on Apache Spark (local[2] unless
# SPARK_MASTER says otherwise) and writes what `wirecluster cluster` writes.
#
#   scripts/spark-cluster.sh INPUT.jsonl OUTPUT.jsonl [options]
#
# Options go to `python -m wirecluster.spark` (--config F, --partitions N,
# --skip-invalid, --input-format parquet, --output-format parquet, ...).
# Makes (or reuses) a virtualenv in target/spark-venv with the package built
# from python/ and the pinned PySpark of python/requirements-spark.txt; the
# package is rebuilt when its sources change. Spark needs Java 17 or newer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ $# -lt 2 ]; then
    echo "usage: scripts/spark-cluster.sh INPUT.jsonl OUTPUT.jsonl [options of python -m wirecluster.spark]" >&2
    exit 2
fi
if ! command -v java > /dev/null 2>&1; then
    echo "error: Spark needs Java 17 or newer and there is no \`java\` on PATH." >&2
    echo "       On Debian or Ubuntu: apt-get install openjdk-17-jre-headless" >&2
    exit 3
fi
java_version=$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
java_major=${java_version%%.*}
if [ "$java_major" = "1" ]; then
    java_major=$(echo "$java_version" | cut -d. -f2)
fi
if ! [ "$java_major" -ge 17 ] 2> /dev/null; then
    echo "error: Spark needs Java 17 or newer; \`java\` on PATH is version ${java_version:-unknown}." >&2
    echo "       On Debian or Ubuntu: apt-get install openjdk-17-jre-headless" >&2
    exit 3
fi
if ! command -v python3 > /dev/null 2>&1; then
    echo "error: python3 is needed (3.9 or newer)." >&2
    exit 3
fi

venv="$root/target/spark-venv"
stamp="$venv/.wirecluster-installed"
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$root/target"
    python3 -m venv "$venv"
fi
if [ ! -f "$venv/.requirements" ] || ! cmp -s "$root/python/requirements-spark.txt" "$venv/.requirements"; then
    echo "installing PySpark and its requirements into target/spark-venv ..." >&2
    "$venv/bin/pip" install -q --upgrade pip > /dev/null
    "$venv/bin/pip" install -q maturin pytest -r "$root/python/requirements-spark.txt"
    cp "$root/python/requirements-spark.txt" "$venv/.requirements"
fi
changed=$(find "$root/src" "$root/Cargo.toml" "$root/python/src" "$root/python/wirecluster" \
    "$root/python/Cargo.toml" "$root/python/pyproject.toml" -type f -newer "$stamp" 2> /dev/null | head -1 || true)
if [ ! -f "$stamp" ] || [ -n "$changed" ]; then
    echo "building the wirecluster package into target/spark-venv ..." >&2
    "$venv/bin/pip" install -q --force-reinstall --no-deps "$root/python"
    touch "$stamp"
fi
export PYSPARK_PYTHON="$venv/bin/python"
exec "$venv/bin/python" -m wirecluster.spark "$@"

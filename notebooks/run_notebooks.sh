#!/usr/bin/env bash
# Execute every notebook in notebooks/ headless; exit non-zero if any cell fails.
#
#   notebooks/run_notebooks.sh                 # venv in notebooks/.venv, ltv built from ./python
#   NB_VENV=/path/to/venv notebooks/run_notebooks.sh   # a venv that already has `ltv` installed
#   NB_TIMEOUT=300 (seconds per cell), NB_OUT=<dir> (keep the executed copies there)
#
# The notebooks `import ltv`. The venv gets notebooks/requirements.txt (re-installed when that
# file changes) and, when it cannot import ltv yet, the package from this checkout
# (`pip install ./python`, a release build of the Rust engine: a few minutes the first time;
# after changing the engine, re-run that install or give NB_VENV a fresh one). Then
# `jupyter nbconvert --execute` runs each notebook, writing executed copies outside the repo.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
venv="${NB_VENV:-$here/.venv}"
timeout="${NB_TIMEOUT:-300}"
py="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "run_notebooks: creating $venv" >&2
    "$py" -m venv "$venv"
fi
stamp="$venv/.notebook-requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "run_notebooks: installing notebooks/requirements.txt" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi
if ! "$venv/bin/python" -c "import ltv" 2>/dev/null; then
    echo "run_notebooks: installing the ltv package from $repo/python" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$repo/python"
fi

out="${NB_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ltv-notebooks.XXXXXX")}"
mkdir -p "$out"
# the kernel must be the venv's python, whatever kernels the user has installed
export JUPYTER_PATH="$venv/share/jupyter"
export MPLBACKEND=module://matplotlib_inline.backend_inline

status=0
for nb in "$here"/[0-9]*.ipynb; do
    name="$(basename "$nb")"
    start=$SECONDS
    if "$venv/bin/jupyter" nbconvert --to notebook --execute \
        --ExecutePreprocessor.timeout="$timeout" --ExecutePreprocessor.kernel_name=python3 \
        --output-dir "$out" "$nb" >"$out/$name.log" 2>&1; then
        echo "run_notebooks: ok   $name ($((SECONDS - start)) s)" >&2
    else
        echo "run_notebooks: FAIL $name ($((SECONDS - start)) s); log $out/$name.log:" >&2
        tail -n 40 "$out/$name.log" >&2
        status=1
    fi
done
echo "run_notebooks: executed copies in $out" >&2
exit $status

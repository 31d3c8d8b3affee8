# Sourced by run.sh and test.sh: create .venv with Python >= 3.11 and install the project
# with ${TENON_EXTRAS}. The install is skipped when a working .venv already has it for this
# pyproject.toml (a stamp in .venv records pyproject's checksum and the extras installed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  if [ -n "${PYTHON:-}" ]; then
    echo "$PYTHON"
    return
  fi
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "Tenon needs Python 3.11 or newer on PATH (or PYTHON=/path/to/python)." >&2
  return 1
}

venv_works() {
  # The interpreter runs and the tenon distribution is installed in it.
  .venv/bin/python -c 'import importlib.metadata as m; m.distribution("tenon")' >/dev/null 2>&1
}

stamp=.venv/tenon-installed
pyproject_sum="$(cksum < pyproject.toml | cut -d ' ' -f 1,2)"
wanted="${pyproject_sum} ${TENON_EXTRAS:-[]}"

if ! venv_works || ! grep -qxF "$wanted" "$stamp" 2>/dev/null; then
  if ! .venv/bin/python -c '' >/dev/null 2>&1; then
    python_bin="$(find_python)"
    "$python_bin" -m venv --clear .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${TENON_EXTRAS:-}"
  # Extras installed for the same pyproject stay installed, so keep their lines.
  { grep -s "^${pyproject_sum} " "$stamp" || true; echo "$wanted"; } > "$stamp.new"
  mv "$stamp.new" "$stamp"
fi

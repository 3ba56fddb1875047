# Sourced by scripts/run and scripts/test: make .venv and install the project into it.
# Idempotent: reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# The interpreter for .venv: $CNET_PYTHON if set; else the distribution's own python3 (Debian
# builds it with PGO and LTO: cnet starts ~15 ms faster than on a plain source build such as
# pyenv's); else whatever python3 is first on PATH. It must be 3.10 or newer.
pick_python() {
    local candidate
    for candidate in "${CNET_PYTHON:-}" /usr/bin/python3 "$(command -v python3 || true)"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
}

bootstrap_venv() {
    local extra="${1:-}"
    local spec="$ROOT"
    [ -n "$extra" ] && spec="$ROOT[$extra]"
    local stamp="$VENV/.cnet-installed${extra:+-$extra}"
    if [ ! -x "$VENV/bin/python" ]; then
        local py
        py="$(pick_python)"
        if [ -z "$py" ]; then
            echo "cnet: python3 is required (apt-get install python3 python3-venv)" >&2
            exit 1
        fi
        if ! "$py" -m venv "$VENV" 2>/dev/null; then
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                echo "cnet: installing python3-venv" >&2
                apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
                rm -rf "$VENV"
                "$py" -m venv "$VENV"
            else
                echo "cnet: could not create $VENV (is python3-venv installed?)" >&2
                exit 1
            fi
        fi
    fi
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        echo "cnet: installing into $VENV${extra:+ (with $extra tools)}" >&2
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" >&2
        touch "$stamp"
    fi
    # Bytecode for the package, kept current: pip compiles an installed package, but an
    # editable install under PYTHONDONTWRITEBYTECODE=1 would recompile it in every process
    # (about 9 ms of each cnet start). Up to date, this check takes about 40 ms. Only an
    # optimisation: where it cannot write, cnet still runs from source.
    "$VENV/bin/python" -m compileall -q "$ROOT/inspector" >/dev/null 2>&1 || true
}

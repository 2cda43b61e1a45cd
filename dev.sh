#!/usr/bin/env bash
# The two quick-start commands (see README):
#   ./dev.sh studio   set up .venv if needed and open the studio on the bundled example
#   ./dev.sh test     set up .venv if needed and run the whole test suite
# Anything after the command is passed on (to pytest, or to `python -m studio`).
set -euo pipefail
cd "$(dirname "$0")"
venv=.venv
py=${PYTHON:-python3}

setup() {
    if [ ! -x "$venv/bin/python" ]; then
        echo "creating $venv ..."
        "$py" -m venv "$venv"
    fi
    local stamp="$venv/.installed-$(cat pyproject.toml requirements/ci.txt | cksum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ]; then
        echo "installing dependencies into $venv ..."
        "$venv/bin/python" -m pip install -q --upgrade pip
        # torch first, pinned, so the project's range never pulls a different (multi-GB) build.
        "$venv/bin/python" -m pip install -q -c requirements/ci.txt "torch==2.13.0"
        "$venv/bin/python" -m pip install -q -c requirements/ci.txt -e ".[test]"
        rm -f "$venv"/.installed-*
        touch "$stamp"
    fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    studio)
        setup
        exec "$venv/bin/python" -m studio "$@"
        ;;
    test)
        setup
        export QT_QPA_PLATFORM=offscreen
        "$venv/bin/python" -m pytest -q "$@"
        ;;
    *)
        echo "usage: ./dev.sh studio | ./dev.sh test [pytest args]" >&2
        exit 2
        ;;
esac

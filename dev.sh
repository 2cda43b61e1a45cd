#!/usr/bin/env bash
# The two quick-start commands (see README):
#   ./dev.sh studio   set up .venv if needed and open the studio on the bundled example
#   ./dev.sh test     set up .venv if needed and run the whole test suite
#   ./dev.sh check-system   say which system libraries the studio's window lacks (./dev.sh studio checks first)
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

# Qt's X11 (xcb) platform plugin loads these at start-up; without one the studio dies with a Qt message that names
# the wrong library. Debian/Ubuntu package -> the shared library it installs.
system_libraries=(
    "libegl1 libEGL.so.1" "libgl1 libGL.so.1" "libfontconfig1 libfontconfig.so.1" "libdbus-1-3 libdbus-1.so.3"
    "libxkbcommon-x11-0 libxkbcommon-x11.so.0" "libxcb-cursor0 libxcb-cursor.so.0" "libxcb-icccm4 libxcb-icccm.so.4"
    "libxcb-image0 libxcb-image.so.0" "libxcb-keysyms1 libxcb-keysyms.so.1" "libxcb-randr0 libxcb-randr.so.0"
    "libxcb-render-util0 libxcb-render-util.so.0" "libxcb-shape0 libxcb-shape.so.0"
    "libxcb-xinerama0 libxcb-xinerama.so.0" "libxcb-xkb1 libxcb-xkb.so.1"
)

check_system() {
    # Only the X11 window on Linux needs them (offscreen, Wayland-only and macOS/Windows runs do not).
    [ "$(uname -s)" = Linux ] || return 0
    case "${QT_QPA_PLATFORM:-xcb}" in xcb*) ;; *) return 0 ;; esac
    local ldconfig
    ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
    [ -x "$ldconfig" ] || return 0
    local known missing=()
    known=$("$ldconfig" -p 2>/dev/null || true)
    for entry in "${system_libraries[@]}"; do
        set -- $entry
        grep -qF "$2 " <<<"$known" || missing+=("$1")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "The studio's window needs system libraries that are missing: ${missing[*]}" >&2
        echo "Install them (Debian/Ubuntu) with:" >&2
        echo "    sudo apt-get install --no-install-recommends ${missing[*]}" >&2
        return 1
    fi
}

# The remote tests (tests/remote) start a real sshd and a one-node SLURM cluster. As root on Debian/Ubuntu (CI),
# install their servers when missing; elsewhere those tests skip and say why.
remote_test_servers() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
    [ -x /usr/sbin/sshd ] && command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
    echo "installing openssh-server, slurm-wlm and munge for tests/remote ..."
    (apt-get install -y -qq --no-install-recommends openssh-server slurm-wlm munge >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server slurm-wlm munge; } \
        >/dev/null) || echo "could not install them: the tests in tests/remote will skip" >&2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    studio)
        check_system
        setup
        exec "$venv/bin/python" -m studio "$@"
        ;;
    check-system)
        check_system && echo "all system libraries the studio's window needs are installed"
        ;;
    test)
        setup
        remote_test_servers
        export QT_QPA_PLATFORM=offscreen
        "$venv/bin/python" -m pytest -q "$@"
        ;;
    *)
        echo "usage: ./dev.sh studio | ./dev.sh test [pytest args] | ./dev.sh check-system" >&2
        exit 2
        ;;
esac

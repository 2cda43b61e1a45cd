#!/usr/bin/env bash
# Install Training Studio's desktop entry, icons and AppStream metadata so it appears in the application menu.
#   packaging/linux/install-desktop-entry.sh [--prefix DIR] [--exec COMMAND]
# --prefix  where share/ lives (default ~/.local, i.e. for the current user only; /usr/local needs root)
# --exec    the command that starts the app (default: training-studio from PATH; give the full path of
#           .venv/bin/training-studio or dist/training-studio/training-studio when it is not on PATH)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
id=io.github.trainingstudio.TrainingStudio
prefix="$HOME/.local"
exec_cmd="training-studio"
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --exec) exec_cmd="$2"; shift 2 ;;
        *) echo "unknown option $1; use --prefix DIR and/or --exec COMMAND" >&2; exit 2 ;;
    esac
done
share="$prefix/share"
mkdir -p "$share/applications" "$share/metainfo" "$share/icons/hicolor/scalable/apps"
sed -e "s|^Exec=.*|Exec=$exec_cmd %f|" -e "s|^TryExec=.*|TryExec=$exec_cmd|" \
    "$here/$id.desktop" > "$share/applications/$id.desktop"
cp "$here/$id.metainfo.xml" "$share/metainfo/"
cp "$root/resources/icons/app.svg" "$share/icons/hicolor/scalable/apps/$id.svg"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
    cp "$root/resources/icons/app-$size.png" "$share/icons/hicolor/${size}x${size}/apps/$id.png"
done
# Refresh the caches when the tools exist; menus pick the entry up on their own otherwise.
command -v update-desktop-database >/dev/null && update-desktop-database -q "$share/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
echo "installed $id into $share"

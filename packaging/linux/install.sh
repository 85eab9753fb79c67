#!/bin/sh
# Adds implant_desk to this user's application menu and opens .dcm files (application/dicom) with it.
# Run it from the unpacked implant-desk folder: ./install.sh   (./install.sh --uninstall removes what it added).
# Writes under ${XDG_DATA_HOME:-~/.local/share} and ${XDG_CONFIG_HOME:-~/.config}/mimeapps.list; needs no root.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
exe="$here/implant-desk"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
config="${XDG_CONFIG_HOME:-$HOME/.config}"
entry="$data/applications/implant-desk.desktop"
icons="$data/icons/hicolor"
mime="$data/mime"

refresh() {
    if command -v update-mime-database >/dev/null; then update-mime-database "$mime"; fi
    if command -v update-desktop-database >/dev/null; then update-desktop-database "$data/applications"; fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$entry" "$icons/scalable/apps/implant-desk.svg" "$icons/256x256/apps/implant-desk.png" \
        "$mime/packages/implant-desk-mime.xml"
    if [ -f "$config/mimeapps.list" ]; then
        grep -v '^application/dicom=implant-desk.desktop;$' "$config/mimeapps.list" \
            > "$config/mimeapps.list.tmp" || true
        mv "$config/mimeapps.list.tmp" "$config/mimeapps.list"
    fi
    refresh
    echo "implant_desk removed from the application menu"
    exit 0
fi

if [ ! -x "$exe" ]; then
    echo "install.sh: $exe not found: run the install.sh of the unpacked implant-desk folder" >&2
    exit 1
fi
case "$exe" in
    *[\"\`\$\\]*) echo "install.sh: move the folder to a path without quotes, \$, \` or \\ first: $here" >&2; exit 1 ;;
esac

mkdir -p "$data/applications" "$icons/scalable/apps" "$icons/256x256/apps" "$mime/packages" "$config"
# The entry points at this folder's executable (quoted: the path may hold spaces).
while IFS= read -r line; do
    case "$line" in
        Exec=*) printf 'Exec="%s" %%f\n' "$exe" ;;
        TryExec=*) printf 'TryExec=%s\n' "$exe" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$here/implant-desk.desktop" > "$entry.tmp"
mv "$entry.tmp" "$entry"
cp "$here/implant-desk.svg" "$icons/scalable/apps/implant-desk.svg"
cp "$here/implant-desk.png" "$icons/256x256/apps/implant-desk.png"
cp "$here/implant-desk-mime.xml" "$mime/packages/implant-desk-mime.xml"

# .dcm files open in implant_desk: the user's default for application/dicom (xdg-mime's file, written directly so
# that no xdg-utils are needed).
list="$config/mimeapps.list"
if [ -f "$list" ] && grep -q '^application/dicom=' "$list"; then
    grep -v '^application/dicom=' "$list" > "$list.tmp"
else
    cat "$list" 2>/dev/null > "$list.tmp" || true
fi
if grep -q '^\[Default Applications\]$' "$list.tmp"; then
    awk '{ print } /^\[Default Applications\]$/ { print "application/dicom=implant-desk.desktop;" }' \
        "$list.tmp" > "$list"
    rm "$list.tmp"
else
    printf '[Default Applications]\napplication/dicom=implant-desk.desktop;\n' >> "$list.tmp"
    mv "$list.tmp" "$list"
fi

refresh
echo "implant_desk added to the application menu ($entry); .dcm files open in it"

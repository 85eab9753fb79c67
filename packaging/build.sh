#!/usr/bin/env bash
# Builds the Linux application folder dist/implant-desk/ and its archive dist/implant-desk-VERSION-linux-x86_64.tar.gz.
# The first run makes a build environment in build/venv (PyPI's torch wheels, the app, PyInstaller); later runs
# reuse it. PYTHON picks the interpreter the app is frozen with (default python3, 3.10 or later).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=build/venv
if [ ! -x "$VENV/bin/pyinstaller" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
    # PyPI's Linux torch links CUDA (2.3 GB of the folder, never used: see docs/adr/0010-packaging.md).
    # TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu takes PyTorch's CPU-only wheels instead (not verified:
    # that index is out of reach of the machines this recipe was tested on).
    "$VENV/bin/pip" install -q ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} torch==2.14.1 torchvision==0.29.1
    "$VENV/bin/pip" install -q -e '.[packaging]'
fi

started=$(date +%s)
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN --workpath build/pyinstaller --distpath dist \
    packaging/implant_desk.spec
cp packaging/linux/install.sh packaging/linux/implant-desk.desktop packaging/linux/implant-desk-mime.xml \
    packaging/linux/implant-desk.svg packaging/linux/implant-desk.png dist/implant-desk/
frozen=$(date +%s)

version=$("$VENV/bin/python" -c "import implant_desk; print(implant_desk.__version__)")
archive="dist/implant-desk-$version-linux-$(uname -m).tar.gz"
tar -C dist -czf "$archive" implant-desk
done_at=$(date +%s)

echo "build: PyInstaller $((frozen - started)) s, archive $((done_at - frozen)) s"
echo "size: folder $(du -sh dist/implant-desk | cut -f1), archive $(du -sh "$archive" | cut -f1) ($archive)"

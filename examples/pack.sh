#!/bin/sh
# Pack the example app into DEST_DIR/example-app.tar.gz (or .zip with FORMAT=zip) for appURL.
# Usage: examples/pack.sh DEST_DIR [tar.gz|zip]
set -eu
dest="${1:?usage: pack.sh DEST_DIR [tar.gz|zip]}"
format="${2:-tar.gz}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
cd "$here/app"
case "$format" in
    tar.gz) tar --exclude=__pycache__ -czf "$dest/example-app.tar.gz" bin example_jobs
            echo "$dest/example-app.tar.gz" ;;
    zip)    python3 - "$dest/example-app.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
    for top in ("bin", "example_jobs"):
        for root, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in sorted(files):
                path = os.path.join(root, name)
                info = zipfile.ZipInfo.from_file(path)
                with open(path, "rb") as handle:
                    archive.writestr(info, handle.read(), zipfile.ZIP_DEFLATED)
PY
            echo "$dest/example-app.zip" ;;
    *) echo "unknown format $format" >&2; exit 2 ;;
esac

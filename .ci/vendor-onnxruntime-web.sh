#!/bin/sh
# ONNX Runtime Web for the draw-a-letter page, copied from its npm package into the Python package's static files
# (git-ignored; the wheel includes them). Only what a page without cross-origin isolation needs: the WebAssembly
# build's loader (ort.wasm.min.js), its Emscripten glue and its single SIMD binary, which runs single-threaded when
# SharedArrayBuffer is unavailable. The tarball must match the pinned sha512 (npm's integrity string), whatever the
# registry says. Without npm the page still works: it answers through the server (see docs/browser.md).
set -eu
VERSION=1.30.0
INTEGRITY=sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ==
FILES="ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm"
DEST=src/hcr/serving/static/ort

if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the page will answer through the server only (no in-browser model)" >&2
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null)
tarball="$tmp/onnxruntime-web-$VERSION.tgz"
actual=$(node -e 'const fs = require("fs"), crypto = require("crypto");
process.stdout.write("sha512-" + crypto.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tarball")
if [ "$actual" != "$INTEGRITY" ]; then
    echo "onnxruntime-web@$VERSION: integrity $actual, expected $INTEGRITY; not vendored" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$tmp"
rm -rf "$DEST"
mkdir -p "$DEST"
for f in $FILES; do cp "$tmp/package/dist/$f" "$DEST/$f"; done
cat > "$DEST/README.md" <<NOTE
# ONNX Runtime Web $VERSION, vendored by .ci/vendor-onnxruntime-web.sh (make web)

From the npm package onnxruntime-web@$VERSION ($INTEGRITY), files copied unchanged from dist/: $FILES.
Licence: MIT, Copyright (c) Microsoft Corporation (https://github.com/microsoft/onnxruntime/blob/main/LICENSE).
NOTE
echo "vendored onnxruntime-web@$VERSION into $DEST"

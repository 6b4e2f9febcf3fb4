#!/bin/sh
# `make demo`: the main job, `hcr compare --preset quick`, on the data folder $DATA when it exists. A fresh clone has
# none, so then EMNIST Letters is fetched once from NIST's official archive into $DEMO_DATA (`hcr data download`
# says from where, and checks the archive's checksum) and the comparison runs on that. The MobileNetV2 models need
# ImageNet weights from a local file: without $WEIGHTS they are skipped, and this says how to add them.
set -eu

HCR=${HCR:-.venv/bin/hcr}
DATA=${DATA:-../shared/data}
WEIGHTS=${WEIGHTS:-../shared/models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5}
DEMO_DATA=${DEMO_DATA:-data}
OUT=${OUT:-out/compare}
KERAS_WEIGHTS=https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5

if [ ! -d "$DATA" ]; then
    echo "demo: no data folder at $DATA, so EMNIST Letters (145,600 letters) comes from NIST's official archive" \
         "into $DEMO_DATA/ (about half a gigabyte, downloaded once; DATA=folder uses your own)"
    # EMNIST_URL: a mirror of that archive, for machines that cannot reach NIST (unverified unless it is the same file)
    "$HCR" data download emnist-letters --data-dir "$DEMO_DATA" ${EMNIST_URL:+--url "$EMNIST_URL"}
    DATA=$DEMO_DATA
fi

if [ -f "$WEIGHTS" ]; then
    set -- --weights "$WEIGHTS"
else
    echo "demo: no MobileNetV2 weights at $WEIGHTS, so the two MobileNetV2 models are skipped;" \
         "WEIGHTS=path/to/file.h5 adds them (Keras publishes the file at $KERAS_WEIGHTS)"
    set --
fi

echo "demo: hcr compare --preset quick on $DATA -> $OUT/ (about 15 min on 2 cores)"
exec "$HCR" compare --preset quick --data-dir "$DATA" "$@" --out "$OUT"

"""A real `hcr serve` process (serving.server.run, the shipped model) whose predictor is slow on one kind of image,
for the tests of the per-request budget: `python -m tests.serving.slow_server --port PORT [--image-timeout S]`.

The slowness is what the worst uploads did to the real preprocessing (a 200×200 bar: tens of seconds inside one
Pillow rank filter): C code that holds the GIL the whole time, so no other thread of the process runs meanwhile.
Images of SLOW_SIDE px take SLOW_S seconds; every other image is read as usual.
"""

import argparse
import time

from PIL import Image, ImageFilter

from hcr.inference.predictor import Prediction, Predictor

SLOW_SIDE = 400  # larger than a letter-sized upload (serving.app.LOOP_MAX_SIDE): read in an image process
SLOW_S = 4.0


def hold_the_gil(seconds: float) -> None:
    """Busy for `seconds` in Pillow's rank filter, which never releases the GIL (each call ~0.5 s)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        Image.new("L", (300, 300)).filter(ImageFilter.MinFilter(41))


class SlowPredictor(Predictor):
    def predict_image(self, image: Image.Image, top_k: int = 3) -> Prediction:
        if image.size == (SLOW_SIDE, SLOW_SIDE):
            hold_the_gil(SLOW_S)
        return super().predict_image(image, top_k)


def main() -> None:
    from hcr.serving import server
    from hcr.serving.app import create_app
    from hcr.serving.settings import ServeLimits

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--image-timeout", type=float, default=ServeLimits.image_timeout_s)
    parser.add_argument("--image-processes", type=int, default=ServeLimits.image_processes)
    args = parser.parse_args()
    limits = ServeLimits(image_timeout_s=args.image_timeout, image_processes=args.image_processes)
    app = create_app(SlowPredictor(), limits=limits)
    server.run(app, server.open_port("127.0.0.1", args.port))


if __name__ == "__main__":
    main()

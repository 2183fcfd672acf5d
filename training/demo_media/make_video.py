"""Regenerate lesson.mp4, the demo lessons' short video (12 s, 192x108, H.264, no sound), and
lesson-40s.mp4, the 40-second one the browser test watches (long enough that a skip visibly does
not count: tests/browser/test_training_walk.py).

Not run by `make run`: the files are committed (6 and 14 KB). Needs PyAV, which is not a project
dependency: `pip install --target /tmp/avlib av` then `PYTHONPATH=/tmp/avlib python make_video.py`.
"""

import sys
from pathlib import Path

import av
from PIL import Image, ImageDraw

FPS, WIDTH, HEIGHT = 10, 192, 108


def frame(n: int, seconds: int) -> Image.Image:
    t = n / FPS
    image = Image.new("RGB", (WIDTH, HEIGHT), (178, 34, 34))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, HEIGHT - 14, int(WIDTH * t / seconds), HEIGHT], fill=(200, 160, 96))
    draw.text((10, 10), "Culture Cloud training", fill="white")
    draw.text((10, 40), f"{t:04.1f} s / {seconds} s", fill="white")
    return image


def make(name: str, seconds: int) -> None:
    target = Path(__file__).with_name(name)
    with av.open(str(target), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"crf": "32", "preset": "veryslow", "profile": "baseline"}
        )
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for n in range(seconds * FPS):
            for packet in stream.encode(av.VideoFrame.from_image(frame(n, seconds))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    print(target, target.stat().st_size, "bytes")


if __name__ == "__main__":
    names = sys.argv[1:] or ["lesson.mp4", "lesson-40s.mp4"]
    for name in names:
        make(name, 40 if "40s" in name else 12)

"""Regenerate lesson.mp4, the demo lessons' short video (12 s, 192x108, H.264, no sound).

Not run by `make run`: the file is committed (about 20 KB). Needs PyAV, which is not a project
dependency: `pip install --target /tmp/avlib av` then `PYTHONPATH=/tmp/avlib python make_video.py`.
"""

from pathlib import Path

import av
from PIL import Image, ImageDraw

SECONDS, FPS, WIDTH, HEIGHT = 12, 10, 192, 108


def frame(n: int) -> Image.Image:
    t = n / FPS
    image = Image.new("RGB", (WIDTH, HEIGHT), (178, 34, 34))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, HEIGHT - 14, int(WIDTH * t / SECONDS), HEIGHT], fill=(200, 160, 96))
    draw.text((10, 10), "Culture Cloud training", fill="white")
    draw.text((10, 40), f"{t:04.1f} s / {SECONDS} s", fill="white")
    return image


def main() -> None:
    target = Path(__file__).with_name("lesson.mp4")
    with av.open(str(target), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"crf": "32", "preset": "veryslow", "profile": "baseline"}
        )
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for n in range(SECONDS * FPS):
            for packet in stream.encode(av.VideoFrame.from_image(frame(n))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    print(target, target.stat().st_size, "bytes")


if __name__ == "__main__":
    main()

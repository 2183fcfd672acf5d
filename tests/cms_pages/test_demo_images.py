"""The demo world's cover posters: ours (drawn, no text), valid, small and the same every time."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from cms_pages.demo_images import MAX_BYTES, MOTIFS, SIZE, poster

COLOURS = ("#1F6B5C", "#8FB9A8")


@pytest.mark.parametrize("motif", MOTIFS)
def test_each_motif_makes_a_small_valid_jpeg_of_the_card_size(motif):
    data = poster(f"zhejiang/{motif}", COLOURS, motif)
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert Image.open(io.BytesIO(data)).format == "JPEG" and image.size == SIZE
    assert 5_000 < len(data) <= MAX_BYTES
    # Drawn in the site's colours: the top-left corner is the primary colour (within JPEG noise).
    corner = Image.open(io.BytesIO(data)).convert("RGB").getpixel((2, 2))
    assert all(abs(a - b) < 40 for a, b in zip(corner, (0x1F, 0x6B, 0x5C), strict=True)) or motif == "lattice"


def test_the_same_slug_always_gives_the_same_bytes_and_other_slugs_differ():
    digests = {hashlib.sha256(poster(f"sichuan/page-{i}", COLOURS)).hexdigest() for i in range(6)}
    assert len(digests) == 6
    assert poster("sichuan/page-1", COLOURS) == poster("sichuan/page-1", COLOURS)
    assert poster("sichuan/page-1", COLOURS) != poster("sichuan/page-1", ("#0B5C8A", "#F2B134"))

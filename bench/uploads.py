"""What cleaning an uploaded photo costs: time and peak memory per size.

Photos are decoded, turned upright, stripped to their pixels and re-encoded (JPEG draft mode
decodes large JPEGs at a reduced scale). Each size runs in a fresh process, which prints the
median of 5 cleanings in milliseconds, and the process's peak resident memory before and after
cleaning (Pillow's pixel buffers included), for phone photos and the largest PNG accepted.

    .venv/bin/python bench/uploads.py
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import bench_app  # noqa: F401 - puts the project on sys.path
from PIL import Image

from cases import create_app
from cases.attachments import services

SIZES = [
    ("JPEG 4000x3000 (12 MP phone photo)", "JPEG", (4000, 3000)),
    ("JPEG 8000x6000 (48 MP phone photo)", "JPEG", (8000, 6000)),
    ("PNG 1080x2400 (phone screenshot)", "PNG", (1080, 2400)),
    ("PNG 4096x4096 (largest PNG accepted)", "PNG", (4096, 4096)),
]


def photo(fmt: str, size: tuple[int, int]) -> bytes:
    image = Image.effect_noise(size, 40).convert("RGB")  # noise: worst case for compression
    out = io.BytesIO()
    image.save(out, fmt, quality=90) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def peak_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss, which a child inherits from the parent across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM: this bench reads Linux's /proc")


def one(index: int, path: str) -> None:
    label, fmt, _ = SIZES[index]
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "ATTACHMENT_MAX_BYTES": 10**9})
    data = Path(path).read_bytes()
    before = peak_mb()
    with app.app_context():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            clean = services.clean_upload(io.BytesIO(data), f"x.{fmt.lower()}")
            times.append((time.perf_counter() - start) * 1000)
    print(
        f"{label:<40} {len(data):>10,} {len(clean.content):>10,} "
        f"{statistics.median(times):>10.0f} {before:>9.0f} {peak_mb():>9.0f}"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        one(int(sys.argv[2]), sys.argv[3])
        return
    print(
        f"{'upload':<40} {'bytes in':>10} {'bytes out':>10} {'median ms':>10} "
        f"{'RSS before':>9} {'peak RSS':>9}  (MB; before = app loaded and file read)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for index, (_, fmt, size) in enumerate(SIZES):
            # Made here, so building the test photo does not count in the cleaning's peak.
            path = Path(folder) / f"{index}.{fmt.lower()}"
            path.write_bytes(photo(fmt, size))
            command = [sys.executable, __file__, "--one", str(index), str(path)]
            subprocess.run(command, check=True)  # noqa: S603


if __name__ == "__main__":
    main()

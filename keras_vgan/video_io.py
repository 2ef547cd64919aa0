"""Video files at the edges of the library: GIF (Pillow), mp4 (OpenCV), PNG sheets.

Inside the library videos are float32 in [-1, 1]; files hold uint8 in [0, 255].
Every function here accepts either and converts with `to_uint8`.

Shapes: a video is `[T, H, W, C]`, a batch `[B, T, H, W, C]`, channels last,
C in (1, 3). Anything array-like works (numpy, eager tf tensors, lists); outputs
are numpy arrays or bytes.

Writers are atomic: they write a hidden temporary file in the target directory
and `os.replace` it onto the final name, so a killed process never leaves a
half-written file under the name a reader expects.

`VideoReader` is the one place that opens a video file for reading (OpenCV's
FFmpeg backend): `read_video`, the data sources and frame extraction all use it.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import threading

import numpy as np
from PIL import Image, ImageSequence

__all__ = [
    "contact_sheet",
    "encode_gif",
    "read_gif",
    "read_video",
    "VideoReader",
    "to_uint8",
    "video_grid",
    "write_gif",
    "write_mp4",
    "write_png",
]

_VIDEO_SHAPE = "[T, H, W, C] with C in (1, 3)"
_BATCH_SHAPE = "[B, T, H, W, C] with C in (1, 3)"
_IMAGE_SHAPE = "[H, W] or [H, W, C] with C in (1, 3)"
_PALETTE_SAMPLE = 1 << 18  # pixels used to fit a GIF palette

# FFmpeg (inside OpenCV) prints its own error lines for every damaged packet; the
# callers report each bad file once instead. Read when OpenCV first opens a video.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


# === Conversion and validation ===


def to_uint8(video):
    """Converts pixels to uint8 [0, 255].

    Floats are read as [-1, 1]: clipped, mapped with `(x + 1) * 127.5` and
    rounded half up, so -1 -> 0, 0 -> 128, 1 -> 255. NaN becomes 128. uint8
    input passes through unchanged. Works for any shape.

    Args:
        video: array-like (numpy, eager tf tensor, list), float or uint8.

    Returns:
        A numpy uint8 array of the same shape.
    """
    x = np.asarray(video)
    if x.dtype == np.uint8:
        return x
    if x.dtype == np.bool_ or np.issubdtype(x.dtype, np.integer):
        raise ValueError(
            f"to_uint8: video has dtype {x.dtype}; expected uint8 [0, 255] or float in [-1, 1]"
        )
    # astype also handles bfloat16 / float16 coming from mixed-precision models.
    x = np.nan_to_num(x.astype(np.float32), nan=0.0)
    x = np.clip(x, -1.0, 1.0)
    return np.floor((x + 1.0) * 127.5 + 0.5).astype(np.uint8)


def _check_rank(x, arg, rank, expected):
    """Raises a one-line ValueError unless `x` has `rank` dims, a channel
    count of 1 or 3 and no empty dimension."""
    shape = tuple(x.shape)
    if len(shape) != rank or shape[-1] not in (1, 3) or 0 in shape:
        raise ValueError(f"{arg} has shape {shape}; expected {expected}")
    return x


def _as_video(video, arg="video"):
    return _check_rank(np.asarray(video), arg, 4, _VIDEO_SHAPE)


def _as_batch(videos, arg="videos"):
    return _check_rank(np.asarray(videos), arg, 5, _BATCH_SHAPE)


def _as_image(image, arg="image"):
    x = np.asarray(image)
    if x.ndim == 2:
        x = x[..., None]
    return _check_rank(x, arg, 3, _IMAGE_SHAPE)


# === Layout ===


def video_grid(videos, cols=None, pad=1, pad_value=0):
    """Tiles a batch of clips into one clip, row-major, in a near-square grid.

    Padding goes between tiles only (not around the border); empty cells at the
    end of the last row are filled with `pad_value`.

    Args:
        videos: `[B, T, H, W, C]`, uint8 or float.
        cols: number of columns; default `ceil(sqrt(B))`, at most B.
        pad: pixels between tiles.
        pad_value: fill value in the input's own scale (0 is black for uint8,
            mid-grey for float in [-1, 1]).

    Returns:
        `[T, rows*H + (rows-1)*pad, cols*W + (cols-1)*pad, C]`, same dtype.
    """
    v = _as_batch(videos)
    b, t, h, w, c = v.shape
    if cols is None:
        cols = math.ceil(math.sqrt(b))
    if int(cols) < 1:
        raise ValueError(f"cols is {cols}; expected an integer >= 1")
    if int(pad) < 0:
        raise ValueError(f"pad is {pad}; expected an integer >= 0")
    cols, pad = min(int(cols), b), int(pad)
    rows = math.ceil(b / cols)
    out = np.full(
        (t, rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, c),
        pad_value,
        dtype=v.dtype,
    )
    for i in range(b):
        r, k = divmod(i, cols)
        y, x = r * (h + pad), k * (w + pad)
        out[:, y : y + h, x : x + w, :] = v[i]
    return out


def contact_sheet(video, max_frames=None):
    """Lays frames side by side in one image, for a quick look or a PNG.

    Args:
        video: `[T, H, W, C]` (one strip) or `[B, T, H, W, C]` (one strip per
            clip, stacked top to bottom), uint8 or float in [-1, 1].
        max_frames: if set and smaller than T, that many frames evenly spaced
            over the clip, first and last included.

    Returns:
        uint8 `[H, W*T', C]` (or `[B*H, W*T', C]` for a batch), T' the number of
        frames kept.
    """
    v = np.asarray(video)
    if v.ndim == 5:
        v = _as_batch(v, "video")
    else:
        v = _as_video(v)[None]
    t = v.shape[1]
    if max_frames is not None:
        if int(max_frames) < 1:
            raise ValueError(f"max_frames is {max_frames}; expected an integer >= 1 or None")
        if int(max_frames) < t:
            idx = np.unique(np.round(np.linspace(0, t - 1, int(max_frames))).astype(int))
            v = v[:, idx]
    v = to_uint8(v)
    b, t, h, w, c = v.shape
    # [B, T, H, W, C] -> [B, H, T, W, C] -> [B*H, T*W, C]
    return np.ascontiguousarray(v.transpose(0, 2, 1, 3, 4).reshape(b * h, t * w, c))


# === Atomic writes ===


def _atomic_path(path, suffix=""):
    """Creates an empty hidden temporary file next to `path` and returns its name."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=f".tmp{suffix}"
    )
    os.close(fd)
    # mkstemp creates 0600; give the file the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def _write_bytes_atomic(path, data):
    tmp = _atomic_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    return os.fspath(path)


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


# === GIF ===


def _gif_frames(v):
    """uint8 [T, H, W, C] -> list of PIL frames sharing one palette."""
    if v.shape[-1] == 1:
        # Pillow writes "L" with a 256-level grey palette: lossless.
        return [Image.fromarray(f[..., 0]) for f in v]
    # One palette for the whole clip and no dithering: per-frame palettes or
    # dither noise make colours flicker. Median cut costs ~0.6 s per million
    # pixels, so the palette is fitted on a sample of frames and pixels (at most
    # _PALETTE_SAMPLE pixels) and then applied to every frame.
    t, h, w, _ = v.shape
    sample = v[np.unique(np.linspace(0, t - 1, min(t, 16)).round().astype(int))]
    stride = max(1, math.ceil(math.sqrt(sample.shape[0] * h * w / _PALETTE_SAMPLE)))
    sample = np.ascontiguousarray(sample[:, ::stride, ::stride])
    sample = Image.fromarray(sample.reshape(-1, sample.shape[2], 3))
    palette_im = sample.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=0)
    stacked = Image.fromarray(v.reshape(t * h, w, 3))
    quantized = stacked.quantize(palette=palette_im, dither=Image.Dither.NONE)
    palette = quantized.getpalette()
    indices = np.asarray(quantized).reshape(t, h, w)
    frames = []
    for f in indices:
        im = Image.fromarray(f)  # "L" until putpalette makes it "P"
        im.putpalette(palette)
        frames.append(im)
    return frames


def encode_gif(video, fps=8):
    """Encodes a clip as an animated GIF that loops forever.

    Grayscale (C=1) is stored losslessly; RGB is quantised to one 256-colour
    palette shared by all frames (no dithering), so colours do not flicker.
    GIF delays are in 1/100 s: fps is rounded to that grid and capped at 50,
    the fastest rate browsers honour. Pillow merges consecutive identical frames
    into one longer frame, so a reader may see fewer frames than T for static
    content.

    Args:
        video: `[T, H, W, C]`, uint8 or float in [-1, 1].
        fps: frames per second (> 0).

    Returns:
        The GIF file as bytes.
    """
    v = to_uint8(_as_video(video))
    if not fps or fps <= 0:
        raise ValueError(f"fps is {fps}; expected a number > 0")
    centiseconds = max(2, round(100.0 / fps))
    frames = _gif_frames(v)
    buf = io.BytesIO()
    frames[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=centiseconds * 10,
        loop=0,
        optimize=False,
    )
    return buf.getvalue()


def write_gif(path, video, fps=8):
    """Writes `video` ([T, H, W, C]) as an animated GIF at `path`, atomically.

    Parent directories are created. See `encode_gif` for the encoding.

    Returns:
        `path`.
    """
    return _write_bytes_atomic(path, encode_gif(video, fps=fps))


def read_gif(path, channels=3):
    """Reads every frame of a GIF (composited, as a viewer shows it).

    Args:
        path: GIF file.
        channels: 3 for RGB, 1 for grayscale.

    Returns:
        uint8 `[T, H, W, channels]`.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels is {channels}; expected 1 or 3")
    try:
        with Image.open(path) as im:
            mode = "L" if channels == 1 else "RGB"
            frames = [np.asarray(f.convert(mode)) for f in ImageSequence.Iterator(im)]
    except Exception as e:  # noqa: BLE001 - a damaged file raises IndexError, EOFError, ...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise OSError(f"cannot read GIF {os.fspath(path)!r}: {first}") from e
    if not frames or len({f.shape for f in frames}) != 1:
        raise OSError(f"cannot read GIF {os.fspath(path)!r}: no frames, or frames of several sizes")
    v = np.stack(frames)
    return v[..., None] if channels == 1 else v


# === mp4 (OpenCV) ===


def write_mp4(path, video, fps=8):
    """Writes `video` ([T, H, W, C]) as an MPEG-4 ('mp4v') file, atomically.

    Grayscale is expanded to 3 channels. The codec needs even sizes, so an odd
    height or width is padded by one replicated row / column (OpenCV would
    otherwise silently crop). The container follows the extension of `path`
    (.mp4 when there is none). mp4v is lossy: expect a few levels of error on
    smooth content and more on noise or sharp edges.

    Args:
        path: output file.
        video: `[T, H, W, C]`, uint8 or float in [-1, 1].
        fps: frames per second (> 0).

    Returns:
        `path`.

    Raises:
        OSError: if OpenCV cannot open a writer for `path`.
    """
    import cv2

    v = to_uint8(_as_video(video))
    if not fps or fps <= 0:
        raise ValueError(f"fps is {fps}; expected a number > 0")
    if v.shape[-1] == 1:
        v = np.repeat(v, 3, axis=-1)
    _, h, w, _ = v.shape
    if h % 2 or w % 2:
        v = np.pad(v, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    _, h, w, _ = v.shape
    ext = os.path.splitext(os.fspath(path))[1] or ".mp4"
    tmp = _atomic_path(path, suffix=ext)
    # Pin the FFmpeg backend: when FFmpeg refuses, OpenCV otherwise falls back to
    # its image-sequence writer, which "succeeds" with a single still image.
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")
    writer = cv2.VideoWriter(tmp, cv2.CAP_FFMPEG, fourcc, float(fps), (w, h), True)
    try:
        if not writer.isOpened():
            raise OSError(
                f"cannot open an OpenCV 'mp4v' writer for {os.fspath(path)!r} ({w}x{h} @ {fps} fps)"
            )
        for frame in v:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))  # RGB -> BGR
        writer.release()
        if os.path.getsize(tmp) == 0:
            raise OSError(f"OpenCV wrote an empty file for {os.fspath(path)!r}")
        os.replace(tmp, path)
    except BaseException:
        writer.release()
        _remove_quietly(tmp)
        raise
    return os.fspath(path)


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved = None


@contextlib.contextmanager
def quiet_opencv():
    """Silences OpenCV's own log lines (e.g. "can't be used to capture by name" for a
    file that is not a video), so that the caller's one message says it once."""
    global _quiet_depth, _quiet_saved
    import cv2

    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = cv2.utils.logging.getLogLevel()
            # SILENT: FFmpeg's "Could not find decoder" for a damaged file is an ERROR.
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                cv2.utils.logging.setLogLevel(_quiet_saved)


class VideoReader:
    """A video file open for reading with OpenCV's FFmpeg backend.

        with VideoReader("walk.mp4") as video:
            for frame in video.frames(start=4, stride=2, count=8):  # BGR uint8 [h, w, 3]
                ...

    Frames come as OpenCV decodes them: BGR (``[h, w]`` for a grey stream). The
    backend is pinned to FFmpeg so a file reads the same on every machine.

    Args:
        path: the video file.

    Raises:
        OSError: one line naming the path, when OpenCV cannot open it.
    """

    def __init__(self, path):
        import cv2

        self.path = os.fspath(path)
        with quiet_opencv():
            self._cap = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            self._cap.release()
            raise OSError(f"cannot open video {self.path!r} with OpenCV")

    @property
    def frame_count(self) -> int:
        """The container's frame count (an estimate for some containers; <= 0: none)."""
        import cv2

        return int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))

    @property
    def fps(self) -> float:
        import cv2

        return float(self._cap.get(cv2.CAP_PROP_FPS))

    def seek(self, index: int) -> None:
        """Moves to frame ``index`` (the next ``read`` returns it)."""
        import cv2

        self._cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))

    def read(self):
        """The next frame, or None at the end or when it does not decode."""
        ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def grab(self) -> bool:
        """Skips the next frame; False at the end or when it does not decode."""
        return bool(self._cap.grab())

    def count_remaining(self) -> int:
        """Counts the frames from here to the end by skipping through them."""
        n = 0
        while self._cap.grab():
            n += 1
        return n

    def frames(self, start: int = 0, stride: int = 1, count: int | None = None):
        """Yields frames ``start, start + stride, ...``: ``count`` of them, or until the
        end (or the first frame that does not decode)."""
        if start:
            self.seek(start)
        t = 0
        while count is None or t < count:
            if t and not all(self.grab() for _ in range(stride - 1)):
                return
            frame = self.read()
            if frame is None:
                return
            yield frame
            t += 1

    def close(self) -> None:
        self._cap.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_video(path, max_frames=None):
    """Reads a video file with OpenCV.

    Args:
        path: any container / codec OpenCV's FFmpeg backend reads.
        max_frames: read at most this many frames from the start.

    Returns:
        uint8 `[T, H, W, 3]`, RGB.

    Raises:
        OSError: if the file is missing or cannot be opened.
        ValueError: if it holds no frames.
    """
    import cv2

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise OSError(f"cannot read video {p!r}: no such file")
    if max_frames is not None and int(max_frames) < 1:
        raise ValueError(f"max_frames is {max_frames}; expected an integer >= 1 or None")
    with VideoReader(p) as video:
        count = None if max_frames is None else int(max_frames)
        frames = [
            cv2.cvtColor(f, cv2.COLOR_GRAY2RGB if f.ndim == 2 else cv2.COLOR_BGR2RGB)
            for f in video.frames(count=count)
        ]
    if not frames:
        raise ValueError(f"video {p!r} has no readable frames")
    return np.stack(frames)


# === PNG ===


def write_png(path, image):
    """Writes an image ([H, W] or [H, W, C], uint8 or float in [-1, 1]) as PNG, atomically.

    Returns:
        `path`.
    """
    x = to_uint8(_as_image(image))
    im = Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return _write_bytes_atomic(path, buf.getvalue())

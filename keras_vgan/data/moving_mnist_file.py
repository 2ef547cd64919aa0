"""The standard Moving MNIST file, ``mnist_test_seq.npy``, from a path you give.

The file of Srivastava et al. (2015) holds 10,000 sequences of 20 frames, 64x64, uint8,
stored time-major: ``[20, 10000, 64, 64]``. Nothing is downloaded here.

    source = MovingMNISTFile("~/data/mnist_test_seq.npy")      # 20-frame clips, 64x64x1
    ds = source.dataset(batch_size=16, context_frames=10)     # ([16,10,64,64,1], [16,10,64,64,1])

Any ``frames <= 20`` (a window of each sequence, random or centred), ``stride``, output
``size`` and ``channels`` (grey repeated to RGB) go through the same clip pipeline as
video files.
"""

from __future__ import annotations

import os

import numpy as np

from keras_vgan.data.base import ClipSource, DataError, Item

STANDARD_SHAPE = (20, 10000, 64, 64)
_EXPECTED = "uint8 [T, N, H, W] like mnist_test_seq.npy ([20, 10000, 64, 64])"


def load_moving_mnist_file(path) -> np.ndarray:
    """Memory-maps a Moving MNIST ``.npy`` file and checks its layout.

    Returns:
        The uint8 ``[T, N, H, W]`` array (read-only memory map; nothing is loaded yet).

    Raises:
        DataError: one line, for a missing or unreadable file or a wrong shape/dtype.
    """
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isfile(path):
        raise DataError(f"Moving MNIST file {path!r} does not exist")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - EOFError (empty), BadZipFile ("PK" header), ...
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"cannot read {path!r} as a .npy array ({first})") from None
    if not isinstance(array, np.ndarray):
        raise DataError(f"{path!r} holds several arrays (.npz); expected one {_EXPECTED}")
    if array.dtype != np.uint8 or array.ndim != 4 or 0 in array.shape:
        raise DataError(
            f"{path!r} has shape {list(array.shape)} and dtype {array.dtype}; expected {_EXPECTED}"
        )
    return array


class MovingMNISTFile(ClipSource):
    """Clips from the standard Moving MNIST file (``[20, N, 64, 64]`` uint8).

    Args:
        path: the ``.npy`` file.
        frames: frames per clip (at most the file's 20; the default takes them all).
        size: output ``height = width`` (or ``(height, width)``); default the file's 64.
        channels: 1, or 3 (the grey level repeated).
        stride, start, resize: as for ``VideoFiles``; with fewer than 20 frames the
            window starts at random (``"random"``) or in the middle (``"even"``).
        sequences: which sequences to use: None for all, a ``slice`` or a list of
            indices (e.g. ``slice(0, 8000)`` and ``slice(8000, None)`` for a split).

    Use ``dataset(context_frames=10)`` for the conventional 10-context / 10-target
    prediction split.
    """

    item_word = "sequence"
    frames_are_bgr = False

    def __init__(
        self,
        path,
        *,
        frames: int | None = None,
        size=None,
        channels: int = 1,
        stride: int = 1,
        start: str = "random",
        resize: str = "crop",
        sequences=None,
    ):
        self.array = load_moving_mnist_file(path)
        self.path = os.fspath(path)
        length, count, height, width = self.array.shape
        super().__init__(
            frames=length if frames is None else frames,
            size=(height, width) if size is None else size,
            channels=channels,
            stride=stride,
            start=start,
            resize=resize,
        )
        if self.span > length:
            raise DataError(
                f"{self.path!r} has {length}-frame sequences, shorter than one clip "
                f"({self.frames} frames at stride {self.stride} need {self.span})"
            )
        if sequences is None:
            indices = np.arange(count)
        elif isinstance(sequences, slice):
            indices = np.arange(count)[sequences]
        else:
            indices = np.asarray(sequences, np.int64).reshape(-1)
            bad = indices[(indices < 0) | (indices >= count)]
            if bad.size:
                raise ValueError(f"sequence index {int(bad[0])} is out of range [0, {count})")
        if indices.size == 0:
            raise DataError(f"no sequences of {self.path!r} selected by {sequences!r}")
        name = os.path.basename(self.path)
        self.items = [Item(f"{name}[{i}]", length, -1, int(i)) for i in indices]

    def clip_frames(self, item, start):
        stop = start + self.span
        return list(self.array[start : stop : self.stride, item.payload])

"""Samples of an unpaired translation run: A | A->B | B | B->A, side by side.

``UnpairedSamples`` runs both EMA generators of a ``unpaired.RecycleGAN`` on one fixed
batch of held-out clips of each domain every epoch and writes the panels as
``<name>.gif`` / ``.mp4`` / ``.png`` and as an animated GIF in TensorBoard's IMAGES tab
(tag ``samples/a_ab_b_ba``), through the sample files every run writes
(``callbacks._SampleFiles``).
"""

import os

import numpy as np

from keras_vgan import video_io
from keras_vgan.callbacks import _SampleFiles

PANELS = ("A", "A->B", "B", "B->A")


def _rgb(x, channels):
    """Float clips with ``channels`` channels (grey repeated to RGB)."""
    return np.repeat(x, channels, axis=-1) if x.shape[-1] != channels else x


def unpaired_panels(*clips):
    """Clips ``[N, P, T, H, W, C]``: the ``P`` given clip batches side by side per row
    (A | A->B | B | B->A for the samples), the channels of the widest (grey repeated
    to RGB); ``N`` is the smallest batch."""
    clips = [np.asarray(x, np.float32) for x in clips]
    c = max(x.shape[-1] for x in clips)
    n = min(len(x) for x in clips)
    return np.stack([_rgb(x[:n], c) for x in clips], axis=1)


class UnpairedSamples(_SampleFiles):
    """A | A->B | B | B->A GIFs of fixed held-out clips (module docstring).

    Args:
        directory: where files and the TensorBoard event file go.
        clips_a, clips_b: the fixed clips of each domain ``[N, T, H, W, C]``.
        fps: frame rate of the files.
        every: epochs between samples.
    """

    def __init__(self, directory, clips_a, clips_b, fps=8, every=1):
        super().__init__(directory, fps=fps, every=every)
        self.clips_a = np.asarray(clips_a, np.float32)
        self.clips_b = np.asarray(clips_b, np.float32)

    def write(self, name, step):
        """Translates both batches and writes ``name``.gif/.mp4/.png; returns the GIF path."""
        ab = np.asarray(self.model.translate(self.clips_a, "a_to_b"))
        ba = np.asarray(self.model.translate(self.clips_b, "b_to_a"))
        panels = unpaired_panels(self.clips_a, ab, self.clips_b, ba)
        n = panels.shape[0]
        clips = panels.reshape((n * len(PANELS),) + panels.shape[2:])
        grid = video_io.video_grid(video_io.to_uint8(clips), cols=len(PANELS))
        return self._emit(
            name,
            step,
            clips,
            grid=grid,
            sheet=video_io.contact_sheet(grid[None]),
            tag="samples/a_ab_b_ba",
            description="A | A->B | B | B->A (EMA generators), held-out clips, one pair per row",
            cols=len(PANELS),
        )


def run_samples(config, model, run_dir, data):
    """The ``UnpairedSamples`` of a run: ``num_samples`` held-out clips of each domain."""
    from keras_vgan.models.recycle_gan import unpaired_batches  # noqa: PLC0415

    n = config.num_samples
    batches = unpaired_batches(
        config, data=data, seed=config.seed + 1, split="test", num_clips=n, batch_size=n
    )
    a, b = next(iter(batches))
    return UnpairedSamples(os.path.join(run_dir, "samples"), a, b, fps=config.fps)

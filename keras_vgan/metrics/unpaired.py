"""Scores of an unpaired translator: realism per direction and temporal consistency.

For translators ``A -> B`` and ``B -> A`` (Recycle-GAN, ``keras_vgan.unpaired``) on
held-out clips of both domains, ``translation_scores`` gives, per direction:

* ``fd_<ab>``: the offline Fréchet distance (``metrics.offline``: the shipped Moving
  MNIST encoder's 128-d features, first 16 frames, 32x32 luma) of the translated clips
  against real clips of the target domain; ``fd_<ab>_identity`` the same for the
  *untranslated* source clips, the baseline a translation must beat; with reference
  clips (a second, independent draw of each domain) ``fd_<b>_floor``, the distance
  between two samples of the real target domain (what a perfect translator scores at
  this number of clips);
* ``warp_<ab>``: the warping error (``metrics.warping``, Lai et al. 2018) of the
  translated clips under the *source* clips' optical flow (backward flow, OpenCV DIS by
  default), next to ``warp_<a>_source``, the source clips' own under that flow. A
  translation that keeps the motion and does not flicker stays near the source's.

All values are lower-is-better; FD needs clips of at least 16 frames.
"""

import numpy as np

from keras_vgan.metrics import offline
from keras_vgan.metrics.frechet import frechet_distance
from keras_vgan.metrics.warping import warping_error
from keras_vgan.motion import optical_flow

NAMES = {"a_to_b": ("ab", "a", "b"), "b_to_a": ("ba", "b", "a")}


def _batches(x, name):
    batches = [x] if hasattr(x, "shape") else list(x)
    if not batches:
        raise ValueError(f"{name}: no clips")
    return [np.asarray(b, np.float32) for b in batches]


def translation_scores(translate, clips_a, clips_b, reference_a=None, reference_b=None,
                       flow_method="dis", encoder=None):  # fmt: skip
    """The scores of the module docstring, ``{name: (value, protocol)}``.

    Args:
        translate: ``(clips, direction) -> clips``, ``direction`` ``"a_to_b"`` or
            ``"b_to_a"`` (e.g. ``RecycleGAN.translate``).
        clips_a, clips_b: held-out clips of each domain (an array or batches of
            ``[b, T, H, W, C]`` in [-1, 1]).
        reference_a, reference_b: optional second draws of each domain (the floors).
        flow_method: the source's flow (``motion.FLOW_METHODS``).
        encoder: the offline encoder (the shipped one by default).
    """
    clips = {"a": _batches(clips_a, "clips_a"), "b": _batches(clips_b, "clips_b")}
    refs = {"a": reference_a, "b": reference_b}
    frames = clips["a"][0].shape[1]
    use_fd = frames >= offline.CLIP_FRAMES and clips["b"][0].shape[1] >= offline.CLIP_FRAMES
    encoder = encoder or (offline.load_encoder() if use_fd else None)
    feats = {}
    if use_fd:
        for k in ("a", "b"):
            feats[k] = offline.embed(clips[k], encoder)[0]
    n = {k: sum(len(b) for b in v) for k, v in clips.items()}
    out = {}
    for direction, (ab, src, tgt) in NAMES.items():
        translated = [np.asarray(translate(b, direction), np.float32) for b in clips[src]]
        versus = f"{n[src]} clips vs {n[tgt]} real clips of {tgt.upper()}"
        if use_fd:
            enc = "offline encoder FD (128-d, first 16 frames, 32x32 luma)"
            fake = offline.embed(translated, encoder)[0]
            out[f"fd_{ab}"] = (
                frechet_distance(feats[tgt], fake),
                f"{enc}; {src.upper()}->{tgt.upper()} {versus}",
            )
            out[f"fd_{ab}_identity"] = (
                frechet_distance(feats[tgt], feats[src]),
                f"{enc}; untranslated {src.upper()} {versus}",
            )
            if refs[tgt] is not None:
                ref = offline.embed(_batches(refs[tgt], f"reference_{tgt}"), encoder)[0]
                out[f"fd_{tgt}_floor"] = (
                    frechet_distance(feats[tgt], ref),
                    f"{enc}; a second draw of real {tgt.upper()} {versus}",
                )
        warp, own = [], []
        for source, result in zip(clips[src], translated, strict=True):
            flow = optical_flow(source, flow_method, "backward")
            warp.append(np.asarray(warping_error(result, flow)))
            own.append(np.asarray(warping_error(source, flow)))
        what = f"warping error on [0, 1] under the source's {flow_method} backward flow"
        out[f"warp_{ab}"] = (
            float(np.mean(np.concatenate(warp))),
            f"{what}; {src.upper()}->{tgt.upper()}",
        )
        out[f"warp_{src}_source"] = (
            float(np.mean(np.concatenate(own))),
            f"{what}; {src.upper()} itself",
        )
    return out

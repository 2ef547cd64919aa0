"""What a trained generator exposes to TF Serving: named SavedModel signatures.

``serving_default`` maps ``z`` float32 ``[None, latent_dim]`` to ``video``
float32 ``[None, T, H, W, C]`` in [-1, 1], sampled with the EMA weights.
``generate_uint8`` returns the same clips as uint8 pixels for clients that
want images. TF Serving cannot leave a signature input out, so each use gets
its own signature.
"""

import os

import keras
import tensorflow as tf


def _ema_video(gan, z):
    return gan.generate(z, use_ema=True)


def export_saved_model(gan, path):
    """Writes a SavedModel of ``gan``'s EMA generator with named signatures.

    Args:
        gan: a ``VideoGAN`` (unconditional).
        path: the version directory to write, e.g. ``models/vgan/1``.

    Returns:
        ``path``.
    """
    if getattr(gan, "conditional", False):
        raise ValueError("export_saved_model: conditional models need a label signature (not yet)")
    archive = keras.export.ExportArchive()
    archive.track(gan.ema_generator)
    spec = tf.TensorSpec((None, gan.latent_dim), tf.float32, name="z")

    def video(z):
        return {"video": tf.cast(_ema_video(gan, z), tf.float32)}

    def video_uint8(z):
        v = tf.cast(_ema_video(gan, z), tf.float32)
        return {
            "video": tf.cast(tf.round((tf.clip_by_value(v, -1.0, 1.0) + 1.0) * 127.5), tf.uint8)
        }

    archive.add_endpoint("serving_default", video, input_signature=[spec])
    archive.add_endpoint("generate_uint8", video_uint8, input_signature=[spec])
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    archive.write_out(path, verbose=False)
    return path

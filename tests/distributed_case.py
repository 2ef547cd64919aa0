"""The model and batch shared by the distribution tests (one step, fixed weights and data)."""

import keras
import numpy as np

from keras_vgan.engine import VideoGAN
from keras_vgan.models import VGANDiscriminator, VGANGenerator


def make_gan():
    keras.utils.set_random_seed(5)
    g = VGANGenerator(latent_dim=8, frames=4, size=8, channels=1, widths=(16, 8))
    d = VGANDiscriminator(frames=4, size=8, channels=1, widths=(8, 16))
    gan = VideoGAN(g, d, seed=5, ema_decay=0.9)
    gan.compile(mask_l1=0.1)
    return gan


def global_batch(n=8):
    return np.random.default_rng(4).uniform(-1, 1, (n, 4, 8, 8, 1)).astype("float32")

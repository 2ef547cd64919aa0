"""keras_vgan: generative adversarial networks for video in Keras 3 / TensorFlow."""

from keras_vgan import data, losses, models, video_io
from keras_vgan.engine import VideoGAN
from keras_vgan.models import VGANDiscriminator, VGANGenerator
from keras_vgan.presets import PRESETS, TrainConfig, build_gan, get_preset

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "TrainConfig",
    "VGANDiscriminator",
    "VGANGenerator",
    "VideoGAN",
    "build_gan",
    "data",
    "get_preset",
    "losses",
    "models",
    "video_io",
]

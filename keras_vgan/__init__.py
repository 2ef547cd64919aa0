"""keras_vgan: generative adversarial networks for video in Keras 3 / TensorFlow."""

# Before anything imports TensorFlow: oneDNN on for x86 CPUs without AVX-512,
# where TensorFlow leaves it off and 3D convolutions run ~100x slower
# (keras_vgan/runtime.py). A user's own TF_ENABLE_ONEDNN_OPTS is kept.
from keras_vgan import runtime  # noqa: I001  (must come first)

runtime.enable_onednn()

from keras_vgan import data, losses, models, registry, video_io  # noqa: E402
from keras_vgan.builders import build_gan, build_train_dataset  # noqa: E402
from keras_vgan.config import TrainConfig, validate_config  # noqa: E402
from keras_vgan.engine import VideoGAN  # noqa: E402
from keras_vgan.models import VGANDiscriminator, VGANGenerator  # noqa: E402
from keras_vgan.presets import PRESETS, get_preset  # noqa: E402
from keras_vgan.tasks import VideoTaskGAN  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "TrainConfig",
    "VGANDiscriminator",
    "VGANGenerator",
    "VideoGAN",
    "VideoTaskGAN",
    "build_gan",
    "build_train_dataset",
    "data",
    "get_preset",
    "losses",
    "models",
    "registry",
    "runtime",
    "validate_config",
    "video_io",
]

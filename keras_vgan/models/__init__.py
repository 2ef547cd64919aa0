"""Generator and discriminator networks, one file per architecture family."""

from keras_vgan.models.conditional_vgan import (
    ConditionalVGANDiscriminator,
    ConditionalVGANGenerator,
)
from keras_vgan.models.frame_gan import (
    FrameDiscriminator,
    FrameGenerator,
    ImageDecoder,
    ImageEncoder,
)
from keras_vgan.models.mocogan import MoCoGANDiscriminator, MoCoGANGenerator
from keras_vgan.models.tgan import TGANDiscriminator, TGANGenerator, VideoEncoder
from keras_vgan.models.vgan import VGANDiscriminator, VGANGenerator, check_geometry

__all__ = [
    "ConditionalVGANDiscriminator",
    "ConditionalVGANGenerator",
    "FrameDiscriminator",
    "FrameGenerator",
    "ImageDecoder",
    "ImageEncoder",
    "MoCoGANDiscriminator",
    "MoCoGANGenerator",
    "TGANDiscriminator",
    "TGANGenerator",
    "VGANDiscriminator",
    "VGANGenerator",
    "VideoEncoder",
    "check_geometry",
]

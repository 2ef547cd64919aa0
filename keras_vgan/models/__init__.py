"""Generator and discriminator networks, one file per architecture family."""

from keras_vgan.models.conditional_vgan import (
    ConditionalVGANDiscriminator,
    ConditionalVGANGenerator,
)
from keras_vgan.models.enhancement import UNet3D, VideoEnhancer
from keras_vgan.models.frame_gan import (
    FrameDiscriminator,
    FrameGenerator,
    ImageDecoder,
    ImageEncoder,
)
from keras_vgan.models.interpolation import FrameInterpolator, linear_blend
from keras_vgan.models.mocogan import MoCoGANDiscriminator, MoCoGANGenerator
from keras_vgan.models.prediction import (
    ClipDiscriminator,
    Conv3DPredictor,
    ConvLSTMCell,
    ConvLSTMPredictor,
    copy_last_frame,
)
from keras_vgan.models.tgan import TGANDiscriminator, TGANGenerator, VideoEncoder
from keras_vgan.models.translation import TranslationDiscriminator, TranslationGenerator
from keras_vgan.models.vgan import VGANDiscriminator, VGANGenerator, check_geometry

__all__ = [
    "ClipDiscriminator",
    "FrameInterpolator",
    "UNet3D",
    "VideoEnhancer",
    "linear_blend",
    "Conv3DPredictor",
    "ConvLSTMCell",
    "ConvLSTMPredictor",
    "copy_last_frame",
    "ConditionalVGANDiscriminator",
    "ConditionalVGANGenerator",
    "FrameDiscriminator",
    "FrameGenerator",
    "ImageDecoder",
    "ImageEncoder",
    "MoCoGANDiscriminator",
    "MoCoGANGenerator",
    "TranslationDiscriminator",
    "TranslationGenerator",
    "TGANDiscriminator",
    "TGANGenerator",
    "VGANDiscriminator",
    "VGANGenerator",
    "VideoEncoder",
    "check_geometry",
]

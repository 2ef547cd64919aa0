"""Generator and discriminator networks, one file per architecture family."""

from keras_vgan.models.vgan import VGANDiscriminator, VGANGenerator, check_geometry

__all__ = ["VGANDiscriminator", "VGANGenerator", "check_geometry"]

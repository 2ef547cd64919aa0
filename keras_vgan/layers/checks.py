"""Argument checks shared by every layer and model: one-line ValueErrors naming the value.

Two wordings of the pyramid check exist on purpose: ``check_size`` /
``check_geometry`` speak of the depth of a generator pyramid ("cannot be
produced by a depth-d network"), ``check_frame_size`` of the levels an encoder
halves a frame through (the task models); the programs print both verbatim.
"""

NORMS = ("batch", "layer", "none")
# Discriminators may also spectrally normalise every weight (Miyato et al. 2018,
# keras.layers.SpectralNormalization) instead of normalising activations.
D_NORMS = NORMS + ("spectral",)


def check_positive(**values):
    """Every value must be a positive ``int`` (not a bool)."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")


# How a generator doubles its resolution: "transpose", a stride-2 transposed convolution
# (DCGAN's); "resize", nearest-neighbour x2 then a 3-wide stride-1 convolution, which cannot
# draw the transposed convolution's checkerboard (Odena, Dumoulin & Olah, Distill 2016).
UPSAMPLING = ("transpose", "resize")


def check_upsample(upsample, name="upsample"):
    """``upsample`` if it is one of ``UPSAMPLING``."""
    return check_norm(upsample, UPSAMPLING, name)


def check_norm(norm, allowed=NORMS, name="norm"):
    """``norm`` if it is one of ``allowed``."""
    if norm not in allowed:
        raise ValueError(f"{name}={norm!r} is not one of {', '.join(allowed)}")
    return norm


def check_size(size, depth, name="size", examples=(2, 4)):
    """``size`` must be a positive multiple of ``2**depth`` (a depth-level x2 pyramid).

    ``examples``: the multiples of ``2**depth`` the message suggests.
    """
    check_positive(**{name: size}, depth=depth)
    step = 2**depth
    if size % step:
        raise ValueError(
            f"{name}={size} cannot be produced by a depth-{depth} network: it must be a "
            f"multiple of 2**depth={step} (e.g. {examples[0] * step}, {examples[1] * step})"
        )


def check_geometry(frames, size, depth, channels=None):
    """Checks that a ``depth``-level x2 pyramid (in time and space) can produce ``frames`` x ``size``.

    Raises:
        ValueError: one line naming the bad value and what is allowed.
    """
    check_positive(frames=frames, size=size, depth=depth)
    if channels is not None:
        check_positive(channels=channels)
    check_size(frames, depth, name="frames", examples=(1, 2))
    check_size(size, depth, examples=(2, 4))


def check_frame_size(size, levels, name="size"):
    """``size`` must be a positive multiple of ``2**levels``; one-line ValueError otherwise."""
    check_positive(**{name: size})
    if size % 2**levels:
        raise ValueError(
            f"{name}={size} must be a multiple of 2**{levels}={2**levels} "
            f"(the network halves it {levels} times)"
        )


def check_widths(widths):
    """``widths`` as a non-empty tuple of ints (one per pyramid level)."""
    widths = tuple(int(w) for w in widths)
    if not widths:
        raise ValueError("widths must name at least one level, e.g. (16, 32)")
    return widths

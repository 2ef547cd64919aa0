"""From a checked ``TrainConfig`` to what a run trains: networks, the compiled model, data.

Everything here is driven by the model registry (``keras_vgan.registry``): a
family's ``build`` makes its networks, its ``task`` says which engine trains
them (``engine.VideoGAN`` for a GAN, ``tasks.VideoTaskGAN`` for a task) and which
``(inputs, targets)`` pairs it learns from. Check the config first
(``config.validate_config``, once per run: it opens the data) and pass the
``RunData`` it returns to the data builders, which otherwise open the data
themselves. ``build_gan`` and ``build_train_dataset`` are what a library user
calls to reproduce a run in a notebook.
"""

import dataclasses

import keras

import keras_vgan.models  # noqa: F401  (every family registers itself)
from keras_vgan import data as data_lib
from keras_vgan import motion
from keras_vgan.config import DATA, frames_not_judged, open_data
from keras_vgan.data import pairs
from keras_vgan.engine import VideoGAN
from keras_vgan.layers.frames import DualDiscriminator
from keras_vgan.motion.consistency import FlowTranslationGAN
from keras_vgan.pixel_models import VideoPixelModel  # noqa: F401  (the VPN's engine)
from keras_vgan.tasks import VideoTaskGAN
from keras_vgan.token_models import TokenModel  # noqa: F401  (the token models' engine)
from keras_vgan.tokenizer import VideoTokenizer  # noqa: F401  (the tokenizer's engine)
from keras_vgan.variational import VideoVAE  # noqa: F401  (the VAE families' engine)


def build_networks(config):
    """The ``(generator, discriminator)`` of a config's ``model`` (not checked here).

    With ``d_motion`` the family's discriminator is built for the clip's channels plus
    the motion's (``motion.motion_channels``) and wrapped in ``motion.MotionDiscriminator``,
    which joins them; with ``d_frames`` a frame discriminator is added next to it
    (``layers.frames.DualDiscriminator``): every video GAN family gets both options
    from its own ``build``.
    """
    generator, discriminator = config.family.build(config)
    if config.d_motion:
        wide = motion.motion_channels(config.channels, config.d_motion)
        _, discriminator = config.family.build(dataclasses.replace(config, channels=wide))
        discriminator = motion.MotionDiscriminator(discriminator, config.d_motion, name="motion_d")
    if config.d_frames:  # outermost: the frame discriminator sees the clip's own frames
        discriminator = DualDiscriminator(
            discriminator,
            frames=config.frames,
            size=config.size,
            channels=config.channels,
            widths=config.widths(finest_first=True),
            norm=config.d_norm,
            image_frames=config.d_frames,
            seed=config.seed,
            skip=frames_not_judged(config),
            name="dual_d",
        )
    return generator, discriminator


def learning_rate(config, lr):
    """Peak learning rate ``lr`` under the config's ``lr_schedule`` over the run's steps.

    ``"constant"``: ``lr``; ``"cosine"``: ``keras.optimizers.schedules.CosineDecay``
    from ``lr`` to 0 over ``epochs * steps_per_epoch`` steps; ``"onecycle"`` (Smith &
    Topin 2019, as OpenSTL trains SimVP and TAU): a linear warm-up from ``lr / 25`` to
    ``lr`` over the first 30% of the steps, then a cosine decay to ``lr / 25e4``
    (PyTorch's ``OneCycleLR`` defaults), one ``CosineDecay`` with warm-up.
    """
    total = max(int(config.epochs) * int(config.steps_per_epoch), 1)
    schedules = keras.optimizers.schedules
    if config.lr_schedule == "cosine":
        return schedules.CosineDecay(lr, decay_steps=total, alpha=0.0)
    if config.lr_schedule == "onecycle":
        warmup = max(int(0.3 * total), 1)
        return schedules.CosineDecay(
            lr / 25.0,
            decay_steps=max(total - warmup, 1),
            alpha=1.0 / 25e4,  # a fraction of the peak: lr / 25e4 at the end
            warmup_target=lr,
            warmup_steps=warmup,
        )
    return lr


def adam_optimizers(config):
    """The config's two Adam optimizers, as ``compile`` keywords (build inside the scope),
    each with the config's ``lr_schedule`` (``learning_rate``)."""
    betas = dict(beta_1=config.beta_1, beta_2=config.beta_2)
    return dict(
        d_optimizer=keras.optimizers.Adam(
            learning_rate(config, config.d_lr), name="d_adam", **betas
        ),
        g_optimizer=keras.optimizers.Adam(
            learning_rate(config, config.g_lr), name="g_adam", **betas
        ),
    )


def build_gan(config):
    """Builds and compiles the model of a checked config (call inside a strategy scope).

    A GAN family gives an ``engine.VideoGAN``, a task family a ``tasks.VideoTaskGAN``,
    a family with its own engine what its ``build_model`` makes of its networks.
    """
    family = config.family
    networks = build_networks(config)
    if family.build_model is not None:
        return family.build_model(config, networks)
    generator, discriminator = networks
    if family.task:
        engine, options, weights = VideoTaskGAN, {}, {}
        if config.flow_weight:  # vid2vid's flow-warped temporal term: its own engine
            engine = FlowTranslationGAN
            options, weights = (
                dict(flow_method=config.flow_method),
                dict(flow_weight=config.flow_weight),
            )
        gan = engine(
            generator,
            discriminator,
            condition=family.condition,
            ema_decay=config.ema_decay,
            seed=config.seed,
            name=f"{config.model}_task",
            **options,
        )
        gan.compile(
            **weights,
            **adam_optimizers(config),
            loss=config.loss,
            adv_weight=config.adv_weight,
            l1_weight=config.l1_weight,
            l2_weight=config.l2_weight,
            temporal_weight=config.temporal_weight,
            r1_gamma=config.r1_gamma,
            dd_weight=config.dd_weight,
            ssim_weight=config.ssim_weight,
        )
        return gan
    gan = VideoGAN(
        generator,
        discriminator,
        d_steps=config.d_steps,
        ema_decay=config.ema_decay,
        seed=config.seed,
        conditional=config.num_classes > 0,
        timed=config.sparse_frames > 0,
        name=f"{config.model}_gan",
    )
    gan.compile(
        **adam_optimizers(config),
        loss=config.loss,
        gp_weight=config.gp_weight,
        r1_gamma=config.r1_gamma,
        mask_l1=config.mask_l1,
        augment=config.augment,
        r1_interval=config.r1_interval,
    )
    return gan


def build_train_dataset(config, start_step=0, data=None):
    """The infinite training stream of a config, batched, starting at ``start_step``.

    Clip ``i`` of the built-in data is a pure function of ``(seed, i)``, so a
    run resumed at step ``s`` continues with clip ``s * batch_size``. Data on
    disk (a path or ``tfds:NAME``) is cut into clips of the config's frames and
    size, reshuffled each epoch from ``(seed, epoch)``; a resumed run skips the
    clips already used, which continues the same stream while the files are
    unchanged and none fails to decode after the start-up probe.

    Args:
        config: a checked ``TrainConfig``.
        start_step: resume the stream at this training step.
        data: the ``RunData`` of ``config.validate_config`` (opened here if None).
    """
    if config.family.train_data is not None:  # e.g. (clips_a, clips_b) of two domains
        return config.family.train_data(config, start_step=start_step, data=data)
    if config.family.task:
        # (inputs, targets); (context, future, labels) for a conditional VAE
        return build_task_pairs(
            config, start_step=start_step, data=data, labels=config.num_classes > 0
        )
    start_index = start_step * config.batch_size
    if config.data not in DATA:
        data = data or open_data(config)
        clips = data.source.dataset(
            batch_size=config.batch_size,
            seed=config.seed,
            start_index=start_index,
            drop_remainder=True,
        )
        return sparse_batches(config, clips, start_step)
    kwargs = dict(
        frames=config.data_frames(),
        size=config.size,
        batch_size=config.batch_size,
        seed=config.seed,
        start_index=start_index,
    )
    if config.data == "shapes":
        kwargs["channels"] = config.channels
    if config.num_classes:
        kwargs["return_labels"] = True  # (clips, labels) batches for conditional models
    return sparse_batches(config, data_lib.builtin_dataset(config.data, **kwargs), start_step)


def sparse_batches(config, clips, start_step=0):
    """A sparse-frame config's ``(frames, timestamps[, labels])`` batches of ``clips``
    (``data.sparse_frames``: K of each clip's ``data_frames()``); ``clips`` otherwise."""
    if not config.sparse_frames:
        return clips
    return data_lib.sparse_frames(
        clips, config.sparse_frames, seed=config.seed, start_batch=start_step
    )


def build_task_pairs(config, start_step=0, seed=None, split="train", num_clips=None,
                     batch_size=None, data=None, labels=False):  # fmt: skip
    """``(inputs, targets)`` batches of a task config.

    Args:
        config: a task family's checked ``TrainConfig``.
        start_step: resume the stream at this training step.
        seed: another seed for held-out clips (default: the config's).
        split: built-in Moving MNIST digits: ``"train"``, or ``"test"`` (held out).
        num_clips: a finite number of clips; None = infinite.
        batch_size: default the config's.
        data: the ``RunData`` of ``config.validate_config`` (opened here if None).
        labels: ``(inputs, targets, labels)`` triples with the label of each clip
            (``config.labels``: its class or direction; built-in data, prediction).
    """
    task = config.family.task
    batch_size = batch_size or config.batch_size
    seed = config.seed if seed is None else seed
    start_index = start_step * batch_size
    pair_options = dict(
        context_frames=config.context_frames,
        stride=config.key_stride or None,
        degrade=config.degrade,
    )
    if labels:
        return _labelled_pairs(config, batch_size, seed, split, num_clips, start_index)
    if config.data in DATA:
        return pairs.builtin_pairs(
            task,
            config.data,
            frames=config.frames,
            size=config.size,
            channels=config.channels,
            batch_size=batch_size,
            seed=seed,
            split=split,
            num_clips=num_clips,
            start_index=start_index,
            **pair_options,
        )
    data = data or open_data(config)
    if data.paired:
        ds = pairs.zip_sources(*data.paired, batch_size=batch_size, seed=seed,
                               start_index=start_index)  # fmt: skip
    else:
        clips = data.source.dataset(
            batch_size=batch_size, seed=seed, start_index=start_index, drop_remainder=True
        )
        ds = pairs.make_pairs(
            task, clips, seed=seed, start_batch=start_index // batch_size, **pair_options
        )
    return ds.take(-(-num_clips // batch_size)) if num_clips else ds


def _labelled_pairs(config, batch_size, seed, split, num_clips, start_index):
    """``(context, future, labels)`` of built-in clips: the prediction pairs of
    ``pairs.builtin_pairs`` (the same clips) with each clip's label."""
    if config.data not in DATA or config.family.task != "prediction":
        raise ValueError(
            f"labelled pairs come from built-in data for prediction, not data={config.data!r} "
            f"and task={config.family.task!r}"
        )
    kwargs = dict(
        frames=config.frames,
        size=config.size,
        batch_size=batch_size,
        seed=seed,
        num_clips=num_clips,
        start_index=start_index,
        drop_remainder=num_clips is None,
        return_labels="direction" if config.labels == "direction" else True,
    )
    if config.data == "moving_mnist":
        kwargs["split"] = split
    else:
        kwargs["channels"] = config.channels
    k = config.context_frames
    clips = data_lib.builtin_dataset(config.data, **kwargs)
    return clips.map(lambda x, y: (x[:, :k], x[:, k:], y))

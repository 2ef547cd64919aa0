"""The masked token family: a VideoBERT-style bidirectional transformer over a video's
tokens, trained and decoded as MaskGIT.

* VideoBERT (Sun et al., ICCV 2019) turns video into visual tokens and models them with
  BERT: a bidirectional transformer that predicts masked tokens from the others. Here the
  tokens are a VQ-VAE's codes of a clip (``keras_vgan.models.vqvae``), ``[B, t, h, w]``
  flattened row-major, with factorised 3D position codes and a class token in front
  (``layers.transformer``).
* MaskGIT (Chang et al., CVPR 2022) trains it on masks of every ratio: per clip a ratio
  ``gamma(r) = cos(pi r / 2)``, ``r ~ U(0, 1)`` (the cosine schedule), of the tokens is
  replaced by the mask id, and the cross-entropy is taken on the masked positions only.
  It decodes by iterative parallel decoding: start from all masked; at step ``s`` of
  ``S`` sample every masked position (top-k / temperature), keep the
  ``N (1 - gamma((s + 1) / S))`` most confident of them (confidence: the log-probability
  of the sampled token plus Gumbel noise of temperature ``choice_temperature * (1 - (s +
  1) / S)``, annealed to 0), re-mask the rest; after ``S`` steps every token is sampled.
  The loop is a ``tf.while_loop`` of exactly ``S`` steps.

Uses: unconditional clips (all tokens masked at the start); prediction from context
frames (the context's tokens are given, never masked, and stay fixed through decoding;
training keeps them visible in a share ``context_prob`` of the clips so the model sees
the task); class conditioning (``num_classes > 0``: the class token is the label's).

Its masked cross-entropy is no likelihood (the masking weights are not a bound's), so
the engine reports it as ``loss`` and gives no NLL for this family.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.sampling import (
    check_sampling,
    gumbel_from_uniform,
    log_prob_of,
    sample_categorical,
)
from keras_vgan.layers.transformer import TokenTransformer
from keras_vgan.models.common import token_family

# A confidence no sampled token reaches: the given (context) tokens are never re-masked.
_KNOWN = 1e9


def mask_schedule(ratio):
    """MaskGIT's cosine schedule: the share of tokens masked at ``ratio`` in [0, 1]."""
    return ops.cos(0.5 * math.pi * ratio)


@keras.saving.register_keras_serializable(package="keras_vgan")
class MaskGITTransformer(TokenTransformer):
    """A bidirectional masked-token transformer with MaskGIT decoding; see the module.

    Args:
        grid, vocab_size, dim, depth, heads, mlp_ratio, dropout, num_classes, frames,
            size, channels, context_frames: as ``layers.transformer.TokenTransformer``.
        decode_steps: ``S``, the decoding steps.
        choice_temperature: the Gumbel temperature of the confidences at the start
            (MaskGIT's 4.5), annealed linearly to 0.
        context_prob: the share of training clips whose context tokens stay visible.

    Call: ``tokens`` int ``[B, L]`` (the mask id ``vocab_size`` where masked) ->
    logits ``[B, L, V]``.
    """

    likelihood = False  # the masked cross-entropy is not an NLL

    def __init__(self, grid, vocab_size, dim=128, depth=4, heads=4, mlp_ratio=4, dropout=0.0,
                 num_classes=0, frames=16, size=32, channels=1, context_frames=0,
                 decode_steps=8, choice_temperature=4.5, context_prob=0.3,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self._setup(grid, vocab_size, dim, depth, heads, mlp_ratio, dropout, num_classes,
                    frames, size, channels, context_frames, extra_tokens=1)  # fmt: skip
        if isinstance(decode_steps, bool) or not isinstance(decode_steps, int) or decode_steps < 1:
            raise ValueError(f"decode_steps={decode_steps!r} must be a positive integer")
        if not float(choice_temperature) >= 0:
            raise ValueError(f"choice_temperature={choice_temperature!r} must be >= 0")
        if not 0.0 <= float(context_prob) <= 1.0:
            raise ValueError(f"context_prob={context_prob!r} must be in [0, 1]")
        self.decode_steps = int(decode_steps)
        self.choice_temperature = float(choice_temperature)
        self.context_prob = float(context_prob)
        self.build()

    @property
    def mask_id(self):
        return self.vocab_size

    @property
    def noise_size(self):
        """Uniforms of one sample: per step, one to sample and one (Gumbel) to rank each token."""
        return 2 * self.decode_steps * self.length

    corrupt_noise_size = property(lambda self: self.length + 2)

    def call(self, tokens, labels=None, training=False):
        b = ops.shape(tokens)[0]
        x = self.positions(self.token_embedding(tokens))
        x = ops.concatenate([self.start_code(labels, b), x], axis=1)  # the class token first
        return self.body(x, training=training)[:, 1:]

    # ------------------------------------------------------------ training
    def corrupt(self, tokens, noise, context_tokens=0):
        """MaskGIT's training input: ``(inputs, weights)`` for ``tokens`` ``[B, L]``.

        ``noise`` uniform ``[B, L + 2]``: the ratio draw ``r``, the context coin and a
        score per token. ``ceil(gamma(r) * N)`` of the ``N`` maskable tokens (all, or
        those after the first ``context_tokens`` in a ``context_prob`` share of the
        clips) are masked: those of the lowest scores. ``weights`` is 1 where masked.
        """
        length = self.length
        r, coin, scores = noise[:, 0], noise[:, 1], noise[:, 2:]
        keep_context = (coin < self.context_prob) & (context_tokens > 0)
        maskable = length - ops.where(keep_context, context_tokens, 0)
        n = ops.ceil(mask_schedule(r) * ops.cast(maskable, "float32"))
        n = ops.clip(ops.cast(n, "int32"), 1, maskable)
        protected = keep_context[:, None] & (ops.arange(length) < context_tokens)[None]
        scores = ops.where(protected, 2.0, scores)  # above every uniform: never masked
        cut = ops.take_along_axis(ops.sort(scores, axis=-1), (n - 1)[:, None], axis=-1)
        masked = scores <= cut
        inputs = ops.where(masked, self.mask_id, ops.cast(tokens, "int32"))
        return inputs, ops.cast(masked, "float32")

    # ------------------------------------------------------------ decoding
    def sample(self, u, labels=None, context=None, top_k=0, temperature=1.0):
        """Iterative parallel decoding: tokens ``[B, L]`` from uniforms ``u`` ``[B,
        noise_size]`` (``context``: int ``[B, n]``, the first ``n`` tokens, kept)."""
        check_sampling(top_k, temperature)
        length, steps = self.length, self.decode_steps
        b = ops.shape(u)[0]
        u = ops.reshape(ops.cast(u, "float32"), (b, steps, 2, length))
        masks = ops.full((b, length), self.mask_id, "int32")
        if context is None:
            tokens, unknown = masks, length
        else:
            self.check_tokens(context, "context tokens", context.shape[1])
            n = context.shape[1]
            tokens = ops.concatenate([ops.cast(context, "int32"), masks[:, n:]], axis=1)
            unknown = length - n
        choice = self.choice_temperature

        def body(s, tokens, sampled):
            logits = self(tokens, labels=labels)
            draw = tf.gather(u, s, axis=1)  # [B, 2, L]
            known = tokens != self.mask_id
            sampled = ops.where(known, tokens, sample_categorical(logits, draw[:, 0], top_k,
                                                                  temperature))  # fmt: skip
            ratio = ops.cast(s + 1, "float32") / steps
            # Tokens still masked after this step (MaskGIT: at least 1, fewer than now).
            keep_masked = ops.floor(unknown * mask_schedule(ratio))
            still = ops.sum(ops.cast(~known, "int32"), axis=1)
            keep_masked = ops.maximum(1, ops.minimum(still - 1, ops.cast(keep_masked, "int32")))
            confidence = log_prob_of(logits, sampled) + choice * (1.0 - ratio) * (
                gumbel_from_uniform(draw[:, 1])
            )
            confidence = ops.where(known, _KNOWN, confidence)
            cut = ops.take_along_axis(ops.sort(confidence, axis=-1), keep_masked[:, None], axis=-1)
            tokens = ops.where(confidence < cut, self.mask_id, sampled)
            return s + 1, tokens, sampled

        _, _, sampled = tf.while_loop(
            lambda s, *_: s < steps,
            body,
            (tf.constant(0), tokens, tokens),
            maximum_iterations=steps,
        )
        return sampled

    def get_config(self):
        config = super().get_config()
        config.update(self._base_config())
        config.update(
            decode_steps=self.decode_steps,
            choice_temperature=self.choice_temperature,
            context_prob=self.context_prob,
        )
        return config


# -------------------------------------------------------------- registration
def check_config(config):
    """The token families' checks (``token_models.check_token_config``: the tokenizer)."""
    from keras_vgan.token_models import check_token_config

    check_token_config(config)


def build_networks(config):
    """``(MaskGITTransformer, None)`` on the tokenizer's grid (``token_models``)."""
    from keras_vgan.token_models import build_transformer

    return build_transformer(MaskGITTransformer, config, decode_steps=config.decode_steps), None


registry.register(
    registry.ModelFamily(
        name="maskgit",
        build=build_networks,
        generators=(MaskGITTransformer,),
        **token_family(check_config),
    )
)

"""The autoregressive token family: a causal transformer over a video's flattened tokens
(VideoGPT, Yan et al. 2021: VPN's factorisation of the likelihood, over VQ-VAE codes).

The clip's tokens ``[B, t, h, w]`` (``keras_vgan.models.vqvae``) are flattened row-major
(time slowest) to ``x_1 .. x_L`` and modelled as ``p(x) = prod_i p(x_i | x_<i)``
(Video Pixel Networks factorise pixels the same way, Kalchbrenner et al. 2017). The
input of position ``i`` is the code of ``x_{i-1}`` (the class token, or a learned start
code, at ``i = 1``) plus the factorised 3D position code of ``i``; causal self-attention
(``layers.transformer.TransformerBlock``) makes logit ``i`` a function of ``x_<i`` only.
Trained with the cross-entropy of every token (teacher forcing): an exact NLL, in nats
per token (and per frame: times the tokens per frame).

Sampling is token by token with top-k / temperature (``layers.sampling``) in a
``tf.while_loop`` of exactly ``L`` steps, with a key/value cache per block
(``CachedMultiHeadAttention``): each step costs one position, not a pass over the
sequence. Prediction from context frames gives the first tokens: the loop writes them
instead of sampling (the cache reads them in the same pass). Class conditioning
(``num_classes > 0``): the start token is the label's.
"""

import keras
import tensorflow as tf
from keras import ops

from keras_vgan import registry
from keras_vgan.layers.sampling import check_sampling, sample_categorical
from keras_vgan.layers.transformer import TokenTransformer
from keras_vgan.models.common import token_family


@keras.saving.register_keras_serializable(package="keras_vgan")
class VideoGPTTransformer(TokenTransformer):
    """A causal token transformer with cached autoregressive sampling; see the module.

    Args:
        grid, vocab_size, dim, depth, heads, mlp_ratio, dropout, num_classes, frames,
            size, channels, context_frames: as ``layers.transformer.TokenTransformer``.

    Call: ``tokens`` int ``[B, L]`` -> logits ``[B, L, V]``; logit ``i`` predicts
    ``tokens[:, i]`` from ``tokens[:, :i]`` (and the label).
    """

    likelihood = True  # the cross-entropy of every token is the NLL of the clip's tokens
    corrupt_noise_size = 0

    def __init__(self, grid, vocab_size, dim=128, depth=4, heads=4, mlp_ratio=4, dropout=0.0,
                 num_classes=0, frames=16, size=32, channels=1, context_frames=0,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self._setup(grid, vocab_size, dim, depth, heads, mlp_ratio, dropout, num_classes,
                    frames, size, channels, context_frames)  # fmt: skip
        self.build()

    @property
    def noise_size(self):
        """One uniform per token."""
        return self.length

    def call(self, tokens, labels=None, training=False):
        b = ops.shape(tokens)[0]
        shifted = self.token_embedding(tokens[:, :-1])  # x_{i-1} feeds position i
        x = ops.concatenate([self.start_code(labels, b), shifted], axis=1)
        return self.body(self.positions(x), causal=True, training=training)

    def corrupt(self, tokens, noise, context_tokens=0):
        """Teacher forcing: the tokens themselves, every position weighted."""
        return ops.cast(tokens, "int32"), ops.ones(ops.shape(tokens), "float32")

    def sample(self, u, labels=None, context=None, top_k=0, temperature=1.0):
        """Tokens ``[B, L]`` drawn one at a time with uniforms ``u`` ``[B, L]`` (``context``:
        int ``[B, n]``, the first ``n`` tokens, written instead of drawn)."""
        check_sampling(top_k, temperature)
        length = self.length
        b = ops.shape(u)[0]
        u = ops.cast(ops.reshape(u, (b, length)), "float32")
        n = 0
        if context is not None:
            self.check_tokens(context, "context tokens", context.shape[1])
            n = context.shape[1]
            context = ops.cast(context, "int32")
        codes = self.positions.codes()  # [L, dim]
        where = ops.arange(length)

        def body(i, x, tokens, caches):
            h = x + ops.cast(tf.gather(codes, i), x.dtype)[None, None]
            mask = (where <= i)[None, None, :]  # itself and the positions before it
            new = []
            for block, cache in zip(self.blocks, caches, strict=True):
                h, cache = block.step(h, cache, i, mask)
                new.append(cache)
            logits = self.head(self.final_norm(h))[:, 0]
            token = sample_categorical(logits, tf.gather(u, i, axis=1), top_k, temperature)
            if n:
                given = tf.gather(context, ops.minimum(i, n - 1), axis=1)
                token = ops.where(i < n, given, token)
            tokens = ops.where(where[None] == i, token[:, None], tokens)
            return i + 1, self.token_embedding(token)[:, None], tokens, new

        start = (
            tf.constant(0),
            self.start_code(labels, b),
            ops.zeros((b, length), "int32"),
            [block.empty_cache(b, length) for block in self.blocks],
        )
        _, _, tokens, _ = tf.while_loop(
            lambda i, *_: i < length, body, start, maximum_iterations=length
        )
        return tokens

    def get_config(self):
        config = super().get_config()
        config.update(self._base_config())
        return config


# -------------------------------------------------------------- registration
def check_config(config):
    """The token families' checks (``token_models.check_token_config``: the tokenizer)."""
    from keras_vgan.token_models import check_token_config

    check_token_config(config)


def build_networks(config):
    """``(VideoGPTTransformer, None)`` on the tokenizer's grid (``token_models``)."""
    from keras_vgan.token_models import build_transformer

    return build_transformer(VideoGPTTransformer, config), None


registry.register(
    registry.ModelFamily(
        name="videogpt",
        build=build_networks,
        generators=(VideoGPTTransformer,),
        **token_family(check_config),
    )
)

"""What every command-line program shares: the flag parser, one-line errors, exit codes
and the quiet TensorFlow start.

The programs are ``python -m training`` (``training.cli``), ``training.evaluate``,
``training.evaluate_tasks``, ``training.frames``, ``python -m export`` (``export.cli``),
``export.client`` and ``python -m generate``. Each one:

* parses its flags with ``Parser``: a usage error is one line (no usage dump) and exit
  status ``EXIT_USAGE``;
* refuses bad input after parsing with ``parser.fail(message)``: the same one line;
* loads TensorFlow inside ``quiet_tensorflow()``, so that the user sees their own output
  and our one-line errors, not TensorFlow's native start-up chatter.

This module lives in the ``training`` package rather than in ``keras_vgan`` on purpose:
importing ``keras_vgan`` loads TensorFlow, which must happen inside ``quiet_tensorflow()``
(and after flag errors are refused, which then cost no TensorFlow start). It imports only
the standard library. ``setup.cfg`` installs ``training``, ``export`` and ``generate``
together, so ``export`` and ``generate`` import it from here.
"""

import argparse
import contextlib
import os
import sys

EXIT_OK = 0
EXIT_FAILED = 1  # the input was accepted but a step failed (a converter, a server)
EXIT_USAGE = 2  # bad flags or bad input: one line on stderr
EXIT_DIVERGED = 3  # training stopped on a non-finite loss
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as a shell reports it


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line and exit with ``EXIT_USAGE``."""

    def error(self, message):
        # One line, no usage dump: the user sees what was wrong and what is allowed.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def fail(self, message, code=EXIT_USAGE):
        """Prints ``PROG: error: message`` to stderr; returns ``code`` for ``main`` to return."""
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        return code

    def parse_or_status(self, argv=None):
        """``parse_args`` for a ``main`` that returns its status instead of exiting.

        Returns:
            ``(args, None)``, or ``(None, status)`` after a usage error (already printed,
            one line) or ``--help``.
        """
        try:
            return self.parse_args(argv), None
        except SystemExit as e:
            return None, e.code


@contextlib.contextmanager
def quiet_tensorflow():
    """Imports TensorFlow and initialises its devices with fd 2 sent to /dev/null.

    TensorFlow's C++ runtime writes informational lines (absl pre-init notice, oneDNN
    notice, missing-CUDA warnings) straight to file descriptor 2 while it is imported and
    while devices are first listed, before Python logging settings apply. Python
    exceptions are unaffected: they are printed after the descriptor is restored.
    ``KERAS_VGAN_VERBOSE_TF=1`` leaves fd 2 and TensorFlow's log level alone.

    keras_vgan is imported first: it turns oneDNN on (``keras_vgan.runtime``)
    before TensorFlow loads, unless the user set ``TF_ENABLE_ONEDNN_OPTS``.
    """
    if not os.environ.get("KERAS_VGAN_VERBOSE_TF"):
        # 3 hides TensorFlow's native ERROR lines too: with oneDNN on a CPU without
        # AVX-512 it logs "oneDNN supports DT_INT32 only on platforms with AVX-512" as an
        # error at the first op, though nothing is wrong. Real failures reach the user as
        # Python exceptions, which this does not touch.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ.get("KERAS_VGAN_VERBOSE_TF"):
        import keras_vgan  # noqa: F401  (oneDNN set-up before TensorFlow)

        yield
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras_vgan  # noqa: F401, I001  (oneDNN set-up before TensorFlow)
        import tensorflow as tf

        tf.config.list_physical_devices()
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)

"""Soak: train the main job's model for a long time and check that nothing grows.

Run by hand (never part of the test suite)::

    .venv/bin/python benchmarks/soak.py                 # an hour of the quick preset
    .venv/bin/python benchmarks/soak.py --minutes 3     # a short check that it works
    .venv/bin/python benchmarks/soak.py --data ~/videos --minutes 30   # data from disk

The run is ``keras_vgan.runs.train`` on a temporary run directory (``--keep DIR`` to
keep it), so it has the callbacks of a real run: checkpoints, sample files and
TensorBoard samples, TensorBoard scalars, the divergence check. A monitor callback is
added to ``fit``; it stops training after ``--minutes`` and samples, every
``--interval`` seconds:

* the resident memory (``VmRSS`` of ``/proc/self/status``; ``ru_maxrss`` elsewhere),
* the median step time of the steps since the last sample (a step is timed from
  Keras' batch begin to its batch end, which waits for the step's logged losses),
* open file descriptors and OS threads (a growing count points to writers or readers
  that are never closed),
* the 1-minute load average and this process's share of the CPUs: a step time that
  grows while the load grows is other processes, not this one (said in the verdict).

Each epoch's RSS change is split in two: during its steps (the train step, the
``tf.data`` pipeline, per-step summaries) and at its end (the epoch-end callbacks:
checkpoint, samples, TensorBoard epoch summaries). The verdict fits a line to RSS
over the second half of the run (MB per hour; the first half holds warm-up: tracing,
allocator growth, caches; a fitted rise under 10 MB is noise), compares the median
step time of the first and the last quarter, and names the part whose memory grew.
Exit status 1 when something grows, else 0.
"""

import argparse
import dataclasses
import os
import resource
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Thresholds of the verdict.
RSS_SLOPE_MB_PER_HOUR = 50.0  # second-half RSS trend above this: growing
STEP_TIME_RATIO = 1.15  # last-quarter / first-quarter median step time above this: slowing
RSS_NOISE_MB = 10.0  # fitted growth over the second half below this is allocator noise


def rss_mb():
    """Resident memory of this process in MB (VmRSS; peak RSS where /proc is absent)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def os_threads():
    """OS threads of this process (TensorFlow's pools included), or -1."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return threading.active_count()


def open_fds():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def linear_slope(xs, ys):
    """Least-squares slope of ys over xs (0 for fewer than two points)."""
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def make_monitor(keras, seconds, interval):
    class SoakMonitor(keras.callbacks.Callback):
        """Times steps, samples RSS / fds / threads, stops after ``seconds``."""

        def __init__(self):
            super().__init__()
            # (elapsed s, steps, rss MB, median step s, fds, threads, load, cpu share)
            self.samples = []
            self.epochs = []  # (epoch, rss at its first step, at its last step, after callbacks)
            self.step_times = []  # (elapsed s, step s)
            self._pending = []
            self._steps = 0
            self._t0 = None
            self._next = 0.0
            self._epoch_start_rss = None
            self._last_batch_rss = None

        def on_train_begin(self, logs=None):
            self._t0 = time.perf_counter()
            self._next = 0.0
            self._cpu = (time.process_time(), self._t0)
            self._sample()

        def on_epoch_begin(self, epoch, logs=None):
            rss = rss_mb()
            if self.epochs and self.epochs[-1][3] is None:
                e, first, last, _ = self.epochs[-1]
                self.epochs[-1] = (e, first, last, rss)  # after the epoch-end callbacks
            self.epochs.append((epoch, rss, None, None))

        def on_train_batch_begin(self, batch, logs=None):
            self._begin = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if logs:  # wait for the step: its logged values
                float(next(iter(logs.values())))
            now = time.perf_counter()
            step = now - self._begin
            self._steps += 1
            self._pending.append(step)
            elapsed = now - self._t0
            self.step_times.append((elapsed, step))
            e, first, _, after = self.epochs[-1]
            self.epochs[-1] = (e, first, rss_mb(), after)
            if elapsed >= self._next:
                self._sample()
            if elapsed >= seconds:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.epochs and self.epochs[-1][3] is None:
                e, first, last, _ = self.epochs[-1]
                self.epochs[-1] = (e, first, last, rss_mb())
            self._sample()

        def _sample(self):
            elapsed = time.perf_counter() - self._t0
            median = statistics.median(self._pending) if self._pending else float("nan")
            self._pending = []
            cpu, wall = time.process_time(), time.perf_counter()
            share = (cpu - self._cpu[0]) / max(1e-9, (wall - self._cpu[1]) * (os.cpu_count() or 1))
            self._cpu = (cpu, wall)
            self.samples.append(
                (elapsed, self._steps, rss_mb(), median, open_fds(), os_threads(),
                 os.getloadavg()[0], share)
            )  # fmt: skip
            self._next = elapsed + interval

    return SoakMonitor()


def print_table(samples):
    print(
        f"{'time':>8} {'steps':>7} {'RSS MB':>9} {'step ms':>9} {'fds':>5} {'threads':>7} "
        f"{'load':>6} {'cpu':>5}"
    )
    for elapsed, steps, rss, median, fds, threads, load, share in samples:
        ms = "-" if median != median else f"{median * 1000:.1f}"
        print(
            f"{elapsed / 60:>7.1f}m {steps:>7d} {rss:>9.1f} {ms:>9} {fds:>5d} {threads:>7d} "
            f"{load:>6.2f} {share:>5.0%}"
        )


def verdict(monitor, seconds):
    samples = [s for s in monitor.samples if s[1] > 0]
    lines = []
    grows = []
    if len(samples) < 4:
        return ["too few samples for a verdict (run longer or lower --interval)"], grows
    end = samples[-1][0]
    half = [s for s in samples if s[0] >= end / 2]
    slope = linear_slope([s[0] / 3600.0 for s in half], [s[2] for s in half])
    lines.append(
        f"RSS, second half: {half[0][2]:.1f} -> {half[-1][2]:.1f} MB, linear fit "
        f"{slope:+.1f} MB/hour ({len(half)} samples; threshold {RSS_SLOPE_MB_PER_HOUR:.0f})"
    )
    fitted = slope * (half[-1][0] - half[0][0]) / 3600.0
    if slope > RSS_SLOPE_MB_PER_HOUR and fitted <= RSS_NOISE_MB:
        lines.append(
            f"RSS: not counted as growth: the fit adds {fitted:.1f} MB over the second half, "
            f"within the {RSS_NOISE_MB:.0f} MB of allocator noise (run longer for a verdict)"
        )
        grows.append("memory?")  # undecided: too short to tell a trend from noise
    elif slope > RSS_SLOPE_MB_PER_HOUR:
        grows.append("memory")
    times = monitor.step_times[2:]  # the first steps trace the step function
    q = max(1, len(times) // 4)
    first = statistics.median(t for _, t in times[:q])
    last = statistics.median(t for _, t in times[-q:])
    ratio = last / first if first else float("nan")
    lines.append(
        f"step time, median of first vs last quarter: {first * 1000:.1f} -> "
        f"{last * 1000:.1f} ms (x{ratio:.2f}; threshold x{STEP_TIME_RATIO})"
    )
    quarter = max(1, len(samples) // 4)
    load_first = statistics.fmean(s[6] for s in samples[:quarter])
    load_last = statistics.fmean(s[6] for s in samples[-quarter:])
    cpus = os.cpu_count() or 1
    if ratio > STEP_TIME_RATIO:
        if load_last > cpus and load_last > 1.1 * load_first:
            lines.append(
                f"step time: not counted as growth: the load average rose from "
                f"{load_first:.1f} to {load_last:.1f} on {cpus} cores (other processes "
                "took the CPU); run again on a quiet machine"
            )
        else:
            grows.append("step time")
    fds = [s[4] for s in half]
    threads = [s[5] for s in half]
    lines.append(
        f"open fds, second half: {fds[0]} -> {fds[-1]}; threads: {threads[0]} -> {threads[-1]}"
    )
    # Where memory went, per epoch of the second half (the first epochs warm up).
    done = [e for e in monitor.epochs if None not in e]
    late = done[len(done) // 2 :]
    if late:
        in_steps = sum(last - first for _, first, last, _ in late)
        at_end = sum(after - last for _, _, last, after in late)
        lines.append(
            f"RSS change over the last {len(late)} epochs: {in_steps:+.1f} MB during steps "
            f"(train step, data pipeline, per-step summaries), {at_end:+.1f} MB at epoch ends "
            "(checkpoints, sample files, TensorBoard summaries)"
        )
        if "memory" in grows:
            part = (
                "the data pipeline or the train step (it grows during the steps)"
                if in_steps >= at_end
                else "the epoch-end callbacks: checkpoints, samples or summaries"
            )
            lines.append(f"what would leak: {part}")
    if fds[-1] > fds[0] + 2:
        grows.append("open files")
        lines.append("what would leak: file handles (a summary writer or video reader not closed)")
    if end < 0.9 * seconds:
        lines.append(f"note: training ended after {end / 60:.1f} of {seconds / 60:.1f} minutes")
    return lines, grows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long (default 60)")
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="seconds between samples (default: minutes * 60 / 20, between 5 and 120)",
    )
    parser.add_argument("--preset", default="quick", help="preset (default: quick, the main job)")
    parser.add_argument("--data", default=None, help="data instead of the preset's")
    parser.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        help="steps between checkpoints/samples (default: the preset's)",
    )
    parser.add_argument("--keep", default=None, metavar="DIR", help="keep the run directory here")
    args = parser.parse_args(argv)
    if not args.minutes > 0:
        parser.error(f"--minutes {args.minutes} must be > 0")
    seconds = args.minutes * 60.0
    interval = args.interval or min(120.0, max(5.0, seconds / 20.0))

    from training.program import quiet_tensorflow

    with quiet_tensorflow():
        import keras

        from keras_vgan import config as config_lib
        from keras_vgan import presets, runs, runtime

    print("runtime:")
    for line in runtime.format_runtime():
        print(f"  {line}")
    config = presets.get_preset(args.preset)
    overrides = {"epochs": 10**6}  # the monitor stops it
    if args.data:
        overrides["data"] = args.data
    if args.steps_per_epoch:
        overrides["steps_per_epoch"] = args.steps_per_epoch
    config = dataclasses.replace(config, **overrides)
    data = config_lib.validate_config(config)
    print(
        f"soak: preset {args.preset!r} (model {config.model}, data {config.data}, "
        f"{config.frames}x{config.size}x{config.size}x{config.channels}, batch "
        f"{config.batch_size}, {config.steps_per_epoch} steps per epoch), "
        f"{args.minutes:g} minutes, a sample every {interval:g} s",
        flush=True,
    )

    monitor = make_monitor(keras, seconds, interval)
    build_gan = runs.build_gan

    def build_with_monitor(cfg):
        gan = build_gan(cfg)
        fit = gan.fit

        def fit_with_monitor(*a, callbacks=(), **kw):
            return fit(*a, callbacks=[*callbacks, monitor], **kw)

        gan.fit = fit_with_monitor  # runs.train's own callbacks, plus the monitor
        return gan

    runs.build_gan = build_with_monitor
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        run_dir = args.keep or os.path.join(tmp, "run")
        os.makedirs(run_dir, exist_ok=True)
        started = time.perf_counter()
        result = runs.train(config, run_dir, verbose=0, data=data)
        wall = time.perf_counter() - started
        checkpoints = sorted(os.listdir(os.path.join(run_dir, "checkpoints")))
        samples_dir = os.path.join(run_dir, "samples")
        sample_files = len(os.listdir(samples_dir)) if os.path.isdir(samples_dir) else 0
    print(
        f"trained {result.steps_done} steps in {len(monitor.epochs)} epochs "
        f"({wall / 60:.1f} min with start-up and the final save); "
        f"{sample_files} sample files, checkpoints kept: {', '.join(checkpoints)}"
    )
    print()
    print_table(monitor.samples)
    print()
    lines, grows = verdict(monitor, seconds)
    for line in lines:
        print(line)
    undecided = [g.rstrip("?") for g in grows if g.endswith("?")]
    grows = [g for g in grows if not g.endswith("?")]
    if grows:
        print(f"verdict: GROWS ({', '.join(grows)})")
    elif undecided:
        print(
            f"verdict: step time stable; {', '.join(undecided)} rises at a rate above the "
            "threshold but by less than the noise: undecided, run longer (the default hour)"
        )
    else:
        print("verdict: stable (neither memory nor step time grows)")
    return 1 if grows else 0


if __name__ == "__main__":
    sys.exit(main())

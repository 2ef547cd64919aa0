"""The generate program: ``python -m generate`` (sample videos from any exported form)."""

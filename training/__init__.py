"""The training program: ``python -m training --preset NAME [flags]``."""

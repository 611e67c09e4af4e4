"""The suite bench: what users meet, on the whole suite (`make bench`; see run.py)."""

"""One module per measured area; `bench/run.py` imports every module here."""

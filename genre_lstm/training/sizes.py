"""The model sizes a user can pick when training their own genre (CLI --size, the app's Train tab)."""

MODEL_SIZES = {"small": {"units": [128, 128], "embed_dim": 64}, "medium": {"units": [256, 256], "embed_dim": 128}}

"""What a user training their own genre can pick or gets: model sizes (CLI --size, the app's Train tab) and how many parts."""

MODEL_SIZES = {"small": {"units": [128, 128], "embed_dim": 64}, "medium": {"units": [256, 256], "embed_dim": 128}}
UPLOAD_PARTS = 8  # uploaded music: the most parts (tracks by General MIDI role, drums included) learned

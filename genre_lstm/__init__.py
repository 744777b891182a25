"""genre-lstm."""

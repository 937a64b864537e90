"""rife_core."""

"""The contract between the engine and the reports: objectives, the trial record, the results table's
columns, storage URLs, files that survive a kill, content keys and JSON-lines caches.

``search``, ``experiments`` and ``reports`` import it; it imports neither torch nor the engine (Optuna only
inside the functions that read a study), so a dashboard can be rebuilt from a CSV anywhere.
"""

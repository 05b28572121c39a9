"""`make bench`: measured speed of the real stack (see scripts/bench/run.py).

Modules: client (socket.io chat clients), scenario (conversations, turn timing,
phases), stats (percentiles), processes (stacks on free ports, RSS), portal (page
timings, content-edit-to-chat), training (training times, baseline model), nlu
(cross-validation), machine (what it ran on), report (targets, Markdown).
"""

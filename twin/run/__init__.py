"""Run: compile a plant, drive the engine over its lanes, and hand back what it measured.

``simulate`` is the Python API (``simulate`` and ``simulate_batch``, the :class:`Result`);
``chunks`` splits lanes into chunks and worker processes; ``checkpoints`` keeps finished and
partial chunks so that an interrupted run resumes; ``trace`` records every event of one
replication for the viewer's replay.
"""

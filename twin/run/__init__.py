"""Run: compile a plant, drive the engine over its lanes, and hand back what it measured.

``simulate`` is the Python API (``simulate`` and ``simulate_batch``, the :class:`Result`);
``memory`` plans the memory of a run before it starts; ``targets`` puts the lanes' state on the
backend's device and launches the compiled kernels; ``driver`` advances the lanes in time
slices, growing what fills, checking for overload and deadlock, reporting progress and saving
checkpoints; ``chunks`` runs lanes in chunks of what memory holds; ``checkpoints`` keeps
finished and partial chunks so that an interrupted run resumes; ``trace`` records every event
of one replication for the viewer's replay.
"""

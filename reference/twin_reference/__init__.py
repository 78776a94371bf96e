"""twin's reference model: the plant semantics of docs/semantics.md, power.md, transport.md and
parts.md written out again in SimPy, sharing no code with twin's engine.

>>> from twin_reference import simpy_model
>>> reps = simpy_model.run(simpy_model.from_plant(plant), replications=8)  # doctest: +SKIP
"""

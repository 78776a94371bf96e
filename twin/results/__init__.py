"""Results: what the engine's final state says, in NumPy only.

``metrics`` turns a lane's final state into its per-replication figures and summarises them
across replications (means and 95% confidence intervals); ``report`` prints the tables and
writes the result files; ``plots`` draws the power charts (matplotlib, loaded only there).
"""

"""A checked spec to a plan: transpile once (and cache), estimates, sweeps, execution modes, dry runs, rehearsal cuts."""

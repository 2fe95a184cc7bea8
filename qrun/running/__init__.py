"""Running a plan: the runner (sessions and batches, deadline, order, seeds), PUB batching, sweeps, the minimize
loop, submissions and their read-back, and the events the runner reports."""

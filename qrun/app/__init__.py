"""The application: validate/plan/run/resume wired together, multiruns, the run lock and signals, shared commands."""

"""Job kinds as plug-ins: one file per kind (estimator, sampler, minimize), the protocol in kind.py, the registry in
registry.py. docs/contributing.md walks through adding one."""

"""Where circuits and observables come from: OpenQASM (scanned before parsing), Python sources, and exact references."""

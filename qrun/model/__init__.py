"""qrun's nouns, without I/O: option defaults in one place, and the plan that planning makes and running follows."""

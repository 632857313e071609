"""One audit run: options, planning, waivers, history, and the run itself."""

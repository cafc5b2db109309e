"""What every experiment shares: the Config → command line builder, the runs' parallel map and
resumable store, the input checks, and the data choice."""

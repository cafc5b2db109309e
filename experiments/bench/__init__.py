"""`make bench`: the speed tables, each beside its anchor in one run (medians, one thread): HVPs,
the exact Hessian, training steps and the critical-point finders."""

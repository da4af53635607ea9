"""tkern's benchmark suite: every fixed row against torch on the same device, in one short run.

    python -m bench [--quick] [--only NAME[,NAME]] [--budget SECONDS] [--json PATH] [--png DIR]
    python -m bench.readme [RESULTS.json]      # README's Performance section from the newest results
    python -m bench.plots RESULTS.json DIR     # redraw the size-sweep plots of a results file

Without a GPU the 'cuda' kernels run through Triton's interpreter at tiny sizes: the numbers are
meaningless there, but every row, check and file write runs, which is what the tests hold.
"""

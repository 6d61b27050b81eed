"""The only code that touches the operating system: file handle, allocator, commits, locks.

It knows nothing of HDF5: it moves bytes to addresses in a fixed order.
"""

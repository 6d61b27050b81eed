"""h5swmr: stream frames into HDF5 files in SWMR mode, without libhdf5."""

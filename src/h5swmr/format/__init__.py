"""Pure encoders and decoders of HDF5 structures: bytes in, bytes out, no I/O."""

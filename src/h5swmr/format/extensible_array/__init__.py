"""The extensible array that indexes the chunks of a dataset with one unlimited dimension.

Spec App. C / §VII.D; libhdf5 H5EApkg.h, H5EAhdr.c, H5EAiblock.c, H5EAsblock.c, H5EAdblock.c,
H5EAcache.c, H5Dearray.c.
"""

"""The pure core of pyinterlink: values in, values out, no I/O."""

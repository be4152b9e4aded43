"""`batch-calls`: the command line. Not part of any Lambda bundle."""

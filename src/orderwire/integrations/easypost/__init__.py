"""EasyPost: the signed tracker webhook and its tracker status table."""

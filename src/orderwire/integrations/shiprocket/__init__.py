"""Shiprocket: the tracking webhook, its status table, and the track-by-AWB API used for polling."""

"""AfterShip Tracking: the signed tracking webhook and its tag/subtag table."""

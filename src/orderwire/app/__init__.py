"""Use cases and durable work: the transaction boundaries between the web, the domain and the store."""

"""Jobs: the durable queue (the jobs table itself), status, history and the worker."""

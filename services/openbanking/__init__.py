"""UK Open Banking Read/Write v3.1.11 services: the code the landing zone's workload accounts run."""

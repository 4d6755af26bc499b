"""What app authors import: ``ShardingContext``, ``SimpleJob``, ``DataflowJob`` (built by the executor work)."""

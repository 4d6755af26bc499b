"""elasticjob-cloud: cron-triggered, sharded jobs on Mesos."""

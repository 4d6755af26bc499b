"""The executor that runs on Mesos agents (``elasticjob-cloud-executor``) and the job runner.

Nothing is imported here: the runner (``python -m elasticjob_cloud.executor.runner``) starts in
every job process and must stay light, and pymesos is imported by ``driver`` alone.
"""

"""The cron producer: writes every due fire of every enabled TRANSIENT job to the ready queue.

``schedule`` keeps the heap of next fire times and reloads changed jobs; ``firing`` decides and
writes each due fire; ``job_schedules`` holds the per-job schedule state and the records reported;
``service`` runs ``tick`` on the leader's producer thread.
"""
